import { createServer } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildClient } from '../helpers/build-client.js';
import { startScriptableReceiver, type ScriptableReceiver } from '../helpers/scriptable-receiver.js';
import { until } from '../helpers/virtual-clock.js';

/**
 * Whole processes: the client compiled to JavaScript (Node 20 runs no TypeScript) and driven by
 * fixtures/child-client.mjs. Every child is ended by its pid; none is left running.
 */

const FIXTURE = fileURLToPath(new URL('./fixtures/child-client.mjs', import.meta.url));
let client: string;
let receiver: ScriptableReceiver | undefined;
let dir: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  client = await buildClient('delivery-child-build');
}, 180_000);

afterEach(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
  await receiver?.close();
  receiver = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

afterAll(() => rmSync(fileURLToPath(new URL('../../.tmp/delivery-child-build', import.meta.url)), { recursive: true, force: true }));

interface Child {
  process: ChildProcess;
  /** The next JSON line the child prints. */
  message(): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(config: Record<string, unknown>): Child {
  const child = spawn(process.execPath, [FIXTURE], {
    env: { ...process.env, CHILD: JSON.stringify({ client, ...config }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    process: child,
    exited,
    async message() {
      const next = await lines.next();
      if (next.done) throw new Error(`the child ended without a message: ${stderr}`);
      return JSON.parse(next.value) as Record<string, unknown>;
    },
  };
}

describe('crash', () => {
  it('500 PEMs sent with the receiver down, SIGKILL mid-drain, restart on the same folder: all 500 stored once', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rk-crash-'));
    receiver = await startScriptableReceiver();
    await receiver.refuse();

    const first = start({ url: receiver.url, dir, mode: 'send', count: 500 });
    const sent = await first.message();
    const ids = sent.ids as string[];
    expect(sent.statuses).toEqual({ persisted: 500 });
    expect(new Set(ids).size).toBe(500);
    expect(readdirSync(dir).filter((n) => n.endsWith('.pem'))).toHaveLength(500);

    // The receiver comes back, a little slow, so the kill lands in the middle of the drain.
    receiver.setRule(() => ({ default: true, delayMs: 5 }));
    await receiver.accept();
    await until(() => receiver!.stored.size >= 50, 'the drain to start', 30_000);
    first.process.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const storedAtKill = receiver.stored.size;
    expect(storedAtKill).toBeLessThan(500);
    expect(readdirSync(dir)).toContain('outbox.lock'); // left behind by the dead process

    receiver.setRule(undefined);
    const second = start({ url: receiver.url, dir, mode: 'drain' });
    const report = await second.message();
    expect(await second.exited).toEqual({ code: 0, signal: null });

    expect(report.flushed).toMatchObject({ pending: 0, timedOut: false, failed: 0 });
    expect(receiver.stored.size).toBe(500);
    expect(new Set(receiver.stored.keys())).toEqual(new Set(ids));
    expect([...receiver.acceptedCount.values()].every((n) => n === 1)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['dead']);
    expect(readdirSync(join(dir, 'dead'))).toEqual([]);
    // Entries in flight at the kill were stored but not yet removed: resent, answered duplicate.
    const resent = receiver.pemRequests().length - 500;
    expect(resent).toBeGreaterThanOrEqual(0);
    expect((report.stats as { duplicates: number }).duplicates).toBe(resent);
  }, 120_000);
});

describe('no open handles', () => {
  it('a send to a receiver that never answers settles at the total deadline, and the process ends by itself', async () => {
    receiver = await startScriptableReceiver();
    receiver.setRule(() => ({ hang: true }));
    const child = start({ url: receiver.url, mode: 'hang' });
    const result = await child.message();
    // 200 ms attempts, a 500 ms backoff, 800 ms in all: the total deadline cuts attempt 2 (exact
    // timelines are asserted in virtual time in faults.test.ts; a loaded machine may end on attempt 1's own timeout).
    expect(result).toMatchObject({ ok: false, error: { name: 'RKTimeoutError' } });
    expect([800, 200]).toContain((result.error as { timeoutMs: number }).timeoutMs);
    // A hang guard, not a speed assertion: a leaked timer or socket would keep the child alive.
    const ended = await Promise.race([child.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 15_000))]);
    expect(ended).toEqual({ code: 0, signal: null });
    expect(receiver.pemRequests().length).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('a query being retried against a refused port settles: the process does not end mid-backoff', async () => {
    const port = await freePort();
    const child = start({ url: `http://127.0.0.1:${port}/query`, mode: 'query-refused' });
    expect(await child.message()).toEqual({ ok: false, error: { name: 'RKConnectionError', code: 'ECONNREFUSED' } });
    const ended = await Promise.race([child.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 15_000))]);
    expect(ended).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('an idle client with an outbox, never closed, does not keep the process alive', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rk-idle-'));
    receiver = await startScriptableReceiver();
    const child = start({ url: receiver.url, dir, mode: 'idle-outbox' });
    expect(await child.message()).toEqual({ status: 'accepted' });
    const ended = await Promise.race([child.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 15_000))]);
    expect(ended).toEqual({ code: 0, signal: null });
  }, 60_000);
});

/** A port nothing listens on: bound, then closed. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
