import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../src/graph.js';
import { LIST_BATCH, Records, type ListSelection } from '../src/records.js';
import { seedPems } from '../src/seed.js';
import { startLocalRK } from '../src/server.js';
import type { Queryable, Storage } from '../src/storage.js';
import { StreamedJsonArray, writeStreamed } from '../src/stream.js';
import { b64, emptied, fileStore, makePem, startHarness, waitForReport, type Harness } from './helpers/harness.js';

/**
 * The store paths of issues 9 and 13: the Graph Builder's pending queue, keyset cursors, the
 * isolation of a PEM the projection cannot handle, streamed full listings and group commit; and
 * the Graph Builder's background loop. No timings.
 * One PGlite store for the file, emptied (helpers/harness.ts) where a test needs a new one; the
 * first test shows that an emptied store is one.
 */

/** The file's store, emptied as a new one is. */
const memoryStore = fileStore();

describe('an emptied store', { timeout: 180_000 }, () => {
  it('keeps nothing of what was stored, the graph, its queue, failures and reports included, and serves as a new store', async () => {
    const storage = await memoryStore();
    const tableRows = async () => {
      const tables = await storage.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`);
      const rows: Record<string, number> = {};
      for (const { name } of tables) rows[name] = (await storage.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${name}`))[0]!.n;
      return rows;
    };
    const used = await startHarness({ storage });
    const pems = [makePem(), makePem(), makePem()];
    for (const pem of pems) expect((await used.call('receiver', 'POST', '/pem', { body: pem })).status).toBe(200);
    await used.call('graph-builder', 'POST', '/flush', { body: {} });
    await used.call('receiver', 'POST', '/pem', { body: makePem({ Predecessor: pems[0]!.ID }) });
    await used.call('receiver', 'POST', `/tag/${b64('ns')}/${b64('t')}/${pems[1]!.ID}`);
    const check = await used.call('query', 'POST', '/verify_artifact_connections', { body: {} });
    await waitForReport(used, check.json.report_id);
    await storage.query(`INSERT INTO rk_graph_failures (pem_seq, pem_id, error, failed_at) VALUES (99, 'x', 'e', '2026-01-01 00:00:00')`);
    expect(used.validator.violations()).toEqual([]);
    await used.stop();
    // A server started on a given store leaves it open.
    expect(await storage.query(`SELECT 1 AS one`)).toEqual([{ one: 1 }]);

    const before = await tableRows();
    // Every table holds something, so "nothing left" below is about each of them.
    expect(Object.entries(before).filter(([, n]) => n === 0)).toEqual([]);
    const meta = await storage.query(`SELECT key, value FROM rk_meta ORDER BY key`);

    await emptied(storage);
    const after = await tableRows();
    expect(after).toEqual(Object.fromEntries(Object.keys(before).map((name) => [name, name === 'rk_meta' ? before.rk_meta : 0])));
    expect(await storage.query(`SELECT key, value FROM rk_meta ORDER BY key`)).toEqual(meta);
    // Identities start again as in a new store (none has been drawn since).
    const sequences = await storage.query<{ name: string; last: string | null }>(`SELECT sequencename AS name, last_value AS last FROM pg_sequences WHERE schemaname = current_schema()`);
    expect(sequences.length).toBeGreaterThan(0);
    expect(sequences.filter((s) => s.last !== null)).toEqual([]);

    const fresh = await startHarness({ storage });
    try {
      expect(await fresh.counts()).toEqual({ pems: 0, artifacts: 0, tags: 0 });
      expect((await fresh.call('graph-builder', 'GET', '/info')).json).toMatchObject({ pg_pems_count: 0, pg_artifacts_count: 0, neo4j_pems_count: 0, neo4j_artifacts_count: 0, loop_state_should_flush: 'False' });
      expect((await fresh.call('query', 'GET', `/report/${check.json.report_id}`)).status).toBe(404);
      expect((await fresh.call('query', 'GET', `/pem/${pems[0]!.ID}`)).status).toBe(404);
      // The same PEM is new again, not a duplicate.
      expect((await fresh.call('receiver', 'POST', '/pem', { body: pems[0] })).json).toEqual({ ID: pems[0]!.ID, status: 'accepted' });
      expect(fresh.validator.violations()).toEqual([]);
    } finally {
      await fresh.stop();
    }
  });
});

describe('a server on a given store', { timeout: 60_000 }, () => {
  it('needs the RK schema in it, and no other storage option', async () => {
    const noSchema: Storage = {
      description: 'no schema',
      writers: 1,
      bulk: { query: () => Promise.reject(new Error('unused')) },
      transaction: () => Promise.reject(new Error('unused')),
      close: async () => undefined,
      query: () => Promise.reject(new Error('relation "rk_meta" does not exist')),
    };
    await expect(startLocalRK({ storage: noSchema })).rejects.toThrow(/the store has no RK schema; .*Open it with openStore/);
    const older: Storage = { ...noSchema, query: async <Row extends object>() => [{ value: '2' }] as Row[] };
    await expect(startLocalRK({ storage: older })).rejects.toThrow(/the store has schema version 2; this server uses \d+/);
    await expect(startLocalRK({ storage: noSchema, memory: true })).rejects.toThrow('choose one of memory, dataDir, databaseUrl and storage, not memory and storage');
  });

  it('leaves the store open when it cannot start', async () => {
    const storage = await memoryStore();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      await expect(startLocalRK({ storage, port: (taken.address() as AddressInfo).port })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
    expect(await storage.query(`SELECT 1 AS one`)).toEqual([{ one: 1 }]);
  });
});

describe('the Graph Builder queue (pending PEMs instead of an anti-join)', { timeout: 180_000 }, () => {
  it('projects next run a PEM stored while a run was going, and a rebuild is still complete', async () => {
    const storage = await memoryStore();
    const records = new Records(storage);
    for (let i = 0; i < 3; i++) await records.sendPem(makePem());
    let late: ReturnType<typeof makePem> | undefined;
    // A storage that stores one more PEM right after the run has read its batch of pending PEMs.
    const racing: Storage = {
      description: storage.description,
      writers: storage.writers,
      bulk: storage.bulk,
      close: () => storage.close(),
      transaction: (work) => storage.transaction(work),
      async query<Row extends object>(sql: string, params?: readonly unknown[]): Promise<Row[]> {
        const rows = await storage.query<Row>(sql, params);
        if (!late && sql.includes('FROM rk_graph_pending g')) {
          late = makePem();
          await records.sendPem(late);
        }
        return rows;
      },
    };
    const graph = new GraphBuilder(racing, { intervalMs: 60_000 });
    await graph.flush();
    expect(late).toBeDefined();
    const nodes = async () => (await storage.query<{ key: string }>(`SELECT key FROM rk_graph_nodes WHERE label = 'PEM'`)).map((r) => r.key);
    // The run did not see it (it read its batch first); the next run projects it.
    expect(await nodes()).not.toContain(late!.ID);
    expect(await graph.flush()).toBe(1);
    expect(await nodes()).toContain(late!.ID);
    expect(await graph.counts()).toMatchObject({ tablePems: 4, graphPems: 4, failedPems: 0 });
    const pending = await storage.query<{ n: number }>(`SELECT count(*)::int AS n FROM rk_graph_pending`);
    expect(pending[0]!.n).toBe(0);

    graph.requestRebuild();
    await graph.flush();
    expect(await graph.counts()).toMatchObject({ tablePems: 4, tableArtifacts: 4, graphPems: 4, graphArtifacts: 4 });
    expect(await graph.verify(true, true)).toMatch(/PEMs: 4 in tables, 4 in graph, 0 missing, 0 extra\nEdges: \d+ in tables, \d+ in graph, 0 missing, 0 extra\nArtifacts: 4 in tables, 4 in graph, 0 missing, 0 extra$/);
    await graph.stop();
  });

  it('projects a seeded store with chains and fan-ins completely, with names longer than a B-tree entry', async () => {
    const storage = await memoryStore();
    const records = new Records(storage);
    await seedPems(storage, 0, 599);
    const long = 'n'.repeat(3000);
    await records.sendPem(makePem({ ID: 'p'.repeat(2000), Predecessor: 'q'.repeat(2900), UsesArtifacts: [{ Name: long, Properties: {}, CreatedAt: null }] }));
    const graph = new GraphBuilder(storage, { intervalMs: 60_000 });
    expect(await graph.flush()).toBe(601);
    const report = await graph.verify(true, true);
    expect(report).toMatch(/^PEMs: 601 in tables, 601 in graph, 0 missing, 0 extra\n/);
    expect(report).toMatch(/\nEdges: (\d+) in tables, \1 in graph, 0 missing, 0 extra\n/);
    expect(report).toMatch(/\nArtifacts: 601 in tables, 601 in graph, 0 missing, 0 extra$/);
    await graph.stop();
  });
});

describe('keyset cursors', { timeout: 180_000 }, () => {
  let storage: Storage;
  beforeAll(async () => {
    storage = await memoryStore();
    const records = new Records(storage);
    for (let i = 0; i < 23; i++) {
      await records.sendPem(makePem({ Type: `t${i % 4}`, TimestampClient: `2026-11-2${i % 3} 10:00:00`, Predecessor: i % 5 ? `p${i % 2}` : null }));
    }
  }, 120_000);
  const sorts: Pick<ListSelection, 'sortField' | 'sortOrder'>[] = [
    {},
    { sortOrder: 'desc' },
    { sortField: 'Type' },
    { sortField: 'Type', sortOrder: 'desc' },
    { sortField: 'TimestampClient', sortOrder: 'desc' },
    { sortField: 'ID' },
    { sortField: 'Predecessor' },
  ];

  it('serves page after page through cursors with the same PEMs as OFFSET paging, also after a write', async () => {
    for (const sort of sorts) {
      for (const filters of [{}, { Type: 't1' }] as Record<string, string>[]) {
        const sequential = new Records(storage);
        const pages = async (r: Records) => {
          const out: string[][] = [];
          for (let pageIndex = 0; pageIndex < 6; pageIndex++) out.push((await r.listPems({ filters, ...sort, pageIndex, pageSize: 5 })).map((p) => p.ID));
          return out;
        };
        const viaCursors = await pages(sequential);
        // A fresh Records has no cursors: each page of its own is an OFFSET page.
        const viaOffset: string[][] = [];
        for (let pageIndex = 0; pageIndex < 6; pageIndex++) {
          viaOffset.push((await new Records(storage).listPems({ filters, ...sort, pageIndex, pageSize: 5 })).map((p) => p.ID));
        }
        expect(viaCursors, JSON.stringify({ sort, filters })).toEqual(viaOffset);
        expect(viaCursors.flat().length).toBe(filters.Type ? 6 : 23);
        const all = (await sequential.listPems({ filters, ...sort })).map((p) => p.ID);
        expect(viaCursors.flat()).toEqual(all);
      }
    }
    // A write through the same Records drops its cursors: the pages still equal OFFSET pages.
    const records = new Records(storage);
    const before = await records.listPems({ filters: {}, sortField: 'Type', pageIndex: 0, pageSize: 5 });
    expect(before).toHaveLength(5);
    await records.sendPem(makePem({ Type: 't0' }));
    for (let pageIndex = 1; pageIndex < 5; pageIndex++) {
      const page = (await records.listPems({ filters: {}, sortField: 'Type', pageIndex, pageSize: 5 })).map((p) => p.ID);
      const offset = (await new Records(storage).listPems({ filters: {}, sortField: 'Type', pageIndex, pageSize: 5 })).map((p) => p.ID);
      expect(page).toEqual(offset);
    }
  });

  it('pages artifacts through cursors like OFFSET', async () => {
    const records = new Records(storage);
    for (const sort of [{}, { sortField: 'Name' }, { sortField: 'CreatedAt', sortOrder: 'desc' as const }]) {
      const seq: string[] = [];
      const off: string[] = [];
      for (let pageIndex = 0; pageIndex < 6; pageIndex++) {
        seq.push(...(await records.listArtifacts({ filters: {}, ...sort, pageIndex, pageSize: 5 })).map((a) => a.Name));
        off.push(...(await new Records(storage).listArtifacts({ filters: {}, ...sort, pageIndex, pageSize: 5 })).map((a) => a.Name));
      }
      expect(seq).toEqual(off);
      expect(seq).toEqual((await records.listArtifacts({ filters: {}, ...sort })).map((a) => a.Name));
    }
  });
});

describe('a PEM the projection cannot handle', { timeout: 180_000 }, () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ storage: await memoryStore() });
  }, 120_000);
  afterAll(async () => h?.stop());

  it('is recorded and skipped; the Graph Builder goes on with the others and a rebuild tries again', async () => {
    const first = makePem();
    await h.call('receiver', 'POST', '/pem', { body: first });
    // Straight into storage: json accepts \u0000, but the projection's jsonb does not.
    const bad = 'bad-pem-' + first.ID.slice(0, 8);
    await h.rk.storage.transaction(async (tx: Queryable) => {
      const [row] = await tx.query<{ seq: number }>(
        `INSERT INTO rk_pems (id, type, predecessor, emitter, timestamp_client, timestamp_received, properties, tag, tag_namespace, content_hash)
         VALUES ($1, 'ingest', NULL, 'e', '2026-11-27 22:06:40', '2026-11-27 22:06:40', '{"a": "\\u0000"}', '', '', 'x') RETURNING seq`,
        [bad],
      );
      await tx.query(`INSERT INTO rk_graph_pending (pem_seq) VALUES ($1)`, [row!.seq]);
    });
    const second = makePem();
    await h.call('receiver', 'POST', '/pem', { body: second });

    const flushed = await h.call('graph-builder', 'POST', '/flush', { body: {} });
    expect(flushed.status).toBe(200);
    const info = (await h.call('graph-builder', 'GET', '/info')).json;
    expect(info).toMatchObject({ pg_pems_count: 3, neo4j_pems_count: 2 });
    expect(info.loop_state_should_flush).toMatch(new RegExp(`^False; 1 PEM could not be projected \\(see /verify\\), first ${bad}: `));
    const verify = (await h.call('graph-builder', 'POST', '/verify', { body: { check_pems: true, check_artifacts: true } })).json.msg;
    expect(verify).toContain(`missing from the graph: PEM ${bad}`);
    expect(verify).toMatch(new RegExp(`not projectable: PEM ${bad}: .+`));

    // Later PEMs still reach the graph.
    const third = makePem();
    await h.call('receiver', 'POST', '/pem', { body: third });
    await h.call('graph-builder', 'POST', '/flush', { body: {} });
    expect((await h.call('graph-builder', 'GET', '/info')).json).toMatchObject({ pg_pems_count: 4, neo4j_pems_count: 3 });

    // Repaired in storage, a rebuild projects it.
    await h.rk.storage.query(`UPDATE rk_pems SET properties = '{"a": "fixed"}' WHERE id = $1`, [bad]);
    await h.call('graph-builder', 'POST', '/rebuild', { body: {} });
    await h.call('graph-builder', 'POST', '/flush', { body: {} });
    const after = (await h.call('graph-builder', 'GET', '/info')).json;
    expect(after).toMatchObject({ pg_pems_count: 4, neo4j_pems_count: 4, pems_sync_pct: '100.0', loop_state_should_flush: 'False' });
    expect(h.validator.violations()).toEqual([]);
  });
});

describe('streamed full listings', { timeout: 180_000 }, () => {
  it('write the same PEMs and artifacts as the array listing, in bounded batches', async () => {
    const storage = await memoryStore();
    const records = new Records(storage);
    await seedPems(storage, 0, 2 * LIST_BATCH + 17);
    for (let i = 0; i < 3; i++) await records.sendPem(makePem());
    const server = createServer((req, res) => {
      const selections: Record<string, ListSelection> = {
        '/pems': { filters: {} },
        '/pems-type': { filters: { Type: 'type-3' }, sortField: 'TimestampClient', sortOrder: 'desc' },
        '/pems-predecessor': { filters: {}, sortField: 'Predecessor' },
      };
      if (req.url === '/artifacts') {
        void writeStreamed(res, 200, new StreamedJsonArray(() => records.streamArtifacts({ filters: {}, sortField: 'Name' })));
        return;
      }
      const selection = selections[req.url ?? '']!;
      void writeStreamed(res, 200, new StreamedJsonArray(() => records.streamPems(selection)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const pems = (await (await fetch(`${base}/pems`)).json()) as unknown[];
      expect(pems).toHaveLength(2 * LIST_BATCH + 21);
      expect(pems).toEqual(await records.listPems({ filters: {} }));
      // The array listing reads in batches too; compare with OFFSET pages of a fresh Records.
      const paged = [];
      for (let pageIndex = 0; pageIndex * 300 < pems.length; pageIndex++) paged.push(...(await new Records(storage).listPems({ filters: {}, pageIndex, pageSize: 300 })));
      expect(pems).toEqual(paged);
      const typed = (await (await fetch(`${base}/pems-type`)).json()) as { ID: string }[];
      expect(typed.map((p) => p.ID)).toEqual(
        (await records.listPems({ filters: { Type: 'type-3' }, sortField: 'TimestampClient', sortOrder: 'desc', pageSize: 10_000 })).map((p) => p.ID),
      );
      const byPredecessor = await (await fetch(`${base}/pems-predecessor`)).json();
      expect(byPredecessor).toEqual(await records.listPems({ filters: {}, sortField: 'Predecessor', pageSize: 10_000 }));
      const artifacts = (await (await fetch(`${base}/artifacts`)).json()) as unknown[];
      expect(artifacts).toEqual(await records.listArtifacts({ filters: {}, sortField: 'Name', pageSize: 10_000 }));
      expect(artifacts.length).toBeGreaterThan(2 * LIST_BATCH);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

/** The Graph Builder's background loop projects new PEMs without being asked. */
describe('the Graph Builder loop', { timeout: 60_000 }, () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ storage: await memoryStore(), graphIntervalMs: 20 });
  }, 120_000);
  afterAll(async () => h?.stop());

  it('catches up by itself, and stop() ends it', async () => {
    const pems = [makePem(), makePem(), makePem()];
    for (const pem of pems) await h.call('receiver', 'POST', '/pem', { body: pem });
    // Polled, never timed: the test only bounds how often it asks.
    let info = (await h.call('graph-builder', 'GET', '/info')).json;
    for (let i = 0; info.neo4j_pems_count < 3 && i < 1000; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      info = (await h.call('graph-builder', 'GET', '/info')).json;
    }
    expect(info).toMatchObject({ pg_pems_count: 3, neo4j_pems_count: 3, pems_sync_pct: '100.0', loop_iteration_interval: 0 });
    expect(h.validator.violations()).toEqual([]);
  });
});

/**
 * Group commit of PEM inserts (issue 13): PEMs sent while a group is written share the next
 * transaction, and each still gets its own outcome.
 *
 * The file's store, emptied, refusing the inserts of the PEMs in `bad`; `groups` holds, for each PEM
 * insert statement tried, how many PEMs it wrote (a group's statement binds an array of IDs).
 */
async function refusingStore(bad: Set<string>): Promise<{ storage: Storage; groups: number[] }> {
  const inner = await memoryStore();
  const groups: number[] = [];
  const check = (sql: string, params?: readonly unknown[]) => {
    if (!sql.includes('INSERT INTO rk_pems')) return;
    const ids = Array.isArray(params?.[0]) ? (params[0] as unknown[]) : [params?.[0]];
    groups.push(ids.length);
    if (ids.some((id) => bad.has(String(id)))) throw new Error('refused by the database');
  };
  const storage: Storage = {
    description: inner.description,
    writers: inner.writers,
    bulk: inner.bulk,
    // The file's store stays open for the next test; fileStore() closes it.
    close: async () => undefined,
    async query<Row extends object>(sql: string, params?: readonly unknown[]): Promise<Row[]> {
      check(sql, params);
      return inner.query<Row>(sql, params);
    },
    transaction: (work) =>
      inner.transaction((tx) =>
        work({
          async query<Row extends object>(sql: string, params?: readonly unknown[]): Promise<Row[]> {
            check(sql, params);
            return tx.query<Row>(sql, params);
          },
        } satisfies Queryable),
      ),
  };
  return { storage, groups };
}

/** Everything a PEM insert writes, without the receive times (they differ between two runs). */
async function snapshot(db: Queryable) {
  return {
    pems: await db.query(`SELECT id, type, predecessor, emitter, timestamp_client, properties::text, tag, tag_namespace, content_hash FROM rk_pems ORDER BY seq`),
    artifacts: await db.query(`SELECT name, properties FROM rk_artifacts ORDER BY name`),
    links: await db.query(`SELECT pem_id, role, position, artifact_name FROM rk_pem_artifacts ORDER BY pem_id, role, position`),
    tags: await db.query(`SELECT namespace, tag, pem_id FROM rk_tags ORDER BY namespace, tag`),
    pending: await db.query(`SELECT p.id FROM rk_graph_pending g JOIN rk_pems p ON p.seq = g.pem_seq ORDER BY g.pem_seq`),
  };
}

describe('group commit', { timeout: 120_000 }, () => {
  it('writes concurrent PEMs together, each committed and answered, with duplicate and conflict decided per PEM', async () => {
    const { storage, groups } = await refusingStore(new Set());
    const records = new Records(storage);
    const pems = Array.from({ length: 12 }, () => makePem());
    const changed = { ...pems[3]!, Type: 'other-type' };
    const outcomes = await Promise.all([...pems, pems[2]!, changed].map((p) => records.sendPem(p)));
    expect(outcomes.slice(0, 12)).toEqual(pems.map(() => ({ status: 'accepted' })));
    expect(outcomes[12]).toEqual({ status: 'duplicate' });
    expect(outcomes[13]).toEqual({ status: 'conflict' });
    // Sent in one turn of the event loop, they were written in groups, not one by one.
    expect(groups.some((n) => n > 1)).toBe(true);
    for (const pem of pems) expect((await records.getPem(pem.ID))?.Type).toBe(pem.Type);
  });

  it('a PEM the database refuses fails alone: the others of its group are stored', async () => {
    const bad = makePem();
    const { storage, groups } = await refusingStore(new Set([bad.ID]));
    const records = new Records(storage);
    const good = Array.from({ length: 9 }, () => makePem());
    const sent = [good[0]!, ...good.slice(1, 5), bad, ...good.slice(5)];
    const settled = await Promise.allSettled(sent.map((p) => records.sendPem(p)));
    settled.forEach((outcome, i) => {
      if (sent[i] === bad) expect(outcome).toMatchObject({ status: 'rejected', reason: { message: 'refused by the database' } });
      else expect(outcome).toEqual({ status: 'fulfilled', value: { status: 'accepted' } });
    });
    expect(await records.getPem(bad.ID)).toBeUndefined();
    for (const pem of good) expect(await records.getPem(pem.ID)).toBeDefined();
    expect(await records.countPems({})).toBe(good.length);
    // The refused PEM was sent inside a group, not alone.
    expect(groups.some((n) => n > 1)).toBe(true);
  });

  it('a group written in one statement stores what the same PEMs sent one after another store', async () => {
    const stored = makePem({ Tag: 'moved', TagNamespace: 'ns', UsesArtifacts: [{ Name: 'shared', Properties: { a: '0', keep: 'old' }, CreatedAt: null }] });
    const first = makePem({
      Tag: 'moved',
      TagNamespace: 'ns',
      UsesArtifacts: [{ Name: 'shared', Properties: { a: '1', b: '1' }, CreatedAt: null }],
      ProducesArtifacts: [{ Name: 'fresh', Properties: { x: '1' }, CreatedAt: null }],
    });
    const second = makePem({
      Predecessor: first.ID,
      Tag: 'moved',
      TagNamespace: 'ns',
      UsesArtifacts: [
        { Name: 'shared', Properties: { b: '2', c: '2' }, CreatedAt: null },
        { Name: 'fresh', Properties: {}, CreatedAt: null },
      ],
      ProducesArtifacts: [{ Name: 'shared', Properties: { c: '3' }, CreatedAt: null }],
    });
    // Taken IDs: its artifacts, links and tag must not count.
    const conflicting = { ...stored, Type: 'changed', Tag: 'moved', UsesArtifacts: [{ Name: 'shared', Properties: { a: 'conflict', b: 'conflict' }, CreatedAt: null }] };
    const sameIdInGroup = { ...first, Type: 'second copy', UsesArtifacts: [{ Name: 'fresh', Properties: { x: 'copy' }, CreatedAt: null }] };
    const untagged = makePem({ Tag: '', TagNamespace: 'ns', UsesArtifacts: [{ Name: 'fresh', Properties: { y: '1' }, CreatedAt: null }] });
    const last = makePem({ Tag: 'moved', TagNamespace: 'ns', UsesArtifacts: [] });
    const other = makePem({ Tag: 'other', TagNamespace: 'ns' });
    const batch = [first, conflicting, second, { ...stored }, sameIdInGroup, untagged, { ...first }, other, last, ...Array.from({ length: 6 }, () => makePem())];
    const expected = batch.map((p) =>
      p === conflicting || p === sameIdInGroup ? { status: 'conflict' } : p.ID === stored.ID || (p.ID === first.ID && p !== first) ? { status: 'duplicate' } : { status: 'accepted' },
    );

    // One after another, read; then grouped, in the same store emptied.
    const sequential = await refusingStore(new Set());
    const one = new Records(sequential.storage);
    await one.sendPem(stored);
    const outcomes: unknown[] = [];
    for (const p of batch) outcomes.push(await one.sendPem(p));
    expect(outcomes).toEqual(expected);
    const want = await snapshot(sequential.storage);

    const grouped = await refusingStore(new Set());
    const many = new Records(grouped.storage);
    await many.sendPem(stored);
    // An unrelated PEM first, so the batch's PEMs are not the first rows of the store.
    const [, ...rest] = await Promise.all([many.sendPem(makePem()), ...batch.map((p) => many.sendPem(p))]);
    expect(rest).toEqual(expected);
    // The batch went in one statement (each ID bound once), not PEM by PEM.
    expect(Math.max(...grouped.groups)).toBeGreaterThanOrEqual(new Set(batch.map((p) => p.ID)).size);

    const got = await snapshot(grouped.storage);
    got.pems = got.pems.slice(0, 1).concat(got.pems.slice(2));
    got.pending = got.pending.slice(0, 1).concat(got.pending.slice(2));
    got.links = got.links.filter((l: any) => want.links.some((w: any) => w.pem_id === l.pem_id));
    got.artifacts = got.artifacts.filter((a: any) => want.artifacts.some((w: any) => w.name === a.name));
    got.tags = got.tags.filter((t: any) => want.tags.some((w: any) => w.tag === t.tag));
    expect(got).toEqual(want);

    // Spelled out: properties merged in arrival order, only from PEMs inserted.
    expect((await many.getPem(first.ID))?.Type).toBe(first.Type);
    expect((await many.getPem(stored.ID))?.Type).toBe(stored.Type);
    const artifacts = await grouped.storage.query<{ name: string; properties: unknown; created_at: string }>(
      `SELECT name, properties, created_at FROM rk_artifacts WHERE name IN ('shared', 'fresh')`,
    );
    const byName = Object.fromEntries(artifacts.map((a) => [a.name, a]));
    expect(byName.shared?.properties).toEqual({ a: '1', keep: 'old', b: '2', c: '3' });
    expect(byName.fresh?.properties).toEqual({ x: '1', y: '1' });
    // A new artifact is created at the time of the first inserted PEM that names it.
    const [received] = await grouped.storage.query<{ timestamp_received: string }>(`SELECT timestamp_received FROM rk_pems WHERE id = $1`, [first.ID]);
    expect(byName.fresh?.created_at).toBe(received?.timestamp_received);
    // The last inserted PEM of the group moved the tag; an untagged one moved nothing.
    expect(await many.getTag('ns', 'moved')).toBe(last.ID);
    expect(await many.getTag('ns', 'other')).toBe(other.ID);
    expect(await many.countTags()).toBe(3);
  });

  it('a group of only duplicates and conflicts writes nothing', async () => {
    const { storage, groups } = await refusingStore(new Set());
    const records = new Records(storage);
    const pems = Array.from({ length: 5 }, (_, i) => makePem({ Tag: `t${i}`, TagNamespace: 'ns' }));
    await Promise.all(pems.map((p) => records.sendPem(p)));
    const before = await snapshot(storage);
    const again = [makePem({ Tag: '' }), ...pems.map((p, i) => (i % 2 ? { ...p, Type: 'changed', Tag: 'x', UsesArtifacts: [{ Name: 'new', Properties: { k: 'v' }, CreatedAt: null }] } : p))];
    const outcomes = await Promise.all(again.map((p) => records.sendPem(p)));
    expect(outcomes).toEqual([{ status: 'accepted' }, ...pems.map((_, i) => ({ status: i % 2 ? 'conflict' : 'duplicate' }))]);
    expect(groups.some((n) => n > 1)).toBe(true);
    const after = await snapshot(storage);
    expect(after.pems.length).toBe(before.pems.length + 1);
    expect(after.tags).toEqual(before.tags);
    expect(after.artifacts.map((a: any) => a.name)).not.toContain('new');
  });
});
