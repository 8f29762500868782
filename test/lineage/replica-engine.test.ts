import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { extractCluster } from '../../src/lineage/replica/pglite.js';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { RKLineage, RKAbortError, ReplicaEngine, type LineageEngine, type LineageSource, type PemListOptions, type Result, type StoredPem, type TagRecord } from '../../src/index.js';
import { ReplicaStore, turnRead } from '../../src/lineage/replica/store.js';
import { randomHistory } from './random-history.js';

/**
 * The replica engine against the memory engine (the reference), in process: random
 * pipeline-shaped histories (same-second ties, late PEMs, retrains, missing predecessors,
 * unbound uses) served by a source that pages and sorts as the Query service does, synced into a
 * copy on disk, then the same questions asked of both, whose answers must be identical. And the
 * copy survives a restart: a sync stopped halfway continues at its page, later syncs read only
 * what arrived, and a refresh stopped halfway loses nothing.
 */

function ok<T>(result: Result<T>): T {
  if (!result.ok) throw result.error;
  return result.value;
}

const dirs: string[] = [];
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rk-replica-'));
  dirs.push(dir);
  return dir;
}
// Each copy is about a thousand files: on a loaded disk their removal outlasted the default 10 s hook timeout.
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}, 120_000);

/** A Query service over an array: sorts by TimestampReceived, pages, counts the PEMs it serves, and can be told to fail. */
class ArraySource implements LineageSource {
  served = 0;
  failAfterPages = Infinity;
  constructor(public pems: StoredPem[]) {}
  async getPems(options: PemListOptions = {}): Promise<Result<StoredPem[]>> {
    if (this.failAfterPages-- <= 0) return { ok: false, error: new RKAbortError('Listing PEMs', 'the test stopped the service') };
    let list = [...this.pems];
    if (options.sortField === 'TimestampReceived') {
      list = list.map((pem, i) => [pem, i] as const).sort(([a, i], [b, j]) => (a.TimestampReceived! < b.TimestampReceived! ? -1 : a.TimestampReceived! > b.TimestampReceived! ? 1 : i - j)).map(([pem]) => pem);
      if (options.sortOrder === 'desc') list.reverse();
    }
    if (options.pageSize !== undefined) list = list.slice((options.pageIndex ?? 0) * options.pageSize, ((options.pageIndex ?? 0) + 1) * options.pageSize);
    this.served += list.length;
    return { ok: true, value: list };
  }
  async getTags(): Promise<Result<TagRecord[]>> {
    const tags = new Map<string, TagRecord>();
    for (const pem of this.pems) if (pem.Tag) tags.set(`${pem.TagNamespace}/${pem.Tag}`, { NamespaceID: pem.TagNamespace!, Tag: pem.Tag, EventID: pem.ID, UpdatedAt: pem.TimestampClient });
    return { ok: true, value: [...tags.values()] };
  }
}

function histories(seed: number, count: number, size: number): StoredPem[][] {
  return Array.from({ length: count }, (_, h) => randomHistory(seed + h, { size, prefix: `h${h}/` }));
}

async function compareAll(memory: LineageEngine, replica: LineageEngine, all: StoredPem[][], stride = 7): Promise<number> {
  let questions = 0;
  const same = async (label: string, ask: (engine: LineageEngine) => Promise<Result<unknown>>) => {
    const expected = ok(await ask(memory));
    expect(ok(await ask(replica)), label).toEqual(expected);
    questions++;
  };
  for (const [h, history] of all.entries()) {
    for (const pem of history.filter((_, i) => i % stride === 3)) {
      await same(`h${h} upstream ${pem.ID}`, (e) => e.upstream(pem.ID));
      await same(`h${h} downstream ${pem.ID}`, (e) => e.downstream(pem.ID));
      await same(`h${h} downstream page ${pem.ID}`, (e) => e.downstream(pem.ID, { maxNodes: 6, maxHops: 3 }));
      await same(`h${h} upstream no stops ${pem.ID}`, (e) => e.upstream(pem.ID, { maxNodes: 4, includeStop: false }));
      await same(`h${h} explain ${pem.ID}`, (e) => e.explain(pem.ID, { maxHops: 5 }));
      await same(`h${h} impact ${pem.ID}`, (e) => e.impact(pem.ID, { maxHops: 6 }));
    }
    const first = history[2]!;
    const last = history[history.length - 1]!;
    await same(`h${h} paths`, (e) => e.paths(first.ID, last.ID, { maxHops: 8 }));
    await same(`h${h} artifact upstream`, (e) => e.upstream({ name: `h${h}/model/m` }, { maxHops: 4 }));
    await same(`h${h} tag`, (e) => e.resolveTag(`h${h}/ml`, 'production'));
    await same(`h${h} tag start`, (e) => e.upstream({ namespace: `h${h}/ml`, tag: 'production' }, { maxHops: 3 }));
    await same(`h${h} diff`, (e) => e.diffLineage(first.ID, last.ID, { maxHops: 6 }));
    await same(`h${h} state`, (e) => e.stateAt(history[Math.floor(history.length / 2)]!.TimestampClient));
    const page = ok(await replica.upstream(last.ID, { maxNodes: 5 }));
    if (page.cursor) await same(`h${h} resume`, (e) => e.resume(page.cursor!, { maxNodes: 5 }));
  }
  return questions;
}

async function memoryOver(source: LineageSource): Promise<LineageEngine> {
  const lineage = new RKLineage(source);
  ok(await lineage.load());
  return ok(await lineage.openEngine());
}

/**
 * A copy synced (and closed) once per file, for the tests whose subject is not the first sync: a
 * new copy is about a thousand files written and removed, which is most of what such a test costs.
 */
let synced: Promise<{ dir: string; source: ArraySource }> | undefined;
function syncedCopy(): Promise<{ dir: string; source: ArraySource }> {
  synced ??= (async () => {
    const dir = scratch();
    const source = new ArraySource(randomHistory(9600, { size: 60 }));
    await ok(await ReplicaEngine.open({ dir, source })).close();
    return { dir, source };
  })();
  return synced;
}

describe('the replica engine', { timeout: 120_000 }, () => {
  it("gives the memory engine's answers over random histories (nodes, hops, edges, gaps, truncation, cursors)", async () => {
    const all = histories(9100, 4, 48);
    const source = new ArraySource(all.flat());
    const memory = await memoryOver(source);
    const replica = ok(await ReplicaEngine.open({ dir: scratch(), source }));
    try {
      expect(replica.kind).toBe('replica');
      expect(replica.lastSync).toMatchObject({ phase: 'load', added: source.pems.length, size: source.pems.length });
      expect(await compareAll(memory, replica, all)).toBeGreaterThan(100);
      // A question holds only what it read: a 3-hop walk reads a few PEMs of the store.
      ok(await replica.upstream(all[0]![all[0]!.length - 1]!.ID, { maxHops: 3 }));
      expect(replica.lastAnswer.pems).toBeLessThan(source.pems.length / 2);
      // A round's reads are one statement (every filter shape of the round at once), not one per PEM, artifact or shape.
      const cost = { rounds: 0, requests: 0, statements: 0 };
      for (const pem of all.flatMap((history) => history.filter((_, i) => i % 5 === 4))) {
        const before = replica.store.statements;
        ok(await replica.upstream(pem.ID, { maxHops: 20 }));
        cost.rounds += replica.lastAnswer.rounds;
        cost.requests += replica.lastAnswer.requests;
        cost.statements += replica.store.statements - before;
      }
      expect(cost.statements).toBeLessThanOrEqual(cost.rounds);
      expect(cost.statements).toBeLessThan(cost.requests);
    } finally {
      await replica.close();
    }
  });

  it('is what new RKLineage(query, { replica: { dir } }) opens', async () => {
    const { dir, source } = await syncedCopy();
    const lineage = new RKLineage(source, { replica: { dir } });
    const engine = ok(await lineage.openEngine());
    try {
      expect(engine.kind).toBe('replica');
      const memory = await memoryOver(source);
      const id = source.pems[source.pems.length - 1]!.ID;
      expect(ok(await engine.upstream(id))).toEqual(ok(await memory.upstream(id)));
    } finally {
      await engine.close();
    }
  });

  it('survives a restart: a first sync stopped halfway continues at its page, and nothing is read twice', async () => {
    const dir = scratch();
    const all = histories(9300, 2, 40);
    const source = new ArraySource(all.flat());
    source.failAfterPages = 3;
    const stopped = await ReplicaEngine.open({ dir, source, sync: { pageSize: 10 } });
    expect(stopped.ok).toBe(false);
    if (!stopped.ok) expect(stopped.error.message).toMatch(/Listing PEMs failed/);
    expect(source.served).toBe(30);

    // A new process: the copy on disk says where the first pass stopped.
    source.failAfterPages = Infinity;
    source.served = 0;
    const replica = ok(await ReplicaEngine.open({ dir, source, sync: { pageSize: 10 } }));
    try {
      expect(replica.lastSync).toMatchObject({ phase: 'load', resumed: true, resumedAtPage: 3, read: 50, added: 50, size: 80 });
      expect(source.served).toBe(50);
      expect(await compareAll(await memoryOver(source), replica, all, 13)).toBeGreaterThan(15);
    } finally {
      await replica.close();
    }
  });

  it('later syncs read only what arrived after the watermark, and a refresh stopped halfway is read again whole', async () => {
    const dir = scratch();
    const first = randomHistory(9400, { size: 60, prefix: 'h0/' });
    const source = new ArraySource(first);
    await ok(await ReplicaEngine.open({ dir, source })).close();

    // Arrivals after the watermark (the Receiver's clock), one with an old client time (a late outbox).
    const latest = first.map((pem) => pem.TimestampReceived!).sort().at(-1)!;
    const later = (seconds: number) => new Date(Date.parse(`${latest.replace(' ', 'T')}Z`) + seconds * 1000).toISOString().slice(0, 19).replace('T', ' ');
    const arrivals = randomHistory(9401, { size: 30, prefix: 'h1/' }).map((pem, i) => ({ ...pem, TimestampReceived: later(60 + i) }));
    source.pems = [...first, ...arrivals];

    // A refresh stopped after its first page (the newest PEMs) must not move the watermark past the rest.
    source.failAfterPages = 1;
    const stopped = await ReplicaEngine.open({ dir, source, sync: { refreshPageSize: 10 } });
    expect(stopped.ok).toBe(false);
    source.failAfterPages = Infinity;
    source.served = 0;
    const replica = ok(await ReplicaEngine.open({ dir, source, sync: { refreshPageSize: 10 } }));
    try {
      expect(replica.lastSync).toMatchObject({ phase: 'refresh', added: 20, size: 90 });
      // Read: the 30 arrivals and one page reaching past the overlap, not the whole store.
      expect(source.served).toBeLessThan(60);
      expect(await compareAll(await memoryOver(source), replica, [first, arrivals], 13)).toBeGreaterThan(15);
      // Nothing new: one short page.
      source.served = 0;
      expect(ok(await replica.sync({ refreshPageSize: 10 }))).toMatchObject({ phase: 'refresh', added: 0, size: 90 });
      expect(source.served).toBeLessThanOrEqual(20);
    } finally {
      await replica.close();
    }
  });

  it('answers every read the engine makes through an index, whatever the size of the copy (a tag\'s carriers scanned every PEM)', async () => {
    const { dir, source } = await syncedCopy();
    const tagged = source.pems.find((pem) => pem.Tag)!;
    const nameOf = (link: unknown) => (typeof link === 'string' ? link : (link as { Name: string }).Name);
    const produced = nameOf(source.pems.find((pem) => pem.ProducesArtifacts?.length)!.ProducesArtifacts![0]);
    const used = nameOf(source.pems.find((pem) => pem.UsesArtifacts?.length)!.UsesArtifacts![0]);
    const followed = source.pems.find((pem) => pem.Predecessor)!.Predecessor!;
    // The filter shapes the engine's loop asks for (server-engine.ts), each with a value it holds.
    const shapes: Array<[string[], string[]]> = [
      [['ID'], [source.pems[5]!.ID]],
      [['Predecessor'], [followed]],
      [['Tag', 'TagNamespace'], [tagged.Tag!, tagged.TagNamespace!]],
      [['UsesArtifact'], [used]],
      [['ProducesArtifact'], [produced]],
    ];
    const { PGlite } = await import('@electric-sql/pglite');
    const db = new PGlite(dir);
    try {
      // A table this small is cheaper to scan, so the planner is told scans cost too much: one it still picks has no index to use.
      await db.exec('SET enable_seqscan = off');
      // The reads of one turn, every shape at once, in the one statement the store sends for them.
      const { sql, params } = turnRead(shapes.map(([fields, values]) => ({ fields, values: [values], pageSize: 1000, pageIndex: 0 })));
      const plan = (await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params)).rows.map((row) => row['QUERY PLAN']).join('\n');
      // Each scan of a table is bounded by the requested value (an index condition), not a walk
      // of the whole table: a Seq Scan, or an index scan in seq order with the value as a Filter.
      const lines = plan.split('\n');
      expect(lines.filter((line) => / on (pems|links)( |$)/.test(line)).length, plan).toBeGreaterThanOrEqual(shapes.length);
      lines.forEach((line, i) => {
        if (/ on (pems|links)( |$)/.test(line)) expect(`${line}\n${lines[i + 1] ?? ''}`, plan).toMatch(/\n\s*(Index Cond|Recheck Cond):/);
      });
      const rows = (await db.query<{ shape: number }>(sql, params)).rows;
      shapes.forEach(([fields], shape) => expect(rows.filter((row) => row.shape === shape).length, fields.join('+')).toBeGreaterThan(0));
    } finally {
      await db.close();
    }
  });

  // The last to use the synced copy: it ends by making it a copy of another layout.
  it('a copy opened without a source answers as it stands; bad input is said clearly', async () => {
    const { dir, source } = await syncedCopy();
    const offline = ok(await ReplicaEngine.open({ dir }));
    try {
      const id = source.pems[10]!.ID;
      expect(ok(await offline.upstream(id))).toEqual(ok(await (await memoryOver(source)).upstream(id)));
      const sync = await offline.sync();
      expect(sync.ok).toBe(false);
      if (!sync.ok) expect(sync.error.message).toMatch(/without a source/);
    } finally {
      await offline.close();
    }
    // A copy written by the first layout (no version) is refused with what to do.
    const { PGlite } = await import('@electric-sql/pglite');
    const db = new PGlite(dir);
    await db.query(`DELETE FROM sync_state WHERE key = 'schema'`);
    await db.close();
    const old = await ReplicaEngine.open({ dir });
    expect(old.ok).toBe(false);
    if (!old.ok) expect(old.error.message).toMatch(/another layout \(1; this version reads 2\): delete the directory and sync again/);
    const bad = await ReplicaEngine.open({ dir: '' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.message).toMatch(/dir.*directory path/);
  });

  it('a kept archive is written out only as a cluster inside the new directory', () => {
    /** A ustar archive of regular files (name, content). */
    const tar = (...files: Array<[string, string]>) =>
      Buffer.concat([
        ...files.flatMap(([name, body]) => {
          const header = Buffer.alloc(512);
          header.write(name, 0);
          header.write('0000600\0', 100);
          header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
          header.write('0', 156);
          header.write('ustar\0', 257);
          return [header, Buffer.concat([Buffer.from(body), Buffer.alloc((512 - (body.length % 512)) % 512)])];
        }),
        Buffer.alloc(1024),
      ]);
    const root = scratch();
    const dir = join(root, 'copy');
    extractCluster(tar(['/PG_VERSION', '17\n'], ['/base/5/1259', 'pages']), dir);
    expect(readFileSync(join(dir, 'PG_VERSION'), 'utf8')).toBe('17\n');
    expect(readFileSync(join(dir, 'base', '5', '1259'), 'utf8')).toBe('pages');
    expect(() => extractCluster(tar(['/PG_VERSION', '17\n'], ['../escaped', 'x']), join(root, 'other'))).toThrow(/outside the cluster/);
    expect(existsSync(join(root, 'escaped'))).toBe(false);
    expect(() => extractCluster(tar(['/base/5/1259', 'pages']), join(root, 'third'))).toThrow(/no PG_VERSION/);
    expect(() => extractCluster(Buffer.alloc(2048, 1), join(root, 'fourth'))).toThrow(/not a ustar archive/);
  });

  it('a new copy starts from the pristine cluster kept on disk (RK_LOCAL_CACHE), made again when bad, and holds nothing of another copy; a cache that cannot be written is no error', async () => {
    const cache = scratch();
    const version = (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8')) as { version: string }).version;
    const file = join(cache, `pglite-${version}.tar.gz`);
    writeFileSync(file, 'not a dump');
    const setting = process.env.RK_LOCAL_CACHE;
    process.env.RK_LOCAL_CACHE = cache;
    // Whether each PGlite opened a directory that already held a cluster (PG_VERSION): one that did not runs initdb.
    const held: boolean[] = [];
    const original = PGlite.create.bind(PGlite);
    const opening = (dir: unknown, options: unknown) => {
      held.push(typeof dir === 'string' && !dir.includes('://') && existsSync(join(dir, 'PG_VERSION')));
      return original(dir as never, options as never);
    };
    const create = vi.spyOn(PGlite, 'create').mockImplementation(opening as unknown as typeof PGlite.create);
    const pems = randomHistory(9600, { size: 12 });
    try {
      // The bad file is made again, and the copy works.
      const first = join(scratch(), 'first');
      const made = ok(await ReplicaStore.open(first));
      expect(await made.addPage(pems, { phase: 'synced' })).toBe(pems.length);
      await made.close();
      expect(gunzipSync(readFileSync(file)).length).toBeGreaterThan(1_000_000);
      expect(readdirSync(cache)).toEqual([file.slice(cache.length + 1)]);

      // The next new copy (an empty directory) is that file written out, one PGlite opening it and no initdb.
      create.mockClear();
      held.length = 0;
      const second = ok(await ReplicaStore.open(scratch()));
      expect(held).toEqual([true]);
      expect(await second.count()).toBe(0);
      expect(await second.addPage(pems.slice(0, 3), {})).toBe(3);
      await second.close();

      // A copy that exists is opened as it is, never overwritten.
      create.mockClear();
      held.length = 0;
      const reopened = ok(await ReplicaStore.open(first));
      expect(held).toEqual([true]);
      expect(create.mock.calls.map((call) => call[1]?.loadDataDir)).toEqual([undefined]);
      expect(await reopened.count()).toBe(pems.length);
      await reopened.close();

      // A cache folder that cannot be written (here under a regular file) costs only the initdb:
      // the pristine cluster is made once, its write fails quietly, and the copy starts from it.
      // The initdb in memory (run for real in the first step) is stood in for by the archive it made.
      const pristine = new Blob([gunzipSync(readFileSync(file))]);
      let initdbs = 0;
      create.mockImplementation(((dir: unknown, options: unknown) => {
        if (dir !== 'memory://') return opening(dir, options);
        initdbs++;
        return Promise.resolve({ dumpDataDir: async () => pristine, close: async () => {} });
      }) as unknown as typeof PGlite.create);
      held.length = 0;
      process.env.RK_LOCAL_CACHE = join(file, 'below-a-file');
      const uncached = ok(await ReplicaStore.open(scratch()));
      expect(initdbs).toBe(1);
      expect(held).toEqual([true]);
      expect(await uncached.addPage(pems.slice(0, 2), {})).toBe(2);
      await uncached.close();
      expect(readdirSync(cache)).toEqual([file.slice(cache.length + 1)]);
    } finally {
      create.mockRestore();
      if (setting === undefined) delete process.env.RK_LOCAL_CACHE;
      else process.env.RK_LOCAL_CACHE = setting;
    }
  });
});
