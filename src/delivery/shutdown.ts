/** Anything with a close that flushes: RKClient. */
export interface Closable {
  /** Closes it, waiting up to `timeoutMs`. */
  close(options?: { timeoutMs?: number }): Promise<unknown>;
}

/** The signals that ask a process to stop, by name (spelled out so the types need no @types/node). */
export type StopSignal = 'SIGTERM' | 'SIGINT' | 'SIGHUP' | 'SIGQUIT' | 'SIGBREAK' | 'SIGUSR1' | 'SIGUSR2';

/** Options of closeOnSignals. */
export interface CloseOnSignalsOptions {
  /** Default SIGTERM and SIGINT. */
  signals?: readonly StopSignal[];
  /** Passed to each close(). Default: close's own (10 000). */
  timeoutMs?: number;
}

/**
 * Opt-in (the library installs no handlers itself): on the first of `signals`, closes the clients
 * (flushing what is pending, within their close deadline), then lets the signal take its course:
 * when nothing else listens for it, it is raised again so the process ends as it would have.
 * Returns a function that removes the handlers.
 */
export function closeOnSignals(clients: Closable | readonly Closable[], options: CloseOnSignalsOptions = {}): () => void {
  const list: readonly Closable[] = Array.isArray(clients) ? clients : [clients as Closable];
  const signals = options.signals ?? (['SIGTERM', 'SIGINT'] as const);
  const closeOptions = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
  let fired = false;
  const handler = (signal: NodeJS.Signals) => {
    if (fired) return;
    fired = true;
    uninstall();
    void Promise.allSettled(list.map((client) => client.close(closeOptions))).then(() => {
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  };
  const uninstall = () => {
    for (const signal of signals) process.removeListener(signal, handler);
  };
  for (const signal of signals) process.on(signal, handler);
  return uninstall;
}
