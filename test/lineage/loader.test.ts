import { describe, expect, it } from 'vitest';
import {
  RKAbortError,
  RKConnectionError,
  RKInvalidInputError,
  RKLineage,
  RKQuery,
  type LineageSource,
  type LoadProgress,
  type PemListOptions,
  type Result,
  type StoredPem,
  type TagRecord,
} from '../../src/index.js';
import { json, recordingFetch } from '../helpers/recording-fetch.js';
import { at, stored } from './fixtures.js';

/**
 * A Query service in memory that sorts and pages as the spec says (ties in arrival order,
 * reversed for desc), so the loader's paging and watermark can be tested against arrivals at any
 * point, late commits and PEMs with old client clocks.
 */
class FakeQuery implements LineageSource {
  readonly pems: StoredPem[] = [];
  tags: TagRecord[] = [];
  readonly calls: PemListOptions[] = [];
  /** Runs before each page is answered: lets a test insert PEMs while a load is in progress. */
  beforePage: (call: number) => void = () => undefined;
  fail: Result<never> | undefined;

  async getPems(options: PemListOptions = {}): Promise<Result<StoredPem[]>> {
    this.calls.push(options);
    this.beforePage(this.calls.length);
    if (this.fail) return this.fail;
    let list = this.pems.map((pem, seq) => ({ pem, seq }));
    if (options.sortField) {
      const field = options.sortField as keyof StoredPem;
      list.sort((a, b) => (a.pem[field]! < b.pem[field]! ? -1 : a.pem[field]! > b.pem[field]! ? 1 : a.seq - b.seq));
      if (options.sortOrder === 'desc') list = list.reverse();
    }
    const size = options.pageSize ?? list.length;
    const start = (options.pageIndex ?? 0) * size;
    return { ok: true, value: list.slice(start, start + size).map((x) => x.pem) };
  }

  async getPemsCount(): Promise<Result<number>> {
    return { ok: true, value: this.pems.length };
  }

  async getTags(): Promise<Result<TagRecord[]>> {
    return { ok: true, value: this.tags };
  }
}

function chain(n: number, from = 0): StoredPem[] {
  return Array.from({ length: n }, (_, i) => stored(`p${from + i}`, { t: from + i, pred: from + i > 0 ? `p${from + i - 1}` : null, uses: [`a${from + i - 1}`], produces: [`a${from + i}`] }));
}

describe('RKLineage loading', () => {
  it('loads page by page with the TimestampReceived sort, reports progress, and reads /tags (exact requests through RKQuery)', async () => {
    const pems = chain(5);
    const { fetch, requests } = recordingFetch((request) => {
      const url = new URL(request.url);
      if (url.pathname.endsWith('/pems_count')) return json({ pems_count: 5 });
      if (url.pathname.endsWith('/tags')) return json([{ NamespaceID: 'pipeline', Tag: 'production', EventID: 'p4', UpdatedAt: at(60) }]);
      const page = Number(url.searchParams.get('pageIndex'));
      return json(pems.slice(page * 2, page * 2 + 2));
    });
    const lineage = new RKLineage(new RKQuery('http://rk.test/query/', { fetch }), { pageSize: 2, concurrency: 1 });
    const progress: LoadProgress[] = [];
    const loaded = await lineage.load({ onProgress: (p) => progress.push(p) });
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    expect(requests.map((r) => r.url)).toEqual([
      'http://rk.test/query/pems_count',
      'http://rk.test/query/pems?pageIndex=0&pageSize=2&sortField=TimestampReceived&sortOrder=asc',
      'http://rk.test/query/pems?pageIndex=1&pageSize=2&sortField=TimestampReceived&sortOrder=asc',
      'http://rk.test/query/pems?pageIndex=2&pageSize=2&sortField=TimestampReceived&sortOrder=asc',
      'http://rk.test/query/tags',
    ]);
    expect(loaded.value).toMatchObject({ phase: 'load', strategy: 'received', read: 5, added: 5, pages: 3, watermark: at(4), tags: 1, size: 5, skipped: [] });
    expect(progress.map((p) => [p.read, p.total, p.pages])).toEqual([
      [0, 5, 0],
      [2, 5, 1],
      [4, 5, 2],
      [5, 5, 3],
    ]);
    expect(lineage.resolveTag('pipeline', 'production')).toMatchObject({ pem: 'p4', basis: 'tags' });
    expect(lineage.upstream('p4', { maxHops: 2 }).nodes.filter((n) => n.kind === 'pem')).toHaveLength(3);
  });

  it('refresh reads newest first down to the watermark, and finds a late PEM with an old TimestampClient', async () => {
    const query = new FakeQuery();
    query.pems.push(...chain(50));
    const lineage = new RKLineage(query, { pageSize: 7, refreshPageSize: 4, concurrency: 3 });
    const first = await lineage.load();
    expect(first.ok && first.value.added).toBe(50);
    expect(lineage.watermark).toBe(at(49));
    // A PEM stamped long ago by its emitter's clock, received now; and three new ones.
    query.pems.push(stored('old-clock', { t: 1, lag: 100, uses: ['a0'] }), ...chain(3, 50));
    query.calls.length = 0;
    const refreshed = await lineage.refresh();
    expect(refreshed.ok && refreshed.value).toMatchObject({ phase: 'refresh', added: 4, size: 54 });
    expect(lineage.index.has('old-clock')).toBe(true);
    // Pages of 4 newest first until one reaches 5 s before the old watermark: a handful, not all 54.
    expect(query.calls.every((c) => c.sortField === 'TimestampReceived' && c.sortOrder === 'desc')).toBe(true);
    expect(query.calls.length).toBeLessThanOrEqual(4);
    // Nothing new: one page.
    query.calls.length = 0;
    const again = await lineage.refresh();
    expect(again.ok && again.value.added).toBe(0);
    expect(lineage.watermark).toBe(at(101));
  });

  it('a transaction that committed late (older TimestampReceived than the watermark, within the overlap) is found', async () => {
    const query = new FakeQuery();
    query.pems.push(...chain(10));
    const lineage = new RKLineage(query, { overlapSeconds: 5 });
    await lineage.load();
    query.pems.push(stored('slow-commit', { t: 7 }));
    const refreshed = await lineage.refresh();
    expect(refreshed.ok && refreshed.value.added).toBe(1);
  });

  it('PEMs stored while the load pages through are not skipped: read twice at worst, or found by the next refresh', async () => {
    const query = new FakeQuery();
    query.pems.push(...chain(20));
    query.beforePage = (call) => {
      if (call === 2) query.pems.push(...chain(5, 20)); // arrive at the end: read by later pages
      // A transaction that committed late: received at 21 s, visible only after the page holding 18..23 was read.
      if (call === 5) query.pems.push(stored('late-commit', { t: 21 }));
    };
    const lineage = new RKLineage(query, { pageSize: 6, refreshPageSize: 2, concurrency: 1, tags: false });
    const loaded = await lineage.load();
    expect(loaded.ok && loaded.value).toMatchObject({ added: 25, read: 26 }); // p23 was read twice
    expect(lineage.index.has('late-commit')).toBe(false);
    const refreshed = await lineage.refresh();
    expect(refreshed.ok && refreshed.value).toMatchObject({ added: 1, pages: expect.any(Number) });
    expect(lineage.index.has('late-commit')).toBe(true);
    expect(lineage.index.size).toBe(26);
  });

  it('resolves failures as Results: the source\'s error, an abort, bad options; PEMs it cannot index are listed as skipped', async () => {
    const query = new FakeQuery();
    query.pems.push(...chain(3), { ...stored('broken', { t: 9 }), TimestampClient: 'yesterday' });
    const lineage = new RKLineage(query);
    const loaded = await lineage.load();
    expect(loaded.ok && loaded.value.skipped).toEqual([{ id: 'broken', reason: expect.stringMatching(/TimestampClient of broken must be "YYYY-MM-DD HH:MM:SS"/) }]);
    const controller = new AbortController();
    controller.abort();
    const aborted = await lineage.refresh({ signal: controller.signal });
    expect(!aborted.ok && aborted.error).toBeInstanceOf(RKAbortError);
    query.fail = { ok: false, error: new RKConnectionError('Listing PEMs', 'http://rk.test/query/pems', new Error('ECONNREFUSED')) };
    const failed = await lineage.refresh();
    expect(!failed.ok && failed.error).toBeInstanceOf(RKConnectionError);
    const bad = await lineage.load({ onProgress: 'yes' as unknown as () => void });
    expect(!bad.ok && bad.error).toBeInstanceOf(RKInvalidInputError);
    expect(() => new RKLineage({} as LineageSource)).toThrow(/source must be an RKQuery/);
    expect(() => new RKLineage(query, { pageSize: 0 })).toThrow(/pageSize must be a whole number from 1/);
  });

  it('an abort during the load stops between pages and resolves RKAbortError; what was read stays, and the next load completes it', async () => {
    const query = new FakeQuery();
    query.pems.push(...chain(30));
    const controller = new AbortController();
    query.beforePage = (call) => {
      if (call === 2) controller.abort();
    };
    const lineage = new RKLineage(query, { pageSize: 5, concurrency: 1, tags: false });
    const progress: number[] = [];
    const aborted = await lineage.load({ signal: controller.signal, onProgress: (p) => progress.push(p.read) });
    expect(!aborted.ok && aborted.error).toBeInstanceOf(RKAbortError);
    expect(query.calls.length).toBe(2);
    expect(lineage.index.size).toBe(10);
    query.beforePage = () => undefined;
    const completed = await lineage.load();
    expect(completed.ok && completed.value).toMatchObject({ added: 20, size: 30 });
  });

  it('a progress callback that throws, or a source that rejects, still ends in a Result', async () => {
    const query = new FakeQuery();
    query.pems.push(...chain(12));
    const lineage = new RKLineage(query, { pageSize: 5, concurrency: 1 });
    const threw = await lineage.load({
      onProgress: (p) => {
        if (p.pages === 1) throw new Error('display closed');
      },
    });
    expect(!threw.ok && threw.error.message).toBe('Loading lineage index failed: onProgress threw, so loading stopped: display closed');
    const rejecting: LineageSource = { getPems: () => Promise.reject(new Error('socket hang up')) };
    const rejected = await new RKLineage(rejecting).load();
    expect(!rejected.ok && rejected.error.message).toMatch(/source rejected instead of resolving a Result: socket hang up/);
  });

  it('falls back to a full rescan when the Query service refuses the TimestampReceived sort', async () => {
    const pems = chain(3);
    const { fetch, requests } = recordingFetch((request) => {
      const url = new URL(request.url);
      if (url.searchParams.has('sortField')) return json({ message: 'sortField: unknown field', code: 'malformed_request' }, 400);
      return json(pems);
    });
    const lineage = new RKLineage(new RKQuery('http://rk.test/query', { fetch, retry: false }), { concurrency: 1, tags: false });
    const loaded = await lineage.load();
    expect(loaded.ok && loaded.value).toMatchObject({ strategy: 'full-rescan', added: 3 });
    expect(requests.at(-1)!.url).toBe('http://rk.test/query/pems?pageIndex=0&pageSize=5000');
    pems.push(stored('p9', { t: 9 }));
    const refreshed = await lineage.refresh();
    expect(refreshed.ok && refreshed.value).toMatchObject({ strategy: 'full-rescan', added: 1 });
  });
});

describe('RKLineage against a Query service without TimestampReceived', () => {
  it('reads everything on each refresh (full-rescan), since there is no watermark to trust', async () => {
    const query = new FakeQuery();
    const bare = (pem: StoredPem) => {
      const { TimestampReceived: _received, ...rest } = pem;
      return rest as StoredPem;
    };
    query.pems.push(...chain(5).map(bare));
    const lineage = new RKLineage(query, { pageSize: 2, tags: false });
    const loaded = await lineage.load();
    expect(loaded.ok && loaded.value).toMatchObject({ strategy: 'full-rescan', added: 5, watermark: null });
    query.pems.push(bare(stored('p9', { t: 1 })));
    const refreshed = await lineage.refresh();
    expect(refreshed.ok && refreshed.value).toMatchObject({ strategy: 'full-rescan', added: 1, read: 6 });
  });
});
