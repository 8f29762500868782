import { holdProcess } from '../resilience/keep-alive.js';

/**
 * A fire-and-forget `sendPem` whose process ends first (process.exit(), or an uncaught error)
 * would lose its PEMs without a word. While any send is pending, process-wide, an 'exit' hook
 * prints how many were still on their way and what to do; it is removed when the last one
 * settles, so an idle client leaves no listener behind. Runtimes without `process.on` (browsers,
 * edge runtimes) only keep the count.
 */
let pending = 0;

const onExit = (): void => {
  if (pending === 0) return;
  console.warn(
    `recordkeeper-client: the process is exiting with ${pending} PEM${pending === 1 ? '' : 's'} not yet delivered ` +
      '(sendPem still retrying, or never awaited); they are lost. Await sendPem, or call `await rk.flush()` or ' +
      '`await rk.close()` before the process exits, or use an outbox ({ outbox: { dir } }) to keep them on disk.',
  );
};

type ProcessLike = { on?(event: string, listener: () => void): unknown; off?(event: string, listener: () => void): unknown };

function processOf(): ProcessLike | undefined {
  return (globalThis as { process?: ProcessLike }).process;
}

/** Counts one pending send and keeps the process alive until the returned release is called (twice is harmless). */
export function holdPendingSend(): () => void {
  const releaseProcess = holdProcess();
  if (pending++ === 0) processOf()?.on?.('exit', onExit);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    releaseProcess();
    if (--pending === 0) processOf()?.off?.('exit', onExit);
  };
}
