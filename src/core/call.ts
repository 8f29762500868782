import { parseRetryAfter, retryDelay } from '../resilience/backoff.js';
import type { RetryBudget } from '../resilience/budget.js';
import type { Clock } from '../resilience/clock.js';
import { holdProcess } from '../resilience/keep-alive.js';
import { checkMs } from './checks.js';
import { RKAbortError, RKTimeoutError, type RKError } from './errors.js';
import { RKHttpError } from './http-errors.js';
import type { CallOptions } from './options.js';
import { failure, type Result } from './result.js';
import { isRetryable, mayHaveBeenProcessed, type RetryPolicy } from './retry-policy.js';
import type { OperationFacts, RawOutcome, SendInit, Transport } from './transport.js';

/** What one attempt is given. */
export interface AttemptInput {
  /** 1 for the first attempt. */
  attempt: number;
  /** This attempt's deadline: the per-attempt timeout, or less when the call has less time left. */
  timeoutMs: number;
  /** Aborts when the call's total deadline passes or a caller signal fires. */
  signal: AbortSignal;
}


export interface RetryInfo {
  /** The attempt about to be made (2 for the first retry). */
  attempt: number;
  delayMs: number;
  error: RKError;
}

export interface RetryRun<T> {
  operation: string;
  /** Named in timeout messages. */
  url: string;
  policy: RetryPolicy;
  /** The whole call; usually policy.totalTimeoutMs, or the caller's override. */
  totalTimeoutMs: number;
  attemptTimeoutMs: number;
  clock: Clock;
  random: () => number;
  budget: RetryBudget | undefined;
  /** Caller signals (the call's, the client's, the client's close): any of them stops the call. */
  signals: readonly AbortSignal[];
  /** Whether sending the request twice is harmless: the call site knows (a GET, a PEM, a key). */
  idempotent: boolean;
  attempt: (input: AttemptInput) => Promise<Result<T>>;
  onRetry?: (info: RetryInfo) => void;
  onBudgetDenied?: (error: RKError) => void;
}

export interface RetryOutcome<T> {
  result: Result<T>;
  /** Requests made (0 when the call ended before the first). */
  attempts: number;
  /** An earlier failed attempt may have been processed by the service (its answer was lost). */
  ambiguous: boolean;
}

/**
 * The single retry wrapper of the library: every call of RKQuery and RKAdmin and every sendPem
 * without an outbox goes through it. Runs attempts until one succeeds, a failure is not worth retrying, the attempts or the retry
 * budget run out, or the total deadline passes. Never rejects.
 */
export async function withRetries<T>(run: RetryRun<T>): Promise<RetryOutcome<T>> {
  const { clock, policy } = run;
  const scope = new AbortController();
  const total = clock.timeout(run.totalTimeoutMs, scope.signal);
  const deadlineAt = clock.now() + run.totalTimeoutMs;
  const stop = AbortSignal.any([total, ...run.signals]);
  const aborted = () => run.signals.find((s) => s.aborted);
  const totalTimeout = () =>
    failure(new RKTimeoutError(run.operation, run.url, run.totalTimeoutMs, 'totalTimeoutMs'));
  let ambiguous = false;
  let attempts = 0;
  try {
    for (let attempt = 1; ; attempt++) {
      const caller = aborted();
      if (caller) return { result: failure(new RKAbortError(run.operation, caller.reason)), attempts, ambiguous };
      const remaining = deadlineAt - clock.now();
      if (remaining <= 0 || total.aborted) return { result: totalTimeout(), attempts, ambiguous };

      attempts = attempt;
      const result = await run.attempt({
        attempt,
        timeoutMs: Math.min(run.attemptTimeoutMs, remaining),
        signal: stop,
      });
      if (result.ok) {
        run.budget?.onSuccess();
        return { result, attempts, ambiguous };
      }
      const error = result.error;
      if (aborted()) return { result, attempts, ambiguous };
      const outOfTime = total.aborted || clock.now() >= deadlineAt;
      if (outOfTime && (error instanceof RKTimeoutError || error instanceof RKAbortError)) {
        return { result: totalTimeout(), attempts, ambiguous: ambiguous || mayHaveBeenProcessed(error) };
      }
      ambiguous ||= mayHaveBeenProcessed(error);
      if (attempt >= policy.maxAttempts || !isRetryable(error, run.idempotent)) {
        return { result, attempts, ambiguous };
      }
      const retryAfter = error instanceof RKHttpError ? parseRetryAfter(error.headers.get('retry-after'), clock.now()) : undefined;
      const delayMs = retryDelay(attempt, policy, run.random, retryAfter);
      // Waiting past the deadline cannot help: report the failure now.
      if (clock.now() + delayMs >= deadlineAt) return { result, attempts, ambiguous };
      if (run.budget && !run.budget.tryAcquire()) {
        run.onBudgetDenied?.(error);
        return { result, attempts, ambiguous };
      }
      run.onRetry?.({ attempt: attempt + 1, delayMs, error });
      try {
        await clock.sleep(delayMs, stop);
      } catch {
        const cancelled = aborted();
        if (cancelled) return { result: failure(new RKAbortError(run.operation, cancelled.reason)), attempts, ambiguous };
        return { result: totalTimeout(), attempts, ambiguous };
      }
    }
  } finally {
    scope.abort();
  }
}

/** One call of one operation, as a facade method makes it. */
export interface CallSpec {
  /** In words, for messages: "Reading PEM". */
  operation: string;
  facts: OperationFacts;
  /** Whether the request may be sent twice: reads, and what the call site says is safe. */
  idempotent: boolean;
  /** `false`: one attempt whatever the client's retry policy (best-effort reads). */
  retry?: boolean;
}

/** Sent with every attempt of a retried call: 1 for the first. */
export interface CallHeaders {
  idempotencyKey: string;
  attempt: string;
}

/**
 * A call with the client's retries, deadlines and budget, under the caller's `call` options
 * (checked here, once). A call with an `idempotencyKey` may be retried even when it changes state.
 */
export async function callWithRetries<T>(
  transport: Transport<{}>,
  headers: CallHeaders,
  spec: CallSpec,
  call: CallOptions | undefined,
  send: (init: SendInit) => Promise<RawOutcome>,
  read: (data: unknown, response: Response) => T | RKError,
): Promise<Result<T>> {
  const { operation } = spec;
  const settings = transport.settings;
  const bad = checkMs(operation, 'timeoutMs', call?.timeoutMs) ?? checkMs(operation, 'totalTimeoutMs', call?.totalTimeoutMs);
  if (bad) return failure(bad);
  const timeoutMs = call?.timeoutMs ?? settings.timeoutMs;
  const signals = [settings.signal, call?.signal].filter((s): s is AbortSignal => s instanceof AbortSignal);
  const key = call?.idempotencyKey;
  const fixed: Record<string, string> = key === undefined ? {} : { [headers.idempotencyKey]: key };
  const policy = settings.retry;
  if (spec.retry === false || policy.maxAttempts === 1) {
    return transport.attempt(operation, spec.facts, { timeoutMs, signals, headers: fixed }, send, read);
  }
  // A backoff wait has no socket open: without a hold the process could exit mid-call.
  const release = holdProcess();
  try {
    const outcome = await withRetries<T>({
      operation,
      url: transport.shownUrl,
      policy,
      totalTimeoutMs: call?.totalTimeoutMs ?? policy.totalTimeoutMs,
      attemptTimeoutMs: timeoutMs,
      clock: settings.clock,
      random: settings.random,
      budget: settings.budget,
      signals,
      idempotent: spec.idempotent || key !== undefined,
      attempt: ({ attempt, timeoutMs: attemptMs, signal }) =>
        transport.attempt(operation, spec.facts, { timeoutMs: attemptMs, signals: [signal], headers: { ...fixed, [headers.attempt]: String(attempt) } }, send, read),
    });
    return outcome.result;
  } finally {
    release();
  }
}
