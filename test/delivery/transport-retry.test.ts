import { describe, expect, it } from 'vitest';
import { RKAdmin, RKClient, RKHttpError, RKQuery, RKTimeoutError, type Logger } from '../../src/index.js';
import { hang, json, receiverInfo, recordingFetch, text } from '../helpers/recording-fetch.js';
import { VirtualClock } from '../helpers/virtual-clock.js';

/**
 * RKQuery and RKAdmin retry only when `retry` is set: GETs like sends; a state-changing POST only
 * when the request provably never left, or with the caller's idempotency key.
 */

const QUERY = 'http://rk.test/query';
const GRAPH = 'http://rk.test/graph';
const silent: Logger = { warn: () => {} };
const refused = () => {
  throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
};
const reset = () => {
  throw new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) });
};

/** `retry: null` leaves the option out (the default: no retries). */
/** `retry`: options to pass, null for the default, false for none. */
function query(fetch: typeof globalThis.fetch, clock = new VirtualClock({ auto: true }), retry: object | false | null = {}) {
  return new RKQuery(QUERY, { fetch, clock, random: () => 1, logger: silent, ...(retry === null ? {} : { retry: retry as false }) });
}

describe('defaults', () => {
  it('retries a GET by default, like a send', async () => {
    const { fetch, requests } = recordingFetch(() => json({ message: 'busy' }, 503), () => json({ tags_count: 7 }));
    expect(await query(fetch, undefined, null).getTagsCount()).toEqual({ ok: true, value: 7 });
    expect(requests.map((r) => r.headers.get('x-rk-attempt'))).toEqual(['1', '2']);
  });

  it('does not retry a refused TLS certificate: another attempt cannot succeed', async () => {
    const fetch = async (): Promise<Response> => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }) });
    };
    let calls = 0;
    const counting = (async (...args: Parameters<typeof fetch>) => {
      calls++;
      return fetch(...args);
    }) as typeof globalThis.fetch;
    const result = await query(counting, undefined, null).getTagsCount();
    expect(calls).toBe(1);
    expect(!result.ok && result.error.message).toContain(
      "(DEPTH_ZERO_SELF_SIGNED_CERT); the server's TLS certificate was not accepted: give it a trusted certificate, or pass insecure: true for a test server",
    );
  });
});

describe('with retry: false', () => {
  it('makes exactly one request', async () => {
    const { fetch, requests } = recordingFetch(() => json({ message: 'busy' }, 503));
    const result = await query(fetch, undefined, false).getTagsCount();
    expect(!result.ok && (result.error as RKHttpError).status).toBe(503);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.headers.get('x-rk-attempt')).toBeNull();
  });
});

describe('with retry', () => {
  it('retries a GET on 503 with backoff, numbering each attempt', async () => {
    const clock = new VirtualClock({ auto: true });
    const { fetch, requests } = recordingFetch(
      () => json({}, 503),
      () => json({}, 503),
      () => json({ tags_count: 7 }),
    );
    expect(await query(fetch, clock).getTagsCount()).toEqual({ ok: true, value: 7 });
    expect(requests.map((r) => r.headers.get('x-rk-attempt'))).toEqual(['1', '2', '3']);
    expect(clock.sleeps).toEqual([500, 1000]);
  });

  it('retries a GET after a reset connection and after its own attempt timeout', async () => {
    const clock = new VirtualClock({ auto: true });
    let n = 0;
    const { fetch, requests } = recordingFetch((request) => {
      n++;
      if (n === 1) return reset();
      if (n === 2) {
        // the attempt deadline fires when the next sleep moves time; force it by hand
        setTimeout(() => void clock.advance(5_000), 5);
        return hang()(request, 1);
      }
      return json([]);
    });
    expect(await query(fetch, clock).getTags()).toEqual({ ok: true, value: [] });
    expect(requests).toHaveLength(3);
  });

  it('does not retry a state-changing POST after a 503 or a reset', async () => {
    for (const responder of [() => text('busy', 503), reset]) {
      const { fetch, requests } = recordingFetch(responder, () => text('[[1]]'));
      const result = await query(fetch).queryGraph('MATCH (n) SET n.x = 1', 'rw');
      expect(result.ok).toBe(false);
      expect(requests).toHaveLength(1);
    }
  });

  it('retries a read-only graph query (type r) after a 503, like a GET', async () => {
    const { fetch, requests } = recordingFetch(() => text('busy', 503), () => text('[[1]]'));
    expect(await query(fetch).queryGraph('MATCH (n) RETURN count(n)', 'r')).toEqual({ ok: true, value: [[1]] });
    expect(requests).toHaveLength(2);
  });

  it('retries a POST whose connection was refused: it provably never left', async () => {
    const { fetch, requests } = recordingFetch(refused, () => text('[[1]]'));
    expect(await query(fetch).queryGraph('MATCH (n) RETURN count(n)')).toEqual({ ok: true, value: [[1]] });
    expect(requests).toHaveLength(2);
  });

  it('retries a POST that carries the caller’s idempotency key, sending the key each time', async () => {
    const { fetch, requests } = recordingFetch(() => text('busy', 503), () => text('[[1]]'));
    const result = await query(fetch).queryGraph('MATCH (n) SET n.x = 1', 'rw', { idempotencyKey: 'set-x-2026-11-27' });
    expect(result).toEqual({ ok: true, value: [[1]] });
    expect(requests.map((r) => r.headers.get('idempotency-key'))).toEqual(['set-x-2026-11-27', 'set-x-2026-11-27']);
  });

  it('applies to RKAdmin: GET /info is retried, POST /flush is not', async () => {
    const graphInfo = {
      version: '1', pg_pems_count: 0, pg_artifacts_count: 0, neo4j_pems_count: 0, neo4j_artifacts_count: 0,
      pems_sync_pct: '100', artifacts_sync_pct: '100', loop_iteration_interval: 1,
      loop_state_should_rebuild: 'False', loop_state_should_flush: 'False',
    };
    const info = recordingFetch(() => json({}, 502), () => json(graphInfo));
    const admin = new RKAdmin(QUERY, GRAPH, { fetch: info.fetch, clock: new VirtualClock({ auto: true }), logger: silent, retry: {} });
    expect((await admin.getGraphInfo()).ok).toBe(true);
    expect(info.requests).toHaveLength(2);

    const flush = recordingFetch(() => json({}, 502), () => json({ msg: 'ok' }));
    const admin2 = new RKAdmin(QUERY, GRAPH, { fetch: flush.fetch, clock: new VirtualClock({ auto: true }), logger: silent, retry: {} });
    expect((await admin2.graphFlush()).ok).toBe(false);
    expect(flush.requests).toHaveLength(1);
  });

  it('ends at totalTimeoutMs with a timeout that names it', async () => {
    const clock = new VirtualClock();
    const { fetch, requests } = recordingFetch(hang());
    const pending = query(fetch, clock, { totalTimeoutMs: 12_000 }).getTags();
    await new Promise((resolve) => setTimeout(resolve, 10));
    await clock.advance(5_000); // attempt 1 times out (timeoutMs 5000)
    await new Promise((resolve) => setTimeout(resolve, 10));
    await clock.advance(500); // backoff
    await new Promise((resolve) => setTimeout(resolve, 10));
    await clock.advance(5_000); // attempt 2 times out
    await new Promise((resolve) => setTimeout(resolve, 10));
    await clock.advance(1_000); // backoff
    await new Promise((resolve) => setTimeout(resolve, 10));
    await clock.advance(500); // attempt 3 is cut at 12 000
    const result = await pending;
    expect(requests).toHaveLength(3);
    expect(!result.ok && result.error).toBeInstanceOf(RKTimeoutError);
    expect(!result.ok && result.error.message).toBe('Listing tags failed: no answer from http://rk.test/query within 12000 ms; raise totalTimeoutMs if the service is slow');
  });

  it("stops at once when the caller's signal aborts during a backoff", async () => {
    const clock = new VirtualClock(); // time never moves: the backoff would last forever
    const { fetch, requests } = recordingFetch(() => json({}, 503));
    const controller = new AbortController();
    const pending = query(fetch, clock).getTags({ signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(clock.pendingSleeps).toBe(1);
    controller.abort();
    const result = await pending;
    expect(!result.ok && result.error.kind).toBe('abort');
    expect(requests).toHaveLength(1);
  });

  it('shares one budget across the calls of a client', async () => {
    const { fetch, requests } = recordingFetch(() => json({}, 503));
    const q = new RKQuery(QUERY, { fetch, clock: new VirtualClock({ auto: true }), logger: silent, retry: { budget: { capacity: 3 } } });
    await Promise.all([q.getTags(), q.getTags(), q.getTags()]);
    expect(requests).toHaveLength(6);
  });
});

describe('RKClient with retry', () => {
  it('retries getInfo, but never the size-limit read sendPem makes', async () => {
    const { fetch, requests } = recordingFetch(
      () => json({}, 503), // size-limit read: not retried
      (request) => request.json().then((pem) => json({ ID: (pem as { ID: string }).ID, status: 'accepted' })),
      () => json({}, 503), // getInfo: retried
      () => json(receiverInfo),
    );
    const rk = new RKClient('http://rk.test/receiver', 'trainer', { fetch, clock: new VirtualClock({ auto: true }), logger: silent, retry: {} });
    expect((await rk.sendPem(rk.preparePem('ingest'))).ok).toBe(true);
    expect(await rk.getInfo()).toEqual({ ok: true, value: receiverInfo });
    expect(requests.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([
      'GET /receiver/info',
      'POST /receiver/pem',
      'GET /receiver/info',
      'GET /receiver/info',
    ]);
  });

  it('retries setTag only when the request never left', async () => {
    const record = { NamespaceID: 'ml', Tag: 'prod', EventID: '0192f3a4b5c67d8e9f0a1b2c3d4e5f60', UpdatedAt: '2026-11-27 22:07:00' };
    const { fetch, requests } = recordingFetch(refused, () => json({}, 503), () => json(record));
    const rk = new RKClient('http://rk.test/receiver', 'trainer', { fetch, clock: new VirtualClock({ auto: true }), logger: silent, retry: {} });
    const result = await rk.setTag('ml', 'prod', record.EventID);
    expect(!result.ok && (result.error as RKHttpError).status).toBe(503);
    expect(requests).toHaveLength(2);
  });
});
