import { parseRetryAfter, retryDelay } from '../resilience/backoff.js';
import type { RetryBudget } from '../resilience/budget.js';
import { rest, type Clock } from '../resilience/clock.js';
import { abortedOf, linkSignals } from '../resilience/signals.js';
import { holdProcess } from '../resilience/keep-alive.js';
import { checkMs } from './checks.js';
import { RKAbortError, RKTimeoutError, type RKError } from './errors.js';
import { RKHttpError } from './http-errors.js';
import type { CallOptions } from './options.js';
import { failure, type Result } from './result.js';
import { isRetryable, mayHaveBeenProcessed, type RetryPolicy } from './retry-policy.js';
import { observerOf } from './observer.js';
import { traceCall, type CallTraceInfo } from './telemetry.js';
import type { OperationFacts, RequestParts, Transport } from './transport.js';
import type { WireAnswer } from './wire.js';

/** What one attempt is given. */
export interface AttemptInput {
  /** 1 for the first attempt. */
  attempt: number;
  /** This attempt's deadline: the per-attempt timeout, or less when the call has less time left. */
  timeoutMs: number;
  /** The caller's signals (the call's, the client's, the client's close): any of them stops it. */
  signals: readonly AbortSignal[];
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
  /**
   * The whole call: every attempt and every backoff wait. Usually policy.totalTimeoutMs, or the
   * caller's override. Time spent in `admit` (waiting for an in-flight slot) does not count.
   */
  totalTimeoutMs: number;
  attemptTimeoutMs: number;
  clock: Clock;
  random: () => number;
  budget: RetryBudget | undefined;
  /** Caller signals (the call's, the client's, the client's close): any of them stops the call. */
  signals: readonly AbortSignal[];
  /** Whether sending the request twice is harmless: the call site knows (a GET, a PEM, a key). */
  idempotent: boolean;
  /**
   * `false`: an attempt that ran out of time is not made again (a whole list: the same request
   * would be as slow). Default true.
   */
  retryTimeouts?: boolean;
  /**
   * Waits for the right to make the next attempt (an in-flight slot) and resolves with its release.
   * The wait is queueing, not the receiver's fault: it is bounded by the caller's signals (and the
   * queue's own bounds), never by totalTimeoutMs, whose clock stops meanwhile.
   */
  admit?: (signals: readonly AbortSignal[]) => Promise<() => void>;
  attempt: (input: AttemptInput) => Promise<Result<T>>;
  onRetry?: (info: RetryInfo) => void;
  onBudgetDenied?: (error: RKError) => void;
  /** One line per retry (logger.debug), when debugging is on. */
  debug?: (line: string) => void;
  /** What an OpenTelemetry span of this call says (telemetry.ts); the span is made only when the API is there. */
  trace?: CallTraceInfo | undefined;
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
 *
 * It sets no timer of its own: each attempt's deadline is cut to the time the call has left, and a
 * backoff is never longer than that, so the attempt's one timer also enforces the total. Caller
 * signals are passed through as they are (no AbortSignal.any): each wait links and unlinks them.
 */
export function withRetries<T>(run: RetryRun<T>): Promise<RetryOutcome<T>> {
  return run.trace ? traceCall(run.trace, () => retryLoop(run)) : retryLoop(run);
}

async function retryLoop<T>(run: RetryRun<T>): Promise<RetryOutcome<T>> {
  const { clock, policy, signals } = run;
  let deadlineAt = clock.now() + run.totalTimeoutMs;
  const totalTimeout = () =>
    failure(new RKTimeoutError(run.operation, run.url, run.totalTimeoutMs, 'totalTimeoutMs'));
  const abortedBy = (caller: AbortSignal) => failure(new RKAbortError(run.operation, caller.reason));
  let ambiguous = false;
  let attempts = 0;
  for (let attempt = 1; ; attempt++) {
    const caller = abortedOf(signals);
    if (caller) return { result: abortedBy(caller), attempts, ambiguous };
    let release: (() => void) | undefined;
    if (run.admit) {
      const queued = clock.now();
      try {
        release = await run.admit(signals);
      } catch {
        const cancelled = abortedOf(signals);
        return { result: cancelled ? abortedBy(cancelled) : totalTimeout(), attempts, ambiguous };
      }
      // The deadline's clock stops while the call waits its turn.
      deadlineAt += clock.now() - queued;
    }
    let result: Result<T>;
    // The attempt's deadline is cut to the call's: then its timeout is the call's.
    let cut: boolean;
    try {
      const remaining = deadlineAt - clock.now();
      if (remaining <= 0) return { result: totalTimeout(), attempts, ambiguous };
      attempts = attempt;
      cut = remaining <= run.attemptTimeoutMs;
      result = await run.attempt({ attempt, timeoutMs: Math.min(run.attemptTimeoutMs, remaining), signals });
    } finally {
      release?.();
    }
    if (result.ok) {
      run.budget?.onSuccess();
      return { result, attempts, ambiguous };
    }
    const error = result.error;
    if (abortedOf(signals)) return { result, attempts, ambiguous };
    const outOfTime = (cut && error instanceof RKTimeoutError) || clock.now() >= deadlineAt;
    if (outOfTime && (error instanceof RKTimeoutError || error instanceof RKAbortError)) {
      return { result: totalTimeout(), attempts, ambiguous: ambiguous || mayHaveBeenProcessed(error) };
    }
    ambiguous ||= mayHaveBeenProcessed(error);
    const hopeless = run.retryTimeouts === false && error instanceof RKTimeoutError;
    if (attempt >= policy.maxAttempts || hopeless || !isRetryable(error, run.idempotent)) {
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
    run.debug?.(`retry ${attempt + 1} of ${policy.maxAttempts} (${run.operation}) in ${delayMs} ms after: ${error.message}`);
    run.onRetry?.({ attempt: attempt + 1, delayMs, error });
    if (!(await pause(clock, delayMs, signals))) {
      const cancelled = abortedOf(signals);
      return { result: cancelled ? abortedBy(cancelled) : totalTimeout(), attempts, ambiguous };
    }
  }
}

/**
 * A backoff wait that any of `signals` cuts short (false then); listeners gone when it ends. Even
 * one signal is linked, not listened to directly: many calls backing off at once on the client's
 * signal (or its close signal) would otherwise each add a listener to it, and past 10 Node warns
 * of a leak (MaxListenersExceededWarning).
 */
async function pause(clock: Clock, ms: number, signals: readonly AbortSignal[]): Promise<boolean> {
  if (signals.length === 0) return rest(clock, ms);
  const stop = new AbortController();
  const unlink = linkSignals(signals, (reason) => stop.abort(reason));
  try {
    return await rest(clock, ms, stop.signal);
  } finally {
    unlink();
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
  /** `false`: a timed-out attempt is final (see RetryRun.retryTimeouts). */
  retryTimeouts?: boolean;
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
  transport: Transport,
  headers: CallHeaders,
  spec: CallSpec,
  call: CallOptions | undefined,
  request: RequestParts,
  read: (answer: WireAnswer) => T | RKError,
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
  const observer = observerOf(settings);
  const trace: CallTraceInfo = { operation, method: spec.facts.method, path: spec.facts.path, url: transport.shownUrl };
  if (spec.retry === false || policy.maxAttempts === 1) {
    observer.attempts++;
    const single = await traceCall(trace, async (seen) => ({
      result: await transport.attempt(operation, spec.facts, { timeoutMs, signals, headers: fixed }, request, (answer) => ((seen.status = answer.status), read(answer))),
      attempts: 1,
    }));
    return single.result;
  }
  // A backoff wait has no socket open: without a hold the process could exit mid-call.
  const release = holdProcess();
  try {
    let seen: { status?: number } = {};
    const outcome = await traceCall(trace, (span) => ((seen = span), withRetries<T>({
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
      ...(spec.retryTimeouts === false ? { retryTimeouts: false } : {}),
      attempt: ({ attempt, timeoutMs: attemptMs, signals: callerSignals }) => {
        observer.attempts++;
        if (attempt > 1) observer.retries++;
        return transport.attempt(operation, spec.facts, { timeoutMs: attemptMs, signals: callerSignals, headers: { ...fixed, [headers.attempt]: String(attempt) } }, request, (answer) => ((seen.status = answer.status), read(answer)));
      },
      onRetry: ({ attempt, delayMs, error }) => {
        if (observer.listening) observer.emit({ operation, attempt, delayMs, error });
      },
      onBudgetDenied: () => observer.retriesDenied++,
      debug: settings.debug,
    })));
    return outcome.result;
  } finally {
    release();
  }
}
