import { clampDelay } from './clock.js';

/** How long to wait before retry number `retry` (1 for the first retry). */
export interface BackoffShape {
  /** The first delay before jitter. */
  baseDelayMs: number;
  /** No delay grows past this before jitter. */
  maxDelayMs: number;
}

/**
 * `min(max, base * 2^(retry-1))` scaled by a jitter factor in [50%, 100%]: spread enough that a
 * fleet of clients does not retry in lockstep, never shorter than half the nominal delay.
 * `random` is injectable; a value of 1 gives the nominal delay exactly.
 */
export function backoffDelay(retry: number, shape: BackoffShape, random: () => number): number {
  const exponent = Math.max(0, retry - 1);
  // 2^exponent overflows to Infinity long before it matters; min() takes care of it.
  const nominal = Math.min(shape.maxDelayMs, shape.baseDelayMs * 2 ** exponent);
  const r = Math.min(1, Math.max(0, random()));
  return clampDelay(nominal * (0.5 + 0.5 * r));
}

/**
 * The delay a `Retry-After` header asks for, in ms: delta-seconds (`120`) or an HTTP date
 * (`Wed, 21 Oct 2015 07:28:00 GMT`), relative to `nowMs`. Undefined when absent or unreadable;
 * a date in the past is 0.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+$/.test(text)) return clampDelay(Number(text) * 1000);
  // Only the date formats HTTP allows: they all name a weekday or month in letters.
  if (!/[A-Za-z]/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return clampDelay(at - nowMs);
}

/**
 * The wait before a retry: the jittered backoff, raised to the server's `Retry-After` when it asks
 * for longer (that request is a floor, capped so a misconfigured server cannot park the client).
 */
export function retryDelay(
  retry: number,
  shape: BackoffShape & { maxRetryAfterMs: number },
  random: () => number,
  retryAfterMs: number | undefined,
): number {
  const backoff = backoffDelay(retry, shape, random);
  if (retryAfterMs === undefined) return backoff;
  return clampDelay(Math.max(backoff, Math.min(retryAfterMs, shape.maxRetryAfterMs)));
}
