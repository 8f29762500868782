import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RKConnectionError, RKHttpError, RKTimeoutError, RKUnexpectedResponseError } from '../../src/index.js';
import { backoffDelay, parseRetryAfter, retryDelay } from '../../src/resilience/backoff.js';
import { RetryBudget } from '../../src/resilience/budget.js';
import { clampDelay, MAX_TIMER_MS, systemClock } from '../../src/resilience/clock.js';
import { Limiter } from '../../src/resilience/limiter.js';
import { OutboxLock } from '../../src/delivery/outbox/lock.js';
import { OutboxStore, parseEntry } from '../../src/delivery/outbox/store.js';
import { isRetryable, mayHaveBeenProcessed, neverLeft, resolveRetryPolicy } from '../../src/core/retry-policy.js';

const shape = { baseDelayMs: 500, maxDelayMs: 30_000 };

describe('backoff', () => {
  it('doubles from 500 ms up to 30 s; jitter 1 gives the nominal delay', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, shape, () => 1))).toEqual([
      500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000,
    ]);
  });

  it('jitter stays within [50%, 100%] of the nominal delay', () => {
    expect(backoffDelay(3, shape, () => 0)).toBe(1000);
    expect(backoffDelay(3, shape, () => 0.5)).toBe(1500);
    for (let i = 0; i < 1000; i++) {
      const d = backoffDelay(4, shape, Math.random);
      expect(d).toBeGreaterThanOrEqual(2000);
      expect(d).toBeLessThanOrEqual(4000);
    }
  });

  it('never overflows, whatever the retry number', () => {
    expect(backoffDelay(5000, shape, () => 1)).toBe(30_000);
    expect(backoffDelay(40, { baseDelayMs: 500, maxDelayMs: 2 ** 40 }, () => 1)).toBe(MAX_TIMER_MS);
  });

  it('a Retry-After is a floor, capped', () => {
    const caps = { ...shape, maxRetryAfterMs: 60_000 };
    expect(retryDelay(1, caps, () => 1, 2000)).toBe(2000);
    expect(retryDelay(4, caps, () => 1, 2000)).toBe(4000); // the backoff is longer: it wins
    expect(retryDelay(1, caps, () => 1, 3_600_000)).toBe(60_000);
    expect(retryDelay(1, caps, () => 1, undefined)).toBe(500);
  });

  it('clamps every delay below 2^31 ms', () => {
    expect(clampDelay(2 ** 40)).toBe(2 ** 31 - 1);
    expect(clampDelay(-5)).toBe(0);
    expect(clampDelay(Number.NaN)).toBe(0);
    expect(clampDelay(1.2)).toBe(2);
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2026-11-27T22:00:00Z');
  it.each([
    ['2', 2000],
    [' 120 ', 120_000],
    ['0', 0],
    ['Fri, 27 Nov 2026 22:00:30 GMT', 30_000],
    ['Friday, 27-Nov-26 22:00:30 GMT', 30_000],
    ['Fri Nov 27 22:00:30 2026', 30_000 + new Date(now).getTimezoneOffset() * 60_000],
    ['Fri, 27 Nov 2026 21:00:00 GMT', 0],
    ['99999999999', MAX_TIMER_MS],
  ])('reads %j as %i ms', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });

  it.each([[null], [undefined], [''], ['-1'], ['1.5'], ['soon'], ['12345678901234567890x']])('ignores %j', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});

describe('retry budget', () => {
  it('spends a token per retry, refuses when empty, refills on success up to its capacity', () => {
    const budget = new RetryBudget({ capacity: 2, refillPerSuccess: 1 });
    expect([budget.tryAcquire(), budget.tryAcquire(), budget.tryAcquire()]).toEqual([true, true, false]);
    budget.onSuccess();
    expect(budget.tokens).toBe(1);
    budget.onSuccess();
    budget.onSuccess();
    expect(budget.tokens).toBe(2);
  });

  it('supports fractional refills', () => {
    const budget = new RetryBudget({ capacity: 1, refillPerSuccess: 0.5 });
    budget.tryAcquire();
    budget.onSuccess();
    expect(budget.tryAcquire()).toBe(false);
    budget.onSuccess();
    expect(budget.tryAcquire()).toBe(true);
  });
});

describe('limiter', () => {
  it('admits up to its limit and then serves waiters in order', async () => {
    const limiter = new Limiter(2);
    const order: number[] = [];
    const a = await limiter.acquire();
    const b = await limiter.acquire();
    const waiting = [3, 4].map((n) => limiter.acquire().then((release) => (order.push(n), release)));
    expect([limiter.active, limiter.waiting]).toEqual([2, 2]);
    a();
    a(); // a second release is a no-op
    const c = await waiting[0]!;
    expect([limiter.active, limiter.waiting]).toEqual([2, 1]);
    b();
    c();
    (await waiting[1]!)();
    expect(order).toEqual([3, 4]);
    expect(limiter.active).toBe(0);
  });

  it('a waiter whose signal aborts leaves the line without a slot', async () => {
    const limiter = new Limiter(1);
    const held = await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    controller.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    expect(limiter.waiting).toBe(0);
    held();
    expect(limiter.active).toBe(0);
  });
});

describe('what is retried', () => {
  const http = (status: number) => new RKHttpError('Op', status, '', '', new Headers());
  const conn = (code: string) => new RKConnectionError('Op', 'http://x', Object.assign(new Error(code), { code }));

  it.each([408, 429, 500, 502, 503, 504])('retries HTTP %i for an idempotent request', (status) => {
    expect(isRetryable(http(status), true)).toBe(true);
    expect(isRetryable(http(status), false)).toBe(false);
  });

  it.each([400, 401, 403, 404, 409, 413, 422, 501, 505])('never retries HTTP %i', (status) => {
    expect(isRetryable(http(status), true)).toBe(false);
  });

  it('retries a request that never left even when it is not idempotent', () => {
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']) {
      expect(neverLeft(conn(code))).toBe(true);
      expect(isRetryable(conn(code), false)).toBe(true);
      expect(mayHaveBeenProcessed(conn(code))).toBe(false);
    }
  });

  it('retries resets and timeouts only when idempotent: the request may have been processed', () => {
    for (const error of [conn('ECONNRESET'), conn('UND_ERR_SOCKET'), new RKTimeoutError('Op', 'http://x', 10)]) {
      expect(isRetryable(error, true)).toBe(true);
      expect(isRetryable(error, false)).toBe(false);
      expect(mayHaveBeenProcessed(error)).toBe(true);
    }
  });

  it('never retries a 2xx whose body is wrong', () => {
    expect(isRetryable(new RKUnexpectedResponseError('Op', 200, 'bad'), true)).toBe(false);
  });

  it('resolves the documented defaults', () => {
    expect(resolveRetryPolicy('Op', undefined)).toEqual({
      maxAttempts: 5,
      baseDelayMs: 500,
      maxDelayMs: 30_000,
      maxRetryAfterMs: 60_000,
      totalTimeoutMs: 30_000,
    });
    expect(resolveRetryPolicy('Op', false).maxAttempts).toBe(1);
  });
});

describe('system clock', () => {
  it('sleeps, and stops sleeping when aborted', async () => {
    await systemClock.sleep(1);
    const controller = new AbortController();
    const sleeping = systemClock.sleep(60_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(sleeping).rejects.toThrow('stop');
  });

  it('times out with a TimeoutError, and a cancelled timeout never fires', async () => {
    const signal = systemClock.timeout(1);
    await new Promise((resolve) => signal.addEventListener('abort', resolve));
    expect((signal.reason as DOMException).name).toBe('TimeoutError');
    const cancel = new AbortController();
    const never = systemClock.timeout(5, cancel.signal);
    cancel.abort();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(never.aborted).toBe(false);
  });
});

describe('outbox files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rk-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const ID = '0192f3a4b5c67d8e9f0a1b2c3d4e5f60';
  const body = JSON.stringify({ ID, Type: 'ingest', Properties: { text: 'é' } });

  it('writes a header line and the exact body; reads it back verified; lists oldest first', async () => {
    const store = new OutboxStore(dir, { fsync: true, onSyncError: () => {} });
    await store.init();
    const second = store.nameFor(ID, 2000);
    const first = store.nameFor(ID, 1000);
    await store.write(second, body, 2000);
    const written = await store.write(first, body, 1000);
    const raw = readFileSync(join(dir, first));
    expect(raw.toString('utf8')).toMatch(new RegExp(`^RKPEM/1 [0-9a-f]{64} ${Buffer.byteLength(body)} 1000\\n`));
    expect(written.bytes).toBe(raw.length);
    expect(await store.list()).toEqual([first, second]);
    expect(await store.read(first)).toEqual({ state: 'ok', entry: { name: first, ID, body, enqueuedAt: 1000, bytes: raw.length } });
    expect(await store.read('missing.pem')).toEqual({ state: 'gone' });
    expect(await store.scan()).toEqual(new Map([[first, raw.length], [second, raw.length]]));
  });

  it('recognises torn and altered files', () => {
    const good = Buffer.from(`RKPEM/1 ${'0'.repeat(64)} 3 1\nabc`);
    expect(parseEntry('x.pem', good)).toEqual({ state: 'corrupt', problem: 'does not match its checksum' });
    expect(parseEntry('x.pem', Buffer.from('RKPEM/1 abc'))).toEqual({ state: 'corrupt', problem: 'has no header line (torn write?)' });
    expect(parseEntry('x.pem', Buffer.from('RKPEM/2 a 1 1\nx'))).toEqual({ state: 'corrupt', problem: 'has an unreadable header' });
    expect(parseEntry('x.pem', Buffer.from(`RKPEM/1 ${'0'.repeat(64)} 9 1\nabc`))).toEqual({
      state: 'corrupt',
      problem: 'holds 3 bytes of the 9 its header announces (torn write?)',
    });
  });

  it('buries with a reason, lists dead letters, replays and purges', async () => {
    const store = new OutboxStore(dir, { fsync: false, onSyncError: () => {} });
    await store.init();
    const name = store.nameFor(ID, 1);
    await store.write(name, body, 1);
    expect(await store.bury(name, { reason: 'rejected', message: 'no', status: 422 }, Date.parse('2026-11-27T22:00:00Z'))).toBe(true);
    expect(await store.bury(name, { reason: 'rejected', message: 'no' }, 0)).toBe(false); // already gone
    expect(await store.deadLetters()).toEqual([
      { file: name, ID, reason: 'rejected', message: 'no', status: 422, deadAt: '2026-11-27T22:00:00.000Z' },
    ]);
    expect(await store.replay(['other.pem'])).toEqual([]);
    expect(await store.replay()).toEqual([name]);
    expect(await store.list()).toEqual([name]);
    await store.bury(name, { reason: 'expired', message: 'old' }, 0);
    expect(await store.purge()).toBe(1);
    expect(await store.deadCount()).toBe(0);
  });

  it('groups folder fsyncs: many concurrent writes, few syncs, each write covered', async () => {
    const store = new OutboxStore(dir, { fsync: true, onSyncError: () => {} });
    await store.init();
    const names = Array.from({ length: 50 }, (_, i) => store.nameFor(ID, i));
    await Promise.all(names.map((name, i) => store.write(name, body, i)));
    expect(await store.list()).toEqual([...names].sort());
  });
});

describe('outbox lock', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rk-lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is exclusive while held, and free again once released', async () => {
    const first = await OutboxLock.acquire(dir, { staleMs: 60_000 });
    expect(first).toBeDefined();
    expect(await OutboxLock.acquire(dir, { staleMs: 60_000 })).toBeUndefined();
    await first!.release();
    const again = await OutboxLock.acquire(dir, { staleMs: 60_000 });
    expect(again).toBeDefined();
    await again!.release();
  });

  it('takes over the lock of a dead process, and of an earlier incarnation of this PID', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(join(dir, 'outbox.lock'), JSON.stringify({ host: hostname(), pid: dead, token: 't' }));
    const lock = await OutboxLock.acquire(dir, { staleMs: 60_000 });
    expect(lock).toBeDefined();
    await lock!.release();
    writeFileSync(join(dir, 'outbox.lock'), JSON.stringify({ host: hostname(), pid: process.pid, token: 'before-a-restart' }));
    const mine = await OutboxLock.acquire(dir, { staleMs: 60_000 });
    expect(mine).toBeDefined();
    await mine!.release();
  });

  it("respects another host's lock until it stops refreshing it", async () => {
    writeFileSync(join(dir, 'outbox.lock'), JSON.stringify({ host: 'elsewhere', pid: 1, token: 't' }));
    expect(await OutboxLock.acquire(dir, { staleMs: 60_000 })).toBeUndefined();
    const { utimes } = await import('node:fs/promises');
    const old = new Date(Date.now() - 120_000);
    await utimes(join(dir, 'outbox.lock'), old, old);
    const lock = await OutboxLock.acquire(dir, { staleMs: 60_000 });
    expect(lock).toBeDefined();
    await lock!.release();
  });
});
