import { runtimeProcess } from '../core/environment.js';
import { holdProcess } from '../resilience/keep-alive.js';

/**
 * A fire-and-forget `sendPem` whose process ends first (process.exit(), or an uncaught error)
 * would lose its PEMs without a word. One 'exit' hook per process, added by the first send and
 * kept (adding and removing it around every send cost more than the rest of a send's
 * bookkeeping), prints how many were still on their way and what to do, and nothing when none
 * are. An 'exit' listener keeps no process alive. Runtimes without `process.on` (browsers, edge
 * runtimes) only keep the count.
 */
let pending = 0;
let hooked = false;

const onExit = (): void => {
  if (pending === 0) return;
  console.warn(
    `recordkeeper-client: the process is exiting with ${pending} PEM${pending === 1 ? '' : 's'} not yet delivered ` +
      '(sendPem still retrying, or never awaited); they are lost. Await sendPem, or call `await rk.flush()` or ' +
      '`await rk.close()` before the process exits, or use an outbox ({ outbox: { dir } }) to keep them on disk.',
  );
};


/** Counts one pending send and keeps the process alive until the returned release is called (twice is harmless). */
export function holdPendingSend(): () => void {
  const releaseProcess = holdProcess();
  pending++;
  if (!hooked) {
    hooked = true;
    runtimeProcess()?.on?.('exit', onExit);
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    releaseProcess();
    pending--;
  };
}
