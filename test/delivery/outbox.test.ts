import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RKClient, RKQueueFullError, RKRejectedPemError, systemClock, type Logger, type RKOptions } from '../../src/index.js';
import { OutboxStore } from '../../src/delivery/outbox/store.js';
import { startScriptableReceiver, type Action, type ScriptableReceiver } from '../helpers/scriptable-receiver.js';
import { until, VirtualClock } from '../helpers/virtual-clock.js';

const silent: Logger = { warn: () => {} };
let dir: string;
let receiver: ScriptableReceiver;
const clients: RKClient[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rk-outbox-'));
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close({ timeoutMs: 1 })));
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

function entries(folder = dir): string[] {
  return readdirSync(folder).filter((name) => name.endsWith('.pem'));
}

function client(clock: RKOptions['clock'], options: RKOptions = {}, outbox: Partial<NonNullable<RKOptions['outbox']>> = {}) {
  const rk = new RKClient(receiver.url, 'trainer', {
    clock,
    random: () => 1,
    logger: silent,
    ...options,
    outbox: { dir, ...outbox },
  });
  clients.push(rk);
  return rk;
}

/** Real-time settings for tests that only wait for conditions: short polls and backoffs. */
const brisk = { pollIntervalMs: 10, maxBackoffMs: 40 };

/** Lets the virtual clock move only while nothing of the client is in flight. */
async function step(clock: VirtualClock, rk: RKClient, ms: number) {
  await until(() => rk.stats().inFlight === 0 && clock.pendingSleeps > 0, 'the client to wait on the clock');
  await clock.advance(ms);
}

describe('an outage with an outbox', () => {
  it('10 virtual minutes, 1000 PEMs: no rejections, 1000 files, all delivered exactly once after recovery, the outbox empty', async () => {
    const clock = new VirtualClock();
    receiver = await startScriptableReceiver({ now: () => clock.now() });
    const OUTAGE_MS = 10 * 60 * 1000;
    receiver.setRule(() => (clock.now() < OUTAGE_MS ? { status: 503 } : { default: true }));
    // No fsync: what is proved is the outbox's bookkeeping over an outage (durability across a
    // crash is child-process.test.ts's); 2 000 fsyncs only made the test wait on the disk.
    const rk = client(clock, {}, { fsync: false });
    const persisted: string[] = [];
    rk.on('persisted', (event) => persisted.push(event.ID));
    const pems = Array.from({ length: 1000 }, (_, i) => rk.preparePem('ingest', { properties: { i } }));

    const results = await Promise.all(pems.map((pem) => rk.sendPem(pem)));

    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.every((r) => r.ok && r.value.status === 'persisted')).toBe(true);
    expect(persisted).toHaveLength(1000);
    expect(entries()).toHaveLength(1000);
    expect(rk.stats().outbox).toMatchObject({ entries: 1000, draining: true });

    while (clock.now() < OUTAGE_MS) await step(clock, rk, 5_000);
    const duringOutage = receiver.pemRequests().length;
    // Backoff: a handful of probes in 10 minutes, not a storm (first attempts stop once one fails).
    expect(duringOutage).toBeLessThan(40);
    expect(receiver.stored.size).toBe(0);

    while (receiver.stored.size < 1000 && clock.now() < 4 * OUTAGE_MS) await step(clock, rk, 5_000);
    const flushing = rk.flush();
    await step(clock, rk, 1_000);
    const report = await flushing;

    expect(report).toMatchObject({ pending: 0, timedOut: false });
    expect(entries()).toEqual([]);
    expect(receiver.stored.size).toBe(1000);
    expect([...receiver.acceptedCount.values()].every((n) => n === 1)).toBe(true);
    for (const pem of pems) expect(receiver.stored.get(pem.ID)).toBe(JSON.stringify(pem));
    // The first request after recovery comes within one backoff step (at most 5 minutes).
    const firstStored = receiver.pemRequests().find((r) => r.at >= OUTAGE_MS);
    expect(firstStored!.at - OUTAGE_MS).toBeLessThanOrEqual(300_000);
    expect(rk.stats()).toMatchObject({ delivered: 1000, persisted: 1000, failed: 0, outbox: expect.objectContaining({ entries: 0 }) });
  }, 60_000);
});

describe('recovery on start', () => {
  it('removes leftover temporary files of dead processes, moves torn and corrupt entries to dead/, drains the rest', async () => {
    receiver = await startScriptableReceiver();
    const store = new OutboxStore(dir, { fsync: false, onSyncError: () => {} });
    await store.init();
    const ok = new RKClient(receiver.url, 'trainer', { logger: silent }).preparePem('ingest');
    const bad = new RKClient(receiver.url, 'trainer', { logger: silent }).preparePem('ingest');
    const write = (id: string, body: string) => store.write(store.nameFor(id, Date.now()), body, Date.now());
    const good = await write(ok.ID, JSON.stringify(ok));
    const torn = await write(bad.ID, JSON.stringify(bad));
    const tornPath = join(dir, torn.name);
    writeFileSync(tornPath, readFileSync(tornPath).subarray(0, torn.bytes - 20)); // cut short
    const flipped = await write(bad.ID, JSON.stringify(bad));
    const flippedPath = join(dir, flipped.name);
    writeFileSync(flippedPath, readFileSync(flippedPath).toString('utf8').replace('ingest', 'ingesT')); // same size, other bytes
    writeFileSync(join(dir, '000000000000000001-0000000001-00000001-0123456789abcdef0123456789abcdef.pem'), 'not an entry at all');
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(join(dir, `.tmp-${deadPid}-abc`), 'half a wri');
    writeFileSync(join(dir, `.tmp-${process.ppid}-live`), 'a live process is writing this');

    const rk = client(systemClock, {}, brisk);
    const report = await rk.flush({ timeoutMs: 10_000 });

    expect(report).toMatchObject({ delivered: 1, failed: 3, pending: 0, timedOut: false });
    expect([...receiver.stored.keys()]).toEqual([ok.ID]);
    expect(readdirSync(dir).sort()).toEqual([`.tmp-${process.ppid}-live`, 'dead', 'outbox.lock']);
    const dead = await rk.outbox!.deadLetters();
    expect(dead.map((d) => d.reason)).toEqual(['corrupt', 'corrupt', 'corrupt']);
    expect(dead.map((d) => d.message)).toHaveLength(3);
    expect(dead.map((d) => d.message)).toEqual(
      expect.arrayContaining([
        'the file does not match its checksum',
        'the file has no header line (torn write?)',
        expect.stringMatching(/^the file holds \d+ bytes of the \d+ its header announces \(torn write\?\)$/),
      ]),
    );
    expect(rk.stats().dropped.corrupt).toBe(3);
    expect(good.name).toMatch(/^\d{18}-\d{10}-\d{8}-[0-9a-f]{32}\.pem$/);
  });
});

describe('two clients on one folder', () => {
  it('one drains; both persist; every PEM is stored once; the other takes over when the first closes', async () => {
    receiver = await startScriptableReceiver();
    await receiver.refuse();
    const a = client(systemClock, {}, brisk);
    const b = client(systemClock, {}, brisk);
    await until(() => Boolean(a.stats().outbox?.draining) !== Boolean(b.stats().outbox?.draining), 'one drainer');
    const [holder, other] = a.stats().outbox!.draining ? [a, b] : [b, a];

    const pems = Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).preparePem('ingest'));
    const results = await Promise.all(pems.map((pem, i) => (i % 2 ? a : b).sendPem(pem)));
    expect(results.every((r) => r.ok && r.value.status === 'persisted')).toBe(true);
    expect(entries()).toHaveLength(40);
    expect(other.stats().outbox!.draining).toBe(false);

    await receiver.accept();
    const [h, o] = await Promise.all([holder.flush({ timeoutMs: 20_000 }), other.flush({ timeoutMs: 20_000 })]);
    expect(h.timedOut || o.timedOut).toBe(false);
    expect(receiver.stored.size).toBe(40);
    expect([...receiver.acceptedCount.values()].every((n) => n === 1)).toBe(true);

    await holder.close();
    await until(() => other.stats().outbox!.draining, 'takeover');
    await receiver.refuse();
    const late = other.preparePem('ingest');
    expect(await other.sendPem(late)).toEqual({ ok: true, value: { ID: late.ID, status: 'persisted' } });
    await receiver.accept();
    expect((await other.flush({ timeoutMs: 20_000 })).pending).toBe(0);
    expect(receiver.stored.has(late.ID)).toBe(true);
  });

  it('takes over a lock whose process is dead', async () => {
    receiver = await startScriptableReceiver();
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
    const { hostname } = await import('node:os');
    writeFileSync(join(dir, 'outbox.lock'), JSON.stringify({ host: hostname(), pid: deadPid, token: 'gone', started: '1' }));
    const rk = client(systemClock, {}, brisk);
    await until(() => rk.stats().outbox!.draining, 'takeover');
    expect(JSON.parse(readFileSync(join(dir, 'outbox.lock'), 'utf8')).pid).toBe(process.pid);
  });

  it('leaves a lock alone while its process lives', async () => {
    receiver = await startScriptableReceiver();
    const { hostname } = await import('node:os');
    writeFileSync(join(dir, 'outbox.lock'), JSON.stringify({ host: hostname(), pid: process.ppid, token: 'parent' }));
    const rk = client(systemClock, {}, brisk);
    const pem = rk.preparePem('ingest');
    // The first attempt still goes out directly; only draining needs the lock.
    expect(await rk.sendPem(pem)).toEqual({ ok: true, value: { ID: pem.ID, status: 'accepted' } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(rk.stats().outbox!.draining).toBe(false);
  });
});

describe('dead letters', () => {
  it('a terminal 4xx moves the entry to dead/ with the reason; replay sends it again; purge deletes', async () => {
    receiver = await startScriptableReceiver();
    await receiver.refuse();
    const rk = client(systemClock, {}, brisk);
    const [one, two, three] = [rk.preparePem('a'), rk.preparePem('b'), rk.preparePem('c')];
    let refuseTwo = true;
    receiver.setRule((request) =>
      refuseTwo && request.id === two.ID ? { status: 422, body: { message: 'Type b is not allowed here', code: 'unprocessable' } } : { default: true },
    );
    for (const pem of [one, two, three]) expect((await rk.sendPem(pem)).ok).toBe(true);
    const drops: string[] = [];
    rk.on('drop', (event) => drops.push(`${event.reason}:${event.ID}`));

    await receiver.accept();
    const report = await rk.flush({ timeoutMs: 10_000 });

    expect(report).toMatchObject({ delivered: 2, failed: 1, pending: 0 });
    expect(drops).toEqual([`rejected:${two.ID}`]);
    const [letter, ...rest] = await rk.outbox!.deadLetters();
    expect(rest).toEqual([]);
    expect(letter).toMatchObject({ ID: two.ID, reason: 'rejected', status: 422 });
    expect(letter!.message).toBe('Sending PEM failed: HTTP 422 Unprocessable Entity: Type b is not allowed here');

    refuseTwo = false;
    expect(await rk.outbox!.replay()).toBe(1);
    expect((await rk.flush({ timeoutMs: 10_000 })).delivered).toBe(1);
    expect(receiver.stored.has(two.ID)).toBe(true);
    expect(await rk.outbox!.deadLetters()).toEqual([]);

    refuseTwo = true;
    receiver.setRule(() => ({ status: 400, body: { message: 'no' } }));
    const four = rk.preparePem('d');
    const result = await rk.sendPem(four); // the first attempt itself is refused: a typed error, and a dead letter
    expect(!result.ok && result.error).toBeInstanceOf(RKRejectedPemError);
    expect((await rk.outbox!.deadLetters()).map((d) => d.ID)).toEqual([four.ID]);
    expect(await rk.outbox!.purge()).toBe(1);
    expect(readdirSync(join(dir, 'dead'))).toEqual([]);
  });
});

describe('auth failures', () => {
  it('a 401 pauses draining and keeps every entry; resume() continues', async () => {
    receiver = await startScriptableReceiver();
    let authorised = false;
    receiver.setRule(() => (authorised ? { default: true } : { status: 401, body: { message: 'A credential is required' } }));
    const warnings: string[] = [];
    const rk = client(systemClock, { logger: { warn: (m) => warnings.push(m) } }, brisk);
    const paused: string[] = [];
    rk.on('paused', (event) => paused.push(event.error.message));

    const pems = [rk.preparePem('a'), rk.preparePem('b'), rk.preparePem('c')];
    for (const pem of pems) expect(await rk.sendPem(pem)).toEqual({ ok: true, value: { ID: pem.ID, status: 'persisted' } });

    expect(paused).toEqual(['Sending PEM failed: HTTP 401 Unauthorized: A credential is required; pass a credential in the client options: pucAuth (a machine credential from your RK admin) or userAuth (a personal one from the RK Dashboard)']);
    expect(warnings.some((w) => w.includes('outbox draining paused'))).toBe(true);
    expect(receiver.pemRequests()).toHaveLength(1); // paused: no further attempts
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(receiver.pemRequests()).toHaveLength(1);
    expect(entries()).toHaveLength(3);
    expect(rk.stats().outbox!.paused).toMatch(/401/);

    authorised = true;
    rk.outbox!.resume();
    expect((await rk.flush({ timeoutMs: 10_000 })).pending).toBe(0);
    expect(receiver.stored.size).toBe(3);
  });
});

describe('bounds', () => {
  it('when full it refuses new PEMs by default and loses nothing it holds', async () => {
    receiver = await startScriptableReceiver();
    await receiver.refuse();
    const rk = client(systemClock, {}, { ...brisk, maxEntries: 3 });
    const held = [rk.preparePem('a'), rk.preparePem('b'), rk.preparePem('c')];
    for (const pem of held) expect((await rk.sendPem(pem)).ok).toBe(true);
    const result = await rk.sendPem(rk.preparePem('d'));
    expect(!result.ok && result.error).toBeInstanceOf(RKQueueFullError);
    expect(!result.ok && result.error.message).toBe(
      'Sending PEM failed: the outbox is full (3 PEMs); the PEM was not accepted: wait for pending PEMs (flush()) and send it again, or raise the limit',
    );
    expect(rk.stats().dropped.outbox_full).toBe(1);
    await receiver.accept();
    await rk.flush({ timeoutMs: 10_000 });
    expect([...receiver.stored.keys()].sort()).toEqual(held.map((p) => p.ID).sort());
  });

  it("onFull: 'drop-oldest' makes room by dropping the oldest entry, counted and reported", async () => {
    // A virtual clock that stands still: no drainer probe can claim an entry while the sends run.
    const clock = new VirtualClock();
    receiver = await startScriptableReceiver();
    await receiver.refuse();
    const rk = client(clock, {}, { ...brisk, maxEntries: 2, onFull: 'drop-oldest' });
    const drops: (string | undefined)[] = [];
    rk.on('drop', (event) => event.reason === 'dropped_oldest' && drops.push(event.ID));
    const [a, b, c] = [rk.preparePem('a'), rk.preparePem('b'), rk.preparePem('c')];
    for (const pem of [a, b, c]) expect((await rk.sendPem(pem)).ok).toBe(true);
    expect(drops).toEqual([a.ID]);
    expect(rk.stats().dropped.dropped_oldest).toBe(1);
    await receiver.accept();
    const flushing = rk.flush({ timeoutMs: 10_000 });
    while (receiver.stored.size < 2) await step(clock, rk, 50);
    await flushing;
    expect([...receiver.stored.keys()].sort()).toEqual([b.ID, c.ID].sort());
  });

  it("onFull: 'drop-oldest' never drops the entry being sent: it may already be stored", async () => {
    const clock = new VirtualClock(); // stands still: no backoff ends, no drainer probe starts
    receiver = await startScriptableReceiver();
    receiver.script({ hang: true });
    receiver.setRule(() => ({ status: 503 }));
    const rk = client(clock, {}, { ...brisk, maxEntries: 2, onFull: 'drop-oldest' });
    const drops: (string | undefined)[] = [];
    rk.on('drop', (event) => event.reason === 'dropped_oldest' && drops.push(event.ID));
    const [a, b, c] = [rk.preparePem('a'), rk.preparePem('b'), rk.preparePem('c')];
    const first = rk.sendPem(a); // its first attempt hangs, so a is in flight throughout
    await until(() => receiver.pemRequests().length === 1, 'the first attempt to reach the receiver');
    expect((await rk.sendPem(b)).ok).toBe(true);
    expect((await rk.sendPem(c)).ok).toBe(true);
    expect(drops).toEqual([b.ID]);
    const held = entries().join(' ');
    expect([held.includes(a.ID), held.includes(b.ID), held.includes(c.ID)]).toEqual([true, false, true]);
    await receiver.close(); // the hanging attempt fails; a stays in the outbox
    expect(await first).toMatchObject({ ok: true, value: { status: 'persisted' } });
    const closing = rk.close({ timeoutMs: 1 });
    await clock.advance(10);
    expect(await closing).toMatchObject({ pending: 2 });
  });

  it('bounds the bytes it holds', async () => {
    receiver = await startScriptableReceiver();
    await receiver.refuse();
    const rk = client(systemClock, {}, { ...brisk, maxBytes: 2000 });
    const big = () => rk.preparePem('a', { properties: { blob: 'x'.repeat(500) } }); // ~850 bytes on disk
    expect((await rk.sendPem(big())).ok).toBe(true);
    expect((await rk.sendPem(big())).ok).toBe(true);
    const third = await rk.sendPem(big());
    expect(!third.ok && (third.error as RKQueueFullError).limit).toBe('2000 bytes');
  });

  it('moves entries older than maxAgeMs to dead/ instead of sending them', async () => {
    const clock = new VirtualClock();
    receiver = await startScriptableReceiver({ now: () => clock.now() });
    await receiver.refuse();
    const rk = client(clock, {}, { maxAgeMs: 60_000, maxBackoffMs: 10_000 });
    const old = rk.preparePem('a');
    expect((await rk.sendPem(old)).ok).toBe(true);
    await step(clock, rk, 61_000);
    await receiver.accept();
    while ((await rk.outbox!.deadLetters()).length === 0) await step(clock, rk, 5_000);
    expect((await rk.outbox!.deadLetters())[0]).toMatchObject({ ID: old.ID, reason: 'expired' });
    expect(receiver.stored.size).toBe(0);
    expect(rk.stats().dropped.expired).toBe(1);
  });
});

describe('close with an outbox', () => {
  it('with a hung receiver, resolves at its deadline with timedOut: true; the PEM stays for the next start', async () => {
    const clock = new VirtualClock({ start: Date.now() }); // the next client runs on real time
    receiver = await startScriptableReceiver({ now: () => clock.now() });
    receiver.setRule(() => ({ hang: true }));
    const rk = client(clock);
    const pem = rk.preparePem('ingest');
    const sending = rk.sendPem(pem);
    await until(() => receiver.pemRequests().length === 1, 'the first attempt');

    const closing = rk.close({ timeoutMs: 2_000 });
    await clock.advance(2_000);
    const report = await closing;

    expect(report).toMatchObject({ timedOut: true, pending: 1, failed: 0, persisted: 1 });
    expect(await sending).toEqual({ ok: true, value: { ID: pem.ID, status: 'persisted' } });
    expect(rk.close()).toBe(closing);
    expect(entries()).toHaveLength(1);
    expect(readdirSync(dir)).not.toContain('outbox.lock');

    receiver.setRule(() => ({ default: true }));
    const next = client(systemClock, {}, brisk);
    expect(await next.flush({ timeoutMs: 10_000 })).toMatchObject({ delivered: 1, pending: 0 });
    expect(receiver.stored.get(pem.ID)).toBe(JSON.stringify(pem));
  });
});

describe('an outbox that cannot be used', () => {
  it('warns once and sends directly instead of failing or dropping', async () => {
    receiver = await startScriptableReceiver();
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, '');
    const warnings: string[] = [];
    const rk = new RKClient(receiver.url, 'trainer', {
      logger: { warn: (m) => warnings.push(m) },
      outbox: { dir: join(file, 'outbox') },
    });
    clients.push(rk);
    const pems = [rk.preparePem('a'), rk.preparePem('b')];
    for (const pem of pems) expect(await rk.sendPem(pem)).toEqual({ ok: true, value: { ID: pem.ID, status: 'accepted' } });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^the outbox in .*not-a-folder\/outbox cannot be used \(.*ENOTDIR.*\); this client sends PEMs without it \(retrying in memory only\) until it is recreated$/);
    expect(receiver.stored.size).toBe(2);
  });
});

describe('the drainer', () => {
  it("honours a Retry-After in its entry's own backoff, beyond the usual delay", async () => {
    const clock = new VirtualClock();
    receiver = await startScriptableReceiver({ now: () => clock.now() });
    let down = true;
    receiver.setRule(() => (down ? { status: 503, retryAfter: 120 } : { default: true }));
    const rk = client(clock);
    const pem = rk.preparePem('ingest');
    expect(await rk.sendPem(pem)).toEqual({ ok: true, value: { ID: pem.ID, status: 'persisted' } });
    down = false;
    while (receiver.stored.size === 0) await step(clock, rk, 10_000);
    expect(receiver.pemRequests().map((r) => r.at)).toEqual([0, 120_000]);
    expect(receiver.pemRequests().map((r) => r.attempt)).toEqual(['1', '2']);
  });

  it('a Receiver that fails every request gets a run of them, then the whole drainer waits, as long as Retry-After asks (up to maxBackoffMs)', async () => {
    const clock = new VirtualClock();
    receiver = await startScriptableReceiver({ now: () => clock.now() });
    let down = true;
    receiver.setRule(() => (down ? { status: 503, retryAfter: 120 } : { default: true }));
    const rk = client(clock);
    const pems = Array.from({ length: 40 }, (_, i) => rk.preparePem('ingest', { properties: { i } }));
    for (const pem of pems) expect(await rk.sendPem(pem)).toMatchObject({ ok: true, value: { status: 'persisted' } });
    // Eight failures in a row (2 x concurrency 4) say "down": then nothing more is sent.
    expect(receiver.pemRequests()).toHaveLength(8);
    expect(rk.stats().outbox).toMatchObject({ backoffMs: 120_000, consecutiveFailures: 1 });
    await step(clock, rk, 60_000);
    expect(receiver.pemRequests()).toHaveLength(8);
    down = false;
    while (receiver.stored.size < 40) await step(clock, rk, 10_000);
    // The first request after the wait is one probe, at 120 s.
    expect(receiver.pemRequests()[8]!.at).toBe(120_000);
    expect([...receiver.acceptedCount.values()].every((n) => n === 1)).toBe(true);
  });

  it('a Receiver failing one request in three (resets, 503, 429 with Retry-After) never backs the drainer off as a whole', async () => {
    receiver = await startScriptableReceiver();
    receiver.setRule(() => ({ status: 503 }));
    const rk = client(systemClock, { retry: { baseDelayMs: 5, maxDelayMs: 50 } }, { pollIntervalMs: 10, fsync: false });
    const pems = Array.from({ length: 150 }, (_, i) => rk.preparePem('ingest', { properties: { i } }));
    for (const pem of pems) expect(await rk.sendPem(pem)).toMatchObject({ ok: true });
    const faults: Action[] = [{ status: 503 }, { status: 429, retryAfter: 1 }, { reset: 'before-response' }, { reset: 'after-commit' }];
    receiver.setRule((_request, n) => (n % 3 === 0 ? faults[Math.floor(n / 3) % faults.length]! : { default: true }));
    let stoppedAsAWhole = 0;
    let sampling = true;
    let delivered = 0;
    rk.on('delivered', () => delivered++);
    const sampler = (async () => {
      while (sampling) {
        const outbox = rk.stats().outbox!;
        // Counted once the outage before this phase is over (a success ends its backoff).
        if (delivered > 0 && (outbox.backoffMs > 0 || outbox.consecutiveFailures > 0)) stoppedAsAWhole++;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    const report = await rk.flush({ timeoutMs: 60_000 });
    sampling = false;
    await sampler;
    expect(report).toMatchObject({ pending: 0, timedOut: false, failed: 0 });
    expect(receiver.stored.size).toBe(150);
    for (const pem of pems) expect(receiver.stored.get(pem.ID)).toBe(JSON.stringify(pem));
    expect([...receiver.acceptedCount.values()].every((n) => n === 1)).toBe(true);
    expect(receiver.pemRequests().filter((r, n) => n > 8 && n % 3 === 0).length).toBeGreaterThan(40);
    expect(stoppedAsAWhole).toBe(0);
  }, 60_000);

  it('survives a file system error: reports it once and tries again', async () => {
    receiver = await startScriptableReceiver();
    await receiver.refuse();
    const warnings: string[] = [];
    const rk = client(systemClock, { logger: { warn: (m) => warnings.push(m) } }, brisk);
    const pem = rk.preparePem('ingest');
    expect((await rk.sendPem(pem)).ok).toBe(true);
    // dead/ becomes a file: moving the refused entry there fails until it is a folder again
    rmSync(join(dir, 'dead'), { recursive: true });
    writeFileSync(join(dir, 'dead'), '');
    receiver.setRule(() => ({ status: 400, body: { message: 'no' } }));
    await receiver.accept();
    await until(() => warnings.some((w) => w.includes('hit a problem and will try again')), 'the warning');
    rmSync(join(dir, 'dead'));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'dead'));
    await until(async () => (await rk.outbox!.deadLetters()).length === 1, 'the entry to be buried');
    expect(warnings.filter((w) => w.includes('hit a problem'))).toHaveLength(1);
  });

  it("stops with the client's signal", async () => {
    receiver = await startScriptableReceiver();
    const controller = new AbortController();
    const rk = client(systemClock, { signal: controller.signal }, brisk);
    await until(() => rk.stats().outbox!.draining, 'the lock');
    controller.abort();
    await until(() => !rk.stats().outbox!.draining, 'the drainer to stop');
    expect(readdirSync(dir)).not.toContain('outbox.lock');
  });
});
