import { RKAbortError, RKHttpError, RKTimeoutError, type RKError } from './errors.js';
import { failure, type Result } from './result.js';
import { parseRetryAfter, retryDelay } from '../resilience/backoff.js';
import type { RetryBudget } from '../resilience/budget.js';
import type { Clock } from '../resilience/clock.js';
import { isRetryable, mayHaveBeenProcessed, type RetryPolicy } from './retry-policy.js';

/** What one attempt is given. */
export interface AttemptInput {
  /** 1 for the first attempt. */
  attempt: number;
  /** This attempt's deadline: the per-attempt timeout, or less when the call has less time left. */
  timeoutMs: number;
  /** Aborts when the call's total deadline passes or a caller signal fires. */
  signal: AbortSignal;
}

/** What one attempt reports: its result and, when a request was made, its HTTP method. */
export interface AttemptOutput<T> {
  result: Result<T>;
  method?: string | undefined;
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
  /** Whether a request made with this method may be sent twice. */
  idempotent: (method: string | undefined) => boolean;
  attempt: (input: AttemptInput) => Promise<AttemptOutput<T>>;
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
 * Runs attempts until one succeeds, a failure is not worth retrying, the attempts or the retry
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
      const { result, method } = await run.attempt({
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
      if (attempt >= policy.maxAttempts || !isRetryable(error, run.idempotent(method))) {
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
