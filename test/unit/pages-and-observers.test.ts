import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { RKAbortError, RKAdmin, RKClient, RKHttpError, RKQuery, type Logger } from '../../src/index.js';
import { json, recordingFetch, text } from '../helpers/recording-fetch.js';

const QUERY = 'http://rk.test:8083/rk/query';
const GRAPH = 'http://rk.test:8084/rk/graph-builder';
const silent: Logger = { warn: () => {} };
const GRAPH_INFO = {
  version: '3.5.0',
  pg_pems_count: 0,
  pg_artifacts_count: 0,
  neo4j_pems_count: 0,
  neo4j_artifacts_count: 0,
  pems_sync_pct: 100,
  artifacts_sync_pct: 100,
  loop_iteration_interval: 1,
  loop_state_should_rebuild: false,
  loop_state_should_flush: false,
};

const pemOf = (i: number) => ({
  ID: i.toString(16).padStart(32, '0'),
  Type: 'train',
  Predecessor: '',
  Emitter: 'trainer',
  TimestampClient: '2026-11-27 22:06:40',
  TimestampReceived: '2026-11-27 22:06:41',
  Properties: {},
  Tag: '',
  TagNamespace: '',
  UsesArtifacts: [],
  ProducesArtifacts: [],
});

/** A Query service holding `total` PEMs, answering GET /pems pages as the real one does. */
function pagedPems(total: number) {
  return recordingFetch((request) => {
    const url = new URL(request.url);
    const size = Number(url.searchParams.get('pageSize'));
    const index = Number(url.searchParams.get('pageIndex'));
    const items = [];
    for (let i = index * size; i < Math.min(total, (index + 1) * size); i++) items.push(pemOf(i));
    return json(items);
  });
}

describe('RKQuery.pems: an async iterator over pages', () => {
  it('asks page after page with exactly the given size and filters, and stops at the first short page', async () => {
    const { fetch, requests } = pagedPems(1234);
    const query = new RKQuery(QUERY, { fetch, logger: silent, retry: false });
    const seen: string[] = [];
    const progress: { pages: number; items: number }[] = [];
    for await (const pem of query.pems({ pageSize: 500, filters: { Type: 'train' }, onProgress: (p) => progress.push(p) })) seen.push(pem.ID);
    expect(seen).toHaveLength(1234);
    expect(new Set(seen).size).toBe(1234);
    expect(requests.map((r) => r.url)).toEqual([
      `${QUERY}/pems?pageIndex=0&pageSize=500&Type=train`,
      `${QUERY}/pems?pageIndex=1&pageSize=500&Type=train`,
      `${QUERY}/pems?pageIndex=2&pageSize=500&Type=train`,
    ]);
    expect(progress).toEqual([
      { pages: 1, items: 500 },
      { pages: 2, items: 1000 },
      { pages: 3, items: 1234 },
    ]);
  });

  it('an exact multiple of the page size ends with one empty page', async () => {
    const { fetch, requests } = pagedPems(1000);
    const query = new RKQuery(QUERY, { fetch, logger: silent, retry: false });
    let n = 0;
    for await (const _ of query.pems({ pageSize: 500 })) n++;
    expect(n).toBe(1000);
    expect(requests).toHaveLength(3);
  });

  it('breaking out of the loop makes no further request', async () => {
    const { fetch, requests } = pagedPems(5000);
    const query = new RKQuery(QUERY, { fetch, logger: silent, retry: false });
    let n = 0;
    for await (const _ of query.pems({ pageSize: 100 })) if (++n === 150) break;
    expect(requests).toHaveLength(2);
  });

  it('the call signal stops the listing with RKAbortError', async () => {
    const { fetch, requests } = pagedPems(5000);
    const query = new RKQuery(QUERY, { fetch, logger: silent, retry: false });
    const controller = new AbortController();
    let n = 0;
    const run = async () => {
      for await (const _ of query.pems({ pageSize: 100 }, { signal: controller.signal })) if (++n === 250) controller.abort();
    };
    await expect(run()).rejects.toBeInstanceOf(RKAbortError);
    expect(requests).toHaveLength(3);
    expect(n).toBe(300);
  });

  it('a page that fails is thrown as its RKError', async () => {
    const { fetch } = recordingFetch(
      () => json([pemOf(0), pemOf(1)]),
      () => json({ message: 'down', code: 'unavailable' }, 503),
    );
    const query = new RKQuery(QUERY, { fetch, logger: silent, retry: false });
    const seen: string[] = [];
    const run = async () => {
      for await (const pem of query.pems({ pageSize: 2 })) seen.push(pem.ID);
    };
    await expect(run()).rejects.toBeInstanceOf(RKHttpError);
    expect(seen).toHaveLength(2);
  });

  it('artifacts page the same way; tags come in the one request GET /tags allows', async () => {
    const artifact = (i: number) => ({ Name: `a-${i}`, Properties: {}, CreatedAt: null });
    const { fetch, requests } = recordingFetch(
      () => json([artifact(0), artifact(1)]),
      () => json([artifact(2)]),
      () => json([{ NamespaceID: 'ns', Tag: 't', EventID: pemOf(1).ID, UpdatedAt: '2026-11-27 22:06:41' }]),
    );
    const query = new RKQuery(QUERY, { fetch, logger: silent, retry: false });
    const names: string[] = [];
    for await (const a of query.artifacts({ pageSize: 2, filters: { Name: 'a-' } })) names.push(a.Name);
    expect(names).toEqual(['a-0', 'a-1', 'a-2']);
    const tags = [];
    for await (const tag of query.tags()) tags.push(tag);
    expect(tags).toHaveLength(1);
    expect(requests.map((r) => r.url)).toEqual([
      `${QUERY}/artifacts?pageIndex=0&pageSize=2&Name=a-`,
      `${QUERY}/artifacts?pageIndex=1&pageSize=2&Name=a-`,
      `${QUERY}/tags`,
    ]);
  });
});

describe('RKQuery and RKAdmin: retry events and stats like RKClient', () => {
  it('RKQuery emits retry and counts attempts, retries and the budget', async () => {
    const { fetch } = recordingFetch(
      () => json({ message: 'busy' }, 503),
      () => json({ message: 'busy' }, 503),
      () => json({ tags_count: 7 }),
    );
    const query = new RKQuery(QUERY, { fetch, logger: silent, random: () => 0, retry: { baseDelayMs: 1 } });
    const events: { operation: string; attempt: number; delayMs: number }[] = [];
    const off = query.on('retry', ({ operation, attempt, delayMs }) => events.push({ operation, attempt, delayMs }));
    const count = await query.getTagsCount();
    expect(count.ok).toBe(true);
    expect(events.map((e) => [e.operation, e.attempt])).toEqual([
      ['Counting tags', 2],
      ['Counting tags', 3],
    ]);
    expect(query.stats()).toEqual({ attempts: 3, retries: 2, retriesDenied: 0, retryBudget: 19 });
    off();
  });

  it('RKAdmin counts the calls of both its services together and emits retry', async () => {
    const { fetch } = recordingFetch(
      () => json({ message: 'busy' }, 503),
      () => json(GRAPH_INFO),
      () => json({ version: '3.5.0', auth_required: false }),
    );
    const admin = new RKAdmin(QUERY, GRAPH, { fetch, logger: silent, random: () => 0, retry: { baseDelayMs: 1 } });
    const retried: string[] = [];
    admin.on('retry', (event) => retried.push(event.operation));
    expect((await admin.checkConnections()).ok).toBe(true);
    expect(retried).toHaveLength(1);
    expect(admin.stats()).toMatchObject({ attempts: 3, retries: 1, retriesDenied: 0 });
  });
});

describe('debug lines', () => {
  it('one line per request and per retry, with method, URL, status and duration, never the credential', async () => {
    const lines: string[] = [];
    const logger: Logger = { warn: () => {}, debug: (line) => lines.push(line) };
    const { fetch } = recordingFetch(
      () => json({ message: 'busy' }, 503),
      () => json({ tags_count: 7 }),
    );
    const query = new RKQuery(QUERY, { fetch, logger, debug: true, pucAuth: 'puc-secret-123', random: () => 0, retry: { baseDelayMs: 1 } });
    await query.getTagsCount();
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^GET http:\/\/rk\.test:8083\/rk\/query\/tags_count 503 \d+\.\d ms \(Counting tags\)$/);
    expect(lines[1]).toMatch(/^retry 2 of 5 \(Counting tags\) in \d+ ms after: /);
    expect(lines[2]).toMatch(/^GET http:\/\/rk\.test:8083\/rk\/query\/tags_count 200 /);
    expect(lines.join('\n')).not.toContain('puc-secret-123');
  });

  it('is off unless asked for (debug option or RK_LOG=debug)', async () => {
    const lines: string[] = [];
    const logger: Logger = { warn: () => {}, debug: (line) => lines.push(line) };
    const { fetch } = recordingFetch(() => json({ tags_count: 7 }));
    const previous = process.env.RK_LOG;
    try {
      delete process.env.RK_LOG;
      await new RKQuery(QUERY, { fetch, logger }).getTagsCount();
      expect(lines).toHaveLength(0);
      process.env.RK_LOG = 'debug';
      await new RKQuery(QUERY, { fetch, logger }).getTagsCount();
      expect(lines).toHaveLength(1);
      await new RKQuery(QUERY, { fetch, logger, debug: false }).getTagsCount();
      expect(lines).toHaveLength(1);
    } finally {
      if (previous === undefined) delete process.env.RK_LOG;
      else process.env.RK_LOG = previous;
    }
  });
});

describe('no growth per call on a client signal', () => {
  it('a client signal holds no listener once calls are done (query and sendPem through fetch)', async () => {
    const controller = new AbortController();
    const { fetch } = recordingFetch((request) =>
      request.url.endsWith('/info')
        ? json({ version: '3.5.0', pem_version: '2.0.0', pem_size_limit: 1048576, auth_required: false, pem_auth_required: false })
        : request.url.endsWith('/pem')
          ? text('ok')
          : json({ tags_count: 1 }),
    );
    const query = new RKQuery(QUERY, { fetch, logger: silent, signal: controller.signal });
    const rk = new RKClient('http://rk.test:8082/receiver', 'trainer', { fetch, logger: silent, signal: controller.signal });
    for (let i = 0; i < 200; i++) {
      await query.getTagsCount();
      await rk.sendPem(rk.preparePem('train'));
    }
    await Promise.all(Array.from({ length: 100 }, () => rk.sendPem(rk.preparePem('train'))));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await rk.close();
  });
});
