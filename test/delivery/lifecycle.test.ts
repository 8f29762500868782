import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  closeOnSignals,
  RKAbortError,
  RKClient,
  RKShutdownError,
  type DeliveryEvents,
  type Logger,
  type RKOptions,
} from '../../src/index.js';
import { startScriptableReceiver, type ScriptableReceiver } from '../helpers/scriptable-receiver.js';
import { until, VirtualClock } from '../helpers/virtual-clock.js';

const silent: Logger = { warn: () => {} };
let receiver: ScriptableReceiver;
const clients: { rk: RKClient; clock: VirtualClock }[] = [];

afterEach(async () => {
  await Promise.all(
    clients.splice(0).map(async ({ rk, clock }) => {
      const closing = rk.close({ timeoutMs: 1 });
      await clock.advance(1); // a manual clock's deadline fires only when time moves
      await closing;
    }),
  );
  await receiver?.close();
});

async function setup(clock: VirtualClock, options: RKOptions = {}) {
  receiver = await startScriptableReceiver({ now: () => clock.now() });
  const rk = new RKClient(receiver.url, 'trainer', { clock, random: () => 1, logger: silent, ...options });
  clients.push({ rk, clock });
  return rk;
}

function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('flush', () => {
  it('waits for everything pending, including PEMs sent during the flush', async () => {
    const clock = new VirtualClock();
    const rk = await setup(clock);
    const first = gate();
    const second = gate();
    receiver.script({ default: true, gate: first.promise }, { default: true, gate: second.promise });
    const a = rk.sendPem(rk.preparePem('a'));
    await until(() => receiver.pemRequests().length === 1);

    let flushed = false;
    const flushing = rk.flush().then((report) => ((flushed = true), report));
    const b = rk.sendPem(rk.preparePem('b')); // arrives during the flush
    first.open();
    await a;
    await until(() => receiver.pemRequests().length === 2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(flushed).toBe(false); // b is not stranded
    second.open();

    expect(await flushing).toEqual({ delivered: 2, persisted: 0, failed: 0, pending: 0, timedOut: false });
    expect((await b).ok).toBe(true);
  });

  it('never rejects on timeout: reports what is still pending', async () => {
    const clock = new VirtualClock();
    const rk = await setup(clock);
    receiver.setRule(() => ({ hang: true }));
    void rk.sendPem(rk.preparePem('a'));
    await until(() => receiver.pemRequests().length === 1);
    const flushing = rk.flush({ timeoutMs: 1_000 });
    await clock.advance(1_000);
    expect(await flushing).toEqual({ delivered: 0, persisted: 0, failed: 0, pending: 1, timedOut: true });
  });

  it('resolves at once when nothing is pending', async () => {
    const rk = await setup(new VirtualClock());
    expect(await rk.flush()).toEqual({ delivered: 0, persisted: 0, failed: 0, pending: 0, timedOut: false });
  });
});

describe('close', () => {
  it('with a hung receiver and no outbox: resolves at its deadline with timedOut: true; the unsent PEM fails with a shutdown error and is counted', async () => {
    const clock = new VirtualClock();
    const rk = await setup(clock);
    receiver.setRule(() => ({ hang: true }));
    const sending = rk.sendPem(rk.preparePem('a'));
    await until(() => receiver.pemRequests().length === 1);

    const closing = rk.close({ timeoutMs: 3_000 });
    expect(rk.close()).toBe(closing); // a second call: the same promise
    await clock.advance(2_999);
    let closed = false;
    void closing.then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closed).toBe(false);
    await clock.advance(1);

    expect(await closing).toEqual({ delivered: 0, persisted: 0, failed: 1, pending: 0, timedOut: true });
    const result = await sending;
    expect(!result.ok && result.error).toBeInstanceOf(RKShutdownError);
    expect(!result.ok && result.error.message).toBe(
      'Sending PEM failed: the client was closed before the PEM was delivered and there is no outbox to keep it; ' +
        'the Receiver may or may not have stored it: sending the same PEM again is safe',
    );
    expect(rk.stats()).toMatchObject({ closed: true, dropped: expect.objectContaining({ shutdown: 1 }) });
  });

  it('cancels a backoff wait at its deadline', async () => {
    const clock = new VirtualClock();
    const rk = await setup(clock);
    receiver.setRule(() => ({ status: 503 }));
    const sending = rk.sendPem(rk.preparePem('a'));
    await until(() => clock.pendingSleeps === 1, 'the backoff');
    const closing = rk.close({ timeoutMs: 100 });
    await clock.advance(100);
    expect((await closing).timedOut).toBe(true);
    expect(!(await sending).ok && ((await sending) as { error: unknown }).error).toBeInstanceOf(RKShutdownError);
    expect(receiver.pemRequests()).toHaveLength(1);
  });

  it('stops accepting PEMs: sendPem fails at once with a shutdown error, without a request', async () => {
    const rk = await setup(new VirtualClock());
    await rk.close();
    const result = await rk.sendPem(rk.preparePem('late'));
    expect(!result.ok && result.error).toBeInstanceOf(RKShutdownError);
    expect(!result.ok && result.error.message).toBe('Sending PEM failed: the client is closed; create a new RKClient to send more PEMs');
    expect(receiver.requests).toHaveLength(0);
    expect(rk.stats().dropped.shutdown).toBe(1);
  });

  it('works with await using', async () => {
    const clock = new VirtualClock();
    receiver = await startScriptableReceiver();
    let stats;
    {
      await using rk = new RKClient(receiver.url, 'trainer', { clock, logger: silent });
      expect((await rk.sendPem(rk.preparePem('a'))).ok).toBe(true);
      stats = rk;
    }
    expect(stats.stats().closed).toBe(true);
  });

  it("a caller's abort is reported as an abort, not as a shutdown", async () => {
    const clock = new VirtualClock();
    const rk = await setup(clock);
    receiver.setRule(() => ({ hang: true }));
    const controller = new AbortController();
    const sending = rk.sendPem(rk.preparePem('a'), { signal: controller.signal });
    await until(() => receiver.pemRequests().length === 1);
    controller.abort();
    const result = await sending;
    expect(!result.ok && result.error).toBeInstanceOf(RKAbortError);
    expect(rk.stats().dropped.aborted).toBe(1);
  });
});

describe('counters and events', () => {
  it('reports retry, delivered and drop events and counts every outcome', async () => {
    const clock = new VirtualClock({ auto: true });
    const rk = await setup(clock);
    const events: string[] = [];
    const off = rk.on('retry', (e: DeliveryEvents['retry']) => events.push(`retry ${e.attempt} after ${e.delayMs} (${e.error.message})`));
    rk.on('delivered', (e) => events.push(`delivered ${e.status} in ${e.attempts}`));
    rk.on('drop', (e) => events.push(`drop ${e.reason}`));
    // one action per POST /pem: a's two attempts, a's resend, then b
    receiver.script({ status: 503, body: { message: 'busy' } }, { default: true }, { default: true }, { status: 422, body: { message: 'bad' } });
    const pem = rk.preparePem('a');

    await rk.sendPem(pem);
    await rk.sendPem(pem); // identical resend: duplicate
    await rk.sendPem(rk.preparePem('b')); // 422
    await rk.sendPem({ ...pem.toJSON(), ID: 'nope' }); // invalid
    off();

    expect(events).toEqual([
      'retry 2 after 500 (Sending PEM failed: HTTP 503 Service Unavailable: busy)',
      'delivered accepted in 2',
      'delivered duplicate in 1',
      'drop rejected',
      'drop invalid',
    ]);
    const stats = rk.stats();
    expect(stats).toMatchObject({
      attempts: 4,
      retries: 1,
      retriesDenied: 0,
      delivered: 2,
      duplicates: 1,
      persisted: 0,
      failed: 2,
      pending: 0,
      inFlight: 0,
      retryBudget: 20,
      outbox: undefined,
      closed: false,
    });
    expect(stats.dropped).toMatchObject({ rejected: 1, invalid: 1, http: 0 });
  });

  it('a listener that throws is reported to the logger and changes nothing', async () => {
    const warnings: string[] = [];
    const rk = await setup(new VirtualClock({ auto: true }), { logger: { warn: (m) => warnings.push(m) } });
    rk.on('delivered', () => {
      throw new Error('metrics backend down');
    });
    expect((await rk.sendPem(rk.preparePem('a'))).ok).toBe(true);
    expect(warnings).toEqual(['a "delivered" listener threw: metrics backend down']);
  });

  it('reports the outbox in stats', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rk-stats-'));
    try {
      const rk = await setup(new VirtualClock(), { outbox: { dir } });
      expect((await rk.sendPem(rk.preparePem('a'))).ok).toBe(true);
      await until(() => rk.stats().outbox!.draining, 'the drainer to take the lock'); // it does so beside the send
      expect(rk.stats().outbox).toEqual({
        dir,
        entries: 0,
        bytes: 0,
        dead: 0,
        draining: true,
        paused: undefined,
        backoffMs: 0,
        consecutiveFailures: 0,
      });
      await rk.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('closeOnSignals (opt-in)', () => {
  it('closes the clients on the signal and removes its handlers', async () => {
    const rk = await setup(new VirtualClock());
    const before = process.listenerCount('SIGUSR2');
    const keepAlive = () => {}; // another listener: the helper must not re-raise the signal
    process.on('SIGUSR2', keepAlive);
    try {
      closeOnSignals(rk, { signals: ['SIGUSR2'], timeoutMs: 50 });
      expect(process.listenerCount('SIGUSR2')).toBe(before + 2);
      process.emit('SIGUSR2', 'SIGUSR2');
      expect(rk.stats().closed).toBe(true);
      await rk.close(); // the helper's close: the same promise
      await new Promise((resolve) => setImmediate(resolve));
      expect(process.listenerCount('SIGUSR2')).toBe(before + 1);
    } finally {
      process.removeListener('SIGUSR2', keepAlive);
    }
  });

  it('installs nothing unless asked', async () => {
    const counts = () => ['SIGTERM', 'SIGINT'].map((s) => process.listenerCount(s));
    const before = counts();
    await setup(new VirtualClock());
    expect(counts()).toEqual(before);
  });
});

describe('options', () => {
  it.each([
    [{ retry: { maxAttempts: 0 } }, /retry\.maxAttempts must be a whole number from 1 to 100, got 0/],
    [{ maxInFlight: 0 }, /maxInFlight must be a whole number from 1 to 10000, got 0/],
    [{ queue: { maxBytes: -1 } }, /queue\.maxBytes must be a whole number/],
    [{ outbox: { dir: '' } }, /outbox\.dir must be a folder path/],
    [{ outbox: { dir: '/tmp/x', onFull: 'drop-newest' as never } }, /outbox\.onFull must be "reject" or "drop-oldest"/],
    [{ retry: { budget: { capacity: 1.5 } } }, /retry\.budget\.capacity must be a whole number/],
  ] as [RKOptions, RegExp][])('refuses %j at construction', (options, message) => {
    expect(() => new RKClient('http://127.0.0.1:1/receiver', 'x', options)).toThrow(message);
  });

  it('retry: false makes one attempt', async () => {
    const rk = await setup(new VirtualClock({ auto: true }), { retry: false });
    receiver.setRule(() => ({ status: 503 }));
    expect((await rk.sendPem(rk.preparePem('a'))).ok).toBe(false);
    expect(receiver.pemRequests()).toHaveLength(1);
  });
});
