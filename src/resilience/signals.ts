/**
 * Cancellation without AbortSignal.any: `AbortSignal.any` registers every composite signal as a
 * dependant of its sources, and a long-lived source (a client's signal) keeps them until it is
 * collected. Here each call adds one listener per source and removes it when the call ends, so a
 * client signal holds nothing once its calls are done.
 */

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
  const listeners: (() => void)[] = [];
  const unlink = () => {
    if (done) return;
    done = true;
    for (let i = 0; i < signals.length; i++) signals[i]!.removeEventListener('abort', listeners[i]!);
  };
  for (const signal of signals) {
    const listener = () => {
      unlink();
      onAbort(signal.reason);
    };
    listeners.push(listener);
    signal.addEventListener('abort', listener, { once: true });
  }
  return unlink;
}

/** The first of `signals` that has aborted, if any. */
export function abortedOf(signals: readonly AbortSignal[]): AbortSignal | undefined {
  for (const signal of signals) if (signal.aborted) return signal;
  return undefined;
}

export function noop(): void {}
