/**
 * Time as the delivery layer sees it. Everything that waits (backoff, deadlines, flush and close
 * timeouts, the outbox's idle poll) goes through a Clock, so tests can run minutes of virtual time
 * in milliseconds and production timers can all be unref'd: an idle client never keeps the process
 * alive.
 */
export interface Clock {
  /** Milliseconds since the epoch (virtual in tests). */
  now(): number;
  /** Resolves after `ms`; rejects with `signal.reason` as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * A signal that aborts with a `TimeoutError` DOMException after `ms`. When `cancel` aborts first
   * the timer is cleared (pass a per-scope signal so finished scopes leave no timers behind).
   */
  timeout(ms: number, cancel?: AbortSignal): AbortSignal;
  /**
   * Optional: calls `fire` after `ms` and returns the function that cancels it. The hot path uses
   * it for its one timer per request (no AbortController, no abort to clear it); clocks without it
   * get the same through `timeout` (see `startTimer`).
   */
  timer?(ms: number, fire: () => void): () => void;
}

/** One timer on `clock`: `fire` after `ms` unless the returned cancel is called first. */
export function startTimer(clock: Clock, ms: number, fire: () => void): () => void {
  if (clock.timer) return clock.timer(ms, fire);
  const cancel = new AbortController();
  clock.timeout(ms, cancel.signal).addEventListener('abort', fire, { once: true });
  return () => cancel.abort();
}

/** setTimeout's limit: longer delays fire at once, so every delay is clamped below it. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export function clampDelay(ms: number): number {
  if (!Number.isFinite(ms) || ms <= 0) return 0;
  return Math.min(Math.ceil(ms), MAX_TIMER_MS);
}

export function timeoutError(ms: number): DOMException {
  return new DOMException(`The operation timed out after ${ms} ms`, 'TimeoutError');
}

/** Real time; every timer unref'd. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, clampDelay(ms));
      (timer as { unref?: () => void }).unref?.(); // a number in browsers, which have no unref
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
  timeout(ms, cancel) {
    const controller = new AbortController();
    if (cancel?.aborted) return controller.signal;
    const onCancel = () => clearTimeout(timer);
    const timer = setTimeout(() => {
      cancel?.removeEventListener('abort', onCancel);
      controller.abort(timeoutError(ms));
    }, clampDelay(ms));
    (timer as { unref?: () => void }).unref?.();
    cancel?.addEventListener('abort', onCancel, { once: true });
    return controller.signal;
  },
  timer(ms, fire) {
    const timer = setTimeout(fire, clampDelay(ms));
    (timer as { unref?: () => void }).unref?.(); // a number in browsers, which have no unref
    return () => clearTimeout(timer);
  },
};

/** Sleeps and swallows the rejection: true when the full time passed, false when `signal` cut it short. */
export async function rest(clock: Clock, ms: number, signal?: AbortSignal): Promise<boolean> {
  try {
    await clock.sleep(ms, signal);
    return true;
  } catch {
    return false;
  }
}
