// @ts-check
// Start/stop Prism mock servers programmatically, for scripts/mock.mjs, the
// vitest globalSetup and `npm start`. Each server is one child process that
// we track and kill by pid, never by name, so unrelated Prism instances (other
// checkouts, other users) are never touched.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { ROOT, bin } from './apis.mjs';

const LISTENING = /Prism is listening on /;
// Prism colours its log when it thinks it has a terminal; match on plain text.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
// On a fatal error Prism also prints its whole --help; keep it out of our errors.
const HELP_NOISE = /^(\s|$|prism mock <document>|Start a mock server|Positionals:|Options:)/;

/**
 * @typedef {object} PrismOptions
 * @property {number} [port] 0 (default) picks a free port.
 * @property {string} [host] default 127.0.0.1: never expose a mock on the LAN by accident.
 * @property {boolean} [errors] default true: `--errors`, so requests that violate
 *   the spec get an error response instead of a happy-path mock (catches client bugs).
 * @property {string[]} [args] extra `prism mock` arguments, e.g. ['--dynamic'].
 * @property {(line: string) => void} [onLog] receives each line Prism prints
 *   (default: dropped; the last lines are included in startup errors).
 * @property {boolean} [detached] own process group, so a terminal Ctrl-C reaches
 *   only the parent, which then stops the server itself (see mock.mjs).
 * @property {number} [timeoutMs] how long to wait for "listening" (default 30 s).
 * @property {AbortSignal} [signal] aborting it while starting stops the child and
 *   rejects; Prism takes seconds to start, and Ctrl-C may come in the meantime.
 */

/**
 * @typedef {object} PrismServer
 * @property {string} url base URL without trailing slash, e.g. http://127.0.0.1:4010
 * @property {number} port
 * @property {number} pid
 * @property {Promise<{ code: number | null, signal: NodeJS.Signals | null }>} exited
 *   settles when the process is gone, whoever stopped it.
 * @property {() => Promise<void>} stop SIGTERM, then SIGKILL after 5 s; idempotent.
 */

/**
 * Asks the OS for an unused TCP port by binding port 0 and releasing it.
 * Racy by nature (someone may grab it before Prism binds), which startPrism
 * compensates for by retrying; Prism has no "-p 0 and tell me" mode.
 * @param {string} [host]
 * @returns {Promise<number>}
 */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const { port } = /** @type {net.AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts `prism mock` for one spec and resolves once it is listening.
 * Relative spec paths are resolved against the package root, like the other
 * scripts. The caller must stop() it (a still-running server keeps the Node
 * process alive; on process.exit() it is SIGKILLed as a last resort).
 * @param {string} specPath
 * @param {PrismOptions} [options]
 * @returns {Promise<PrismServer>}
 */
export async function startPrism(specPath, options = {}) {
  const { port = 0 } = options;
  // Only a port we picked ourselves can have been taken in the meantime;
  // retrying an explicitly requested port would just fail again.
  const attempts = port === 0 ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(specPath, port === 0 ? await freePort(options.host) : port, options);
    } catch (err) {
      if (attempt >= attempts || !(err instanceof Error && /EADDRINUSE/.test(err.message))) throw err;
    }
  }
}

/**
 * @param {string} specPath
 * @param {number} port
 * @param {PrismOptions} options
 * @returns {Promise<PrismServer>}
 */
function startOnce(specPath, port, options) {
  const { host = '127.0.0.1', errors = true, args = [], onLog, detached = false, timeoutMs = 30_000, signal } = options;
  signal?.throwIfAborted();
  const spec = path.resolve(ROOT, specPath);
  const argv = ['mock', ...(errors ? ['--errors'] : []), '-p', String(port), '-h', host, ...args, spec];
  // Spawned directly (no shell, no npx) so `child.pid` is Prism itself.
  const child = spawn(bin('prism'), argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached });
  const pid = child.pid;

  /** @type {PrismServer['exited']} */
  const exited = new Promise((resolve) => child.once('exit', (code, sig) => resolve({ code, signal: sig })));
  // Last resort if the parent exits without stop() (test crash, uncaught
  // exception, process.exit()): do not leave an orphaned server behind.
  const killOnExit = () => {
    try {
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', killOnExit);
  void exited.then(() => process.removeListener('exit', killOnExit));

  /** @type {Promise<void> | undefined} */
  let stopping;
  const stop = () =>
    (stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      // Prism can linger while keep-alive connections drain.
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    })());

  /** @type {string[]} */
  const recent = [];
  return new Promise((resolve, reject) => {
    let ready = false;
    /** @param {string} why */
    const fail = (why) => {
      clearTimeout(timer);
      const log = recent.filter((l) => !HELP_NOISE.test(l)).join('\n');
      void stop().finally(() => reject(new Error(`prism (${path.relative(ROOT, spec)}, port ${port}) ${why}\n${log}`)));
    };
    const timer = setTimeout(() => fail(`not listening after ${timeoutMs} ms`), timeoutMs);
    const onAbort = () => fail('aborted while starting');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (err) => fail(`could not start: ${err.message}`));
    void exited.then(({ code, signal: sig }) => {
      signal?.removeEventListener('abort', onAbort);
      if (!ready) fail(`exited before listening (${sig ?? `code ${code}`})`);
    });

    /** @param {string} raw */
    const onLine = (raw) => {
      const line = raw.replace(ANSI, '');
      recent.push(line);
      if (recent.length > 40) recent.shift();
      onLog?.(line);
      if (!ready && pid !== undefined && LISTENING.test(line)) {
        ready = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve({ url: `http://${host}:${port}`, port, pid, exited, stop });
      }
    };
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = '';
      stream.setEncoding('utf8').on('data', (/** @type {string} */ chunk) => {
        const lines = (buffered + chunk).split('\n');
        buffered = lines.pop() ?? '';
        lines.forEach(onLine);
      });
      stream.on('end', () => buffered && onLine(buffered));
    }
  });
}
