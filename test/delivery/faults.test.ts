import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  RKAuthError,
  RKClient,
  RKConnectionError,
  RKHttpError,
  RKPemTooLargeError,
  RKQueueFullError,
  RKNotFoundError,
  RKRejectedPemError,
  RKTimeoutError,
  type Logger,
  type RKOptions,
} from '../../src/index.js';
import { startScriptableReceiver, type ScriptableReceiver } from '../helpers/scriptable-receiver.js';
import { until, VirtualClock } from '../helpers/virtual-clock.js';

/**
 * The fault-injection list, against a real HTTP receiver on 127.0.0.1 with virtual time:
 * request times are read from the injected clock, jitter is fixed at 100% (random = 1).
 */

const silent: Logger = { warn: () => {} };

/**
 * Every fault runs on both ways a request can go: undici's Pool (Node without an injected fetch)
 * and fetch (every other runtime, or an injected fetch), which must behave alike.
 */
const WIRES: [string, RKOptions][] = [
  ['the undici path', {}],
  ['the fetch path', { fetch: (input, init) => globalThis.fetch(input, init) }],
];
let wire: RKOptions = {};
let receiver: ScriptableReceiver | undefined;
const clients: RKClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close({ timeoutMs: 1 })));
  await receiver?.close();
  receiver = undefined;
});

async function setup(clock: VirtualClock, options: RKOptions = {}) {
  receiver = await startScriptableReceiver({ now: () => clock.now() });
  const rk = new RKClient(receiver.url, 'trainer', { clock, random: () => 1, logger: silent, ...wire, ...options });
  clients.push(rk);
  return { rk, receiver };
}

function since(first: number) {
  return (r: { at: number }) => r.at - first;
}

describe.each(WIRES)('on %s', (_, options) => {
  beforeEach(() => {
    wire = options;
  });

  describe('retries with backoff', () => {
    it('503 three times, then 200: four requests with the same ID at 0 / 500 / 1500 / 3500 ms, one PEM stored', async () => {
      const clock = new VirtualClock({ auto: true });
      const { rk, receiver } = await setup(clock);
      receiver.script({ status: 503 }, { status: 503 }, { status: 503 });
      const pem = rk.preparePem('ingest');

      const result = await rk.sendPem(pem);

      expect(result).toEqual({ ok: true, value: { ID: pem.ID, status: 'accepted' } });
      const posts = receiver.pemRequests();
      expect(posts.map(since(posts[0]!.at))).toEqual([0, 500, 1500, 3500]);
      expect(posts.map((r) => r.id)).toEqual([pem.ID, pem.ID, pem.ID, pem.ID]);
      expect(posts.map((r) => r.idempotencyKey)).toEqual([pem.ID, pem.ID, pem.ID, pem.ID]);
      expect(posts.map((r) => r.attempt)).toEqual(['1', '2', '3', '4']);
      expect(new Set(posts.map((r) => r.body)).size).toBe(1);
      expect([...receiver.stored.keys()]).toEqual([pem.ID]);
      expect(rk.stats()).toMatchObject({ attempts: 4, retries: 3, delivered: 1, duplicates: 0, failed: 0 });
    });

    it('429 with Retry-After: 2, then 200: the second request at 2000 ms', async () => {
      const clock = new VirtualClock({ auto: true });
      const { rk, receiver } = await setup(clock);
      receiver.script({ status: 429, retryAfter: 2 });
      const pem = rk.preparePem('ingest');

      expect(await rk.sendPem(pem)).toEqual({ ok: true, value: { ID: pem.ID, status: 'accepted' } });

      const posts = receiver.pemRequests();
      expect(posts.map(since(posts[0]!.at))).toEqual([0, 2000]);
      expect(receiver.stored.size).toBe(1);
    });

    it('a Retry-After given as an HTTP date is a floor too, capped at 60 s', async () => {
      const clock = new VirtualClock({ auto: true, start: Date.parse('2026-11-27T22:00:00Z') });
      const { rk, receiver } = await setup(clock, { retry: { totalTimeoutMs: 120_000 } });
      receiver.script(
        { status: 503, retryAfter: 'Fri, 27 Nov 2026 22:00:07 GMT' },
        { status: 503, retryAfter: '3600' },
      );
      const pem = rk.preparePem('ingest');

      expect((await rk.sendPem(pem)).ok).toBe(true);

      const posts = receiver.pemRequests();
      expect(posts.map(since(posts[0]!.at))).toEqual([0, 7000, 67_000]);
    });

    it('commit, then reset the connection, then 200: two requests, one stored PEM, result delivered', async () => {
      const clock = new VirtualClock({ auto: true });
      const { rk, receiver } = await setup(clock);
      receiver.script({ reset: 'after-commit' });
      const pem = rk.preparePem('ingest');

      const result = await rk.sendPem(pem);

      // The second answer is "duplicate" (the first attempt stored it); for this call it is its own delivery.
      expect(result).toEqual({ ok: true, value: { ID: pem.ID, status: 'accepted' } });
      expect(receiver.pemRequests()).toHaveLength(2);
      expect(receiver.stored.size).toBe(1);
      expect(receiver.acceptedCount.get(pem.ID)).toBe(1);
    });

    it('a reset before any answer is retried; nothing is stored twice', async () => {
      const clock = new VirtualClock({ auto: true });
      const { rk, receiver } = await setup(clock);
      receiver.script({ reset: 'before-response' }, { reset: 'before-response' });
      const pem = rk.preparePem('ingest');
      const retries: number[] = [];
      rk.on('retry', (event) => retries.push(event.delayMs));

      expect(await rk.sendPem(pem)).toEqual({ ok: true, value: { ID: pem.ID, status: 'accepted' } });
      expect(retries).toEqual([500, 1000]);
      expect(receiver.pemRequests()).toHaveLength(3);
      expect(receiver.stored.size).toBe(1);
    });

    it('gives up after 5 attempts and returns the last failure', async () => {
      const clock = new VirtualClock({ auto: true });
      const { rk, receiver } = await setup(clock);
      receiver.setRule(() => ({ status: 502 }));
      const result = await rk.sendPem(rk.preparePem('ingest'));
      expect(!result.ok && result.error).toBeInstanceOf(RKHttpError);
      expect(!result.ok && (result.error as RKHttpError).status).toBe(502);
      expect(receiver.pemRequests()).toHaveLength(5);
      expect(rk.stats()).toMatchObject({ attempts: 5, retries: 4, failed: 1, dropped: expect.objectContaining({ http: 1 }) });
    });

    it('connection refused is retried; the PEM goes out once the receiver listens again', async () => {
      const clock = new VirtualClock({ auto: true });
      const { rk, receiver } = await setup(clock);
      await receiver.refuse();
      let refusals = 0;
      rk.on('retry', (event) => {
        expect(event.error).toBeInstanceOf(RKConnectionError);
        if (++refusals === 2) void receiver.accept();
      });
      const pem = rk.preparePem('ingest');
      const result = await rk.sendPem(pem);
      expect(result).toEqual({ ok: true, value: { ID: pem.ID, status: 'accepted' } });
      expect(receiver.stored.size).toBe(1);
    });
  });

  describe('requests that are never retried', () => {
    it.each([404, 405])('%i for POST /pem says the Receiver URL is wrong, once, and is not a rejection of the PEM', async (status) => {
      const clock = new VirtualClock({ auto: true });
      const { rk, receiver } = await setup(clock);
      receiver.script({ status, body: { message: 'no such route' } });

      const result = await rk.sendPem(rk.preparePem('ingest'));

      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error).toBeInstanceOf(RKNotFoundError);
      expect(result.error).not.toBeInstanceOf(RKRejectedPemError);
      const error = result.error as RKNotFoundError;
      expect(error.status).toBe(status);
      expect(error.url).toBe(`${receiver.url}/pem`);
      expect(error.message).toBe(
        `Sending PEM failed: HTTP ${status} ${status === 404 ? 'Not Found' : 'Method Not Allowed'}: no such route; ` +
          `POST ${receiver.url}/pem does not exist there: check the base URL given to the client`,
      );
      expect(receiver.pemRequests()).toHaveLength(1);
      expect(rk.stats().dropped.not_found).toBe(1);
      expect(rk.stats().dropped.rejected).toBe(0);
    });

    it.each([
      [400, RKRejectedPemError, 'rejected'],
      [401, RKAuthError, 'auth'],
      [403, RKAuthError, 'auth'],
      [409, RKRejectedPemError, 'rejected'],
      [413, RKPemTooLargeError, 'too_large'],
      [422, RKRejectedPemError, 'rejected'],
    ] as const)('%i: exactly one request and the matching typed error', async (status, type, reason) => {
      const clock = new VirtualClock({ auto: true });
      const { rk, receiver } = await setup(clock);
      receiver.script({ status, body: { message: `the receiver says ${status}`, code: 'scripted' } });

      const result = await rk.sendPem(rk.preparePem('ingest'));

      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error).toBeInstanceOf(type);
      expect(result.error).toBeInstanceOf(RKHttpError);
      const error = result.error as RKHttpError;
      expect(error.status).toBe(status);
      expect(error.serverMessage).toBe(`the receiver says ${status}`);
      const hint = status === 401 ? '; pass a credential in the client options: pucAuth (a machine credential from your RK admin) or userAuth (a personal one from the RK Dashboard)' : status === 403 ? '; the credential is valid but may not do this; ask your RK admin for one that may' : '';
      expect(error.message).toMatch(new RegExp(`^Sending PEM failed: HTTP ${status} [A-Za-z ]+: the receiver says ${status}`));
      expect(error.message.endsWith(`the receiver says ${status}${hint}`)).toBe(true);
      expect(error).not.toBeInstanceOf(RKNotFoundError);
      expect(receiver.pemRequests()).toHaveLength(1);
      expect(rk.stats().dropped[reason]).toBe(1);
      if (error instanceof RKPemTooLargeError) expect(error.sizeBytes).toBeGreaterThan(100);
    });
  });

  describe('deadlines', () => {
    it('a receiver that accepts the connection and never answers: settles at the total deadline (30 s)', async () => {
      const clock = new VirtualClock();
      const { rk, receiver } = await setup(clock);
      receiver.setRule(() => ({ hang: true }));
      const posts = () => receiver.pemRequests();
      let settled = false;
      const pending = rk.sendPem(rk.preparePem('ingest')).finally(() => (settled = true));

      await until(() => posts().length === 1, 'attempt 1');
      await clock.advanceTo(10_000); // attempt 1 times out (10 s per attempt)
      await until(() => clock.pendingSleeps === 1, 'backoff 1');
      await clock.advanceTo(10_500);
      await until(() => posts().length === 2, 'attempt 2');
      await clock.advanceTo(20_500);
      await until(() => clock.pendingSleeps === 1, 'backoff 2');
      await clock.advanceTo(21_500);
      await until(() => posts().length === 3, 'attempt 3');
      await clock.advanceTo(29_999);
      expect(settled).toBe(false);
      await clock.advanceTo(30_000); // attempt 3 is cut short by the total deadline

      const result = await pending;
      expect(posts().map((r) => r.at)).toEqual([0, 10_500, 21_500]);
      expect(!result.ok && result.error).toBeInstanceOf(RKTimeoutError);
      const error = !result.ok && (result.error as RKTimeoutError);
      expect(error && error.timeoutMs).toBe(30_000);
      expect(error && error.message).toBe(`Sending PEM failed: no answer from ${receiver.url} within 30000 ms; raise totalTimeoutMs if the service is slow`);
      expect(rk.stats().dropped.timeout).toBe(1);
    });

    it('a per-call totalTimeoutMs and timeoutMs override the client defaults', async () => {
      const clock = new VirtualClock();
      const { rk, receiver } = await setup(clock);
      receiver.setRule(() => ({ hang: true }));
      const pending = rk.sendPem(rk.preparePem('ingest'), { timeoutMs: 100, totalTimeoutMs: 250 });
      await until(() => receiver.pemRequests().length === 1);
      await clock.advanceTo(100);
      // The 500 ms backoff would end past the 250 ms deadline: the call ends now, without waiting.
      const result = await pending;
      expect(clock.sleeps).toEqual([]);
      expect(!result.ok && result.error).toBeInstanceOf(RKTimeoutError);
      expect(!result.ok && (result.error as RKTimeoutError).timeoutMs).toBe(100);
      expect(receiver.pemRequests()).toHaveLength(1);
    });

    it('refuses a per-call deadline a timer cannot hold', async () => {
      const clock = new VirtualClock({ auto: true });
      const { rk } = await setup(clock);
      const result = await rk.sendPem(rk.preparePem('ingest'), { totalTimeoutMs: -1 });
      expect(!result.ok && result.error.message).toBe('Sending PEM failed: totalTimeoutMs must be a positive number of milliseconds below 2^31, got -1');
    });
  });

  describe('retry budget', () => {
    it('with the receiver answering 503 to everything, 100 concurrent sends make at most 120 requests', async () => {
      const clock = new VirtualClock({ auto: true });
      const { rk, receiver } = await setup(clock);
      receiver.setRule(() => ({ status: 503 }));
      const pems = Array.from({ length: 100 }, () => rk.preparePem('ingest'));

      const results = await Promise.all(pems.map((pem) => rk.sendPem(pem)));

      expect(results.every((r) => !r.ok && r.error instanceof RKHttpError && r.error.status === 503)).toBe(true);
      expect(receiver.pemRequests()).toHaveLength(120);
      // plus the one /info read for the size limit
      expect(receiver.requests).toHaveLength(121);
      const stats = rk.stats();
      expect(stats).toMatchObject({ attempts: 120, retries: 20, retryBudget: 0, failed: 100 });
      expect(stats.retriesDenied).toBe(100);
    });

    it('successes refill the budget', async () => {
      const clock = new VirtualClock({ auto: true });
      const { rk, receiver } = await setup(clock, { retry: { budget: { capacity: 1 } } });
      receiver.script({ status: 503 }, { status: 503 });
      const first = await rk.sendPem(rk.preparePem('ingest')); // 503, retry (token spent), 503: budget empty
      expect(!first.ok && rk.stats().retriesDenied).toBe(1);
      expect((await rk.sendPem(rk.preparePem('ingest'))).ok).toBe(true); // a success puts a token back
      expect(rk.stats().retryBudget).toBe(1);
    });
  });

  describe('queue bounds', () => {
    it('the first PEM over the bound fails at once; nothing already queued is lost', async () => {
      const clock = new VirtualClock({ auto: true });
      const { rk, receiver } = await setup(clock, { queue: { maxEntries: 10 }, maxInFlight: 2 });
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      receiver.setRule(() => ({ default: true, gate }));
      const queued = Array.from({ length: 10 }, () => rk.preparePem('ingest'));
      let settled = 0;
      const sends = queued.map((pem) => rk.sendPem(pem).finally(() => settled++));
      await until(() => receiver.pemRequests().length === 2, 'two in flight');
      expect(rk.stats()).toMatchObject({ pending: 10, inFlight: 2 });

      const over = rk.preparePem('ingest');
      const refused = await rk.sendPem(over);

      expect(settled).toBe(0);
      expect(!refused.ok && refused.error).toBeInstanceOf(RKQueueFullError);
      expect(!refused.ok && refused.error.message).toBe(
        'Sending PEM failed: the send queue is full (10 PEMs); the PEM was not accepted: wait for pending PEMs (flush()) and send it again, or raise the limit',
      );
      open();
      const results = await Promise.all(sends);
      expect(results.every((r) => r.ok && r.value.status === 'accepted')).toBe(true);
      expect([...receiver.stored.keys()].sort()).toEqual(queued.map((p) => p.ID).sort());
      expect(receiver.stored.has(over.ID)).toBe(false);
      expect(receiver.pemRequests().length).toBe(10); // never more than 2 at once, each once
      expect(rk.stats().dropped.queue_full).toBe(1);
      // Backpressure, not a dead end: once there is room the same PEM goes through.
      expect(await rk.sendPem(over)).toEqual({ ok: true, value: { ID: over.ID, status: 'accepted' } });
    });

    it('bounds the queue by bytes as well', async () => {
      const clock = new VirtualClock({ auto: true });
      const { rk, receiver } = await setup(clock, { queue: { maxBytes: 1500 } });
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      receiver.setRule(() => ({ default: true, gate }));
      const big = () => rk.preparePem('ingest', { properties: { blob: 'x'.repeat(400) } });
      const sends = [rk.sendPem(big()), rk.sendPem(big())];
      const third = await rk.sendPem(big());
      expect(!third.ok && (third.error as RKQueueFullError).limit).toBe('1500 bytes');
      open();
      expect((await Promise.all(sends)).every((r) => r.ok)).toBe(true);
    });

    it('keeps at most maxInFlight requests open at once', async () => {
      const clock = new VirtualClock({ auto: true });
      const { rk, receiver } = await setup(clock, { maxInFlight: 3 });
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      receiver.setRule(() => ({ default: true, gate }));
      const sends = Array.from({ length: 12 }, () => rk.sendPem(rk.preparePem('ingest')));
      await until(() => receiver.pemRequests().length === 3);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(receiver.pemRequests()).toHaveLength(3);
      open();
      expect((await Promise.all(sends)).every((r) => r.ok)).toBe(true);
      expect(receiver.stored.size).toBe(12);
    });
  });
});
