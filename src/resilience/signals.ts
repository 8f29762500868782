/**
 * Cancellation without AbortSignal.any: `AbortSignal.any` registers every composite signal as a
 * dependant of its sources, and a long-lived source (a client's signal) keeps them until it is
 * collected. Here each signal gets at most one listener of ours however many calls wait on it (no
 * MaxListenersExceededWarning with 10 000 queued sends), fanning out to the calls linked to it;
 * a call unlinks when it ends, and the listener goes when the last one has, so a client signal
 * holds nothing once its calls are done.
 */

type Callback = (reason: unknown) => void;

interface Fan {
  callbacks: Set<Callback>;
  listener: () => void;
}

const fans = new WeakMap<AbortSignal, Fan>();

function subscribe(signal: AbortSignal, callback: Callback): void {
  let fan = fans.get(signal);
  if (!fan) {
    const callbacks = new Set<Callback>();
    const listener = () => {
      fans.delete(signal);
      for (const cb of callbacks) cb(signal.reason);
    };
    fan = { callbacks, listener };
    fans.set(signal, fan);
    signal.addEventListener('abort', listener, { once: true });
  }
  fan.callbacks.add(callback);
}

function unsubscribe(signal: AbortSignal, callback: Callback): void {
  const fan = fans.get(signal);
  if (!fan) return;
  fan.callbacks.delete(callback);
  if (fan.callbacks.size === 0) {
    fans.delete(signal);
    signal.removeEventListener('abort', fan.listener);
  }
}

/**
 * Calls `onAbort` (once) with the reason of the first of `signals` to abort (at once when one
 * already has); returns the unlink.
 */
export function linkSignals(signals: readonly AbortSignal[], onAbort: (reason: unknown) => void): () => void {
  if (signals.length === 0) return noop;
  const aborted = abortedOf(signals);
  if (aborted) {
    onAbort(aborted.reason);
    return noop;
  }
  let done = false;
  const unlink = () => {
    if (done) return;
    done = true;
    for (const signal of signals) unsubscribe(signal, callback);
  };
  const callback: Callback = (reason) => {
    if (done) return;
    unlink();
    onAbort(reason);
  };
  for (const signal of signals) subscribe(signal, callback);
  return unlink;
}

/** The first of `signals` that has aborted, if any. */
export function abortedOf(signals: readonly AbortSignal[]): AbortSignal | undefined {
  for (const signal of signals) if (signal.aborted) return signal;
  return undefined;
}

export function noop(): void {}
