import { RKConnectionError, RKError, RKInvalidInputError, RKTimeoutError } from './errors.js';
import { RKHttpError } from './http-errors.js';
import type { RetryBudgetOptions } from '../resilience/budget.js';
import type { RetryOptions } from './options.js';
import { whole } from './checks.js';
import { MAX_TIMER_MS } from '../resilience/clock.js';

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  maxRetryAfterMs: number;
  totalTimeoutMs: number;
}

export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 60_000,
  totalTimeoutMs: 30_000,
});

/** Deadline of each sendPem attempt (connect, headers and body) when `timeoutMs` is not set. */
export const DEFAULT_SEND_ATTEMPT_TIMEOUT_MS = 10_000;

/** Statuses that say "not now" rather than "not this": worth another attempt. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/**
 * Errors from before a connection existed: the request provably never left, so even a
 * state-changing POST may be sent again.
 */
const NEVER_LEFT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NONAME',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export function resolveRetryPolicy(operation: string, options: RetryOptions | false | undefined): RetryPolicy {
  if (options === false) return { ...DEFAULT_RETRY, maxAttempts: 1 };
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new RKInvalidInputError(operation, 'retry', 'must be an object like { maxAttempts: 5 } or false');
  }
  const o = options ?? {};
  return {
    maxAttempts: whole(operation, 'retry.maxAttempts', o.maxAttempts ?? DEFAULT_RETRY.maxAttempts, 1, 100),
    baseDelayMs: whole(operation, 'retry.baseDelayMs', o.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs, 0, MAX_TIMER_MS),
    maxDelayMs: whole(operation, 'retry.maxDelayMs', o.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs, 0, MAX_TIMER_MS),
    maxRetryAfterMs: whole(operation, 'retry.maxRetryAfterMs', o.maxRetryAfterMs ?? DEFAULT_RETRY.maxRetryAfterMs, 0, MAX_TIMER_MS),
    totalTimeoutMs: whole(operation, 'retry.totalTimeoutMs', o.totalTimeoutMs ?? DEFAULT_RETRY.totalTimeoutMs, 1, MAX_TIMER_MS),
  };
}

export function checkBudgetOptions(operation: string, budget: RetryBudgetOptions | false | undefined): RetryBudgetOptions | false {
  if (budget === false || budget === undefined) return budget ?? {};
  if (typeof budget !== 'object' || budget === null) {
    throw new RKInvalidInputError(operation, 'retry.budget', 'must be an object like { capacity: 20 } or false');
  }
  const checked: RetryBudgetOptions = {};
  if (budget.capacity !== undefined) checked.capacity = whole(operation, 'retry.budget.capacity', budget.capacity, 0, 1e9);
  if (budget.refillPerSuccess !== undefined) {
    const refill = budget.refillPerSuccess;
    if (typeof refill !== 'number' || !Number.isFinite(refill) || refill < 0) {
      throw new RKInvalidInputError(operation, 'retry.budget.refillPerSuccess', `must be a number >= 0, got ${String(refill)}`);
    }
    checked.refillPerSuccess = refill;
  }
  return checked;
}

/** The request provably never reached the service: no connection was made. */
export function neverLeft(error: RKError): boolean {
  return error instanceof RKConnectionError && error.code !== undefined && NEVER_LEFT_CODES.has(error.code);
}

/**
 * Whether another attempt may help. `idempotent` says whether sending the request twice is
 * harmless (a GET, a PEM with its fixed ID, a POST with an idempotency key); when it is not, only
 * a request that never left is sent again.
 */
export function isRetryable(error: RKError, idempotent: boolean): boolean {
  if (error instanceof RKConnectionError && error.certificateRefused) return false;
  if (neverLeft(error)) return true;
  if (!idempotent) return false;
  if (error instanceof RKHttpError) return RETRYABLE_STATUSES.has(error.status);
  return error instanceof RKConnectionError || error instanceof RKTimeoutError;
}

/**
 * The service may have acted on the request even though the answer was a failure (the answer was
 * lost, or a proxy failed after forwarding it).
 */
export function mayHaveBeenProcessed(error: RKError): boolean {
  if (neverLeft(error)) return false;
  if (error instanceof RKHttpError) return error.status === 500 || error.status === 502 || error.status === 504;
  return error instanceof RKConnectionError || error instanceof RKTimeoutError;
}

