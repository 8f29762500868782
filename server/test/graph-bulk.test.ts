import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../src/graph.js';
import { Records } from '../src/records.js';
import { seedPems } from '../src/seed.js';
import type { Queryable, Storage } from '../src/storage.js';
import { fileStore, makePem } from './helpers/harness.js';

/**
 * A backlog onto an empty graph (a rebuild, a migration, a store seeded in bulk) is projected in
 * one transaction with the graph's indexes dropped and built after the inserts (src/graph.ts,
 * `projectAll`). It must leave exactly the graph the batches leave, the same indexes, and a PEM it
 * cannot project must still be isolated by the batches.
 */

const SIZE = 1_500;

/** The file's one PGlite store, emptied as a new one is: the batched graph is read before the bulk one is made in it. */
const memoryStore = fileStore();

/** The storage with the text of every statement sent through it recorded. */
function recording(storage: Storage, sent: string[]): Storage {
  const through = (target: Queryable): Queryable => ({
    query<Row extends object>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
      sent.push(sql);
      return target.query<Row>(sql, params);
    },
  });
  const plain = through(storage);
  return {
    description: storage.description,
    writers: storage.writers,
    bulk: storage.bulk,
    query: plain.query,
    transaction: (work) => storage.transaction((tx) => work(through(tx))),
    close: () => storage.close(),
  };
}

/** Seeded PEMs, then `extra` (sent like any PEM), then more seeded PEMs. */
async function fill(storage: Storage, extra: ReturnType<typeof makePem>[], upTo: number): Promise<void> {
  await seedPems(storage, 0, 399);
  for (const pem of extra) await new Records(storage).sendPem(pem);
  if (upTo > 399) await seedPems(storage, 400, upTo);
}

/** The graph as rows: PEM nodes in their order, artifact nodes and edges as sorted sets. */
async function graphOf(storage: Storage): Promise<{ pems: unknown[]; artifacts: unknown[]; edges: unknown[] }> {
  return {
    // The times each store stamped (TimestampReceived, an artifact's first sight) are compared with their columns.
    pems: await storage.query(
      `SELECT n.key, n.data - 'timestamp_received' AS data, n.data->>'timestamp_received' = p.timestamp_received AS received
       FROM rk_graph_nodes n JOIN rk_pems p ON p.id = n.key WHERE n.label = 'PEM' ORDER BY n.seq`,
    ),
    artifacts: await storage.query(
      `SELECT n.key, n.data - 'created_at' AS data, n.data->>'created_at' = a.created_at AS created
       FROM rk_graph_nodes n JOIN rk_artifacts a ON a.name = n.key WHERE n.label = 'Artifact' ORDER BY n.key COLLATE "C"`,
    ),
    edges: await storage.query(`SELECT rel, src, dst FROM rk_graph_edges ORDER BY rel, src COLLATE "C", dst COLLATE "C"`),
  };
}

async function graphIndexes(storage: Storage): Promise<string[]> {
  const rows = await storage.query<{ indexdef: string }>(
    `SELECT indexdef FROM pg_indexes WHERE tablename IN ('rk_graph_nodes', 'rk_graph_edges') ORDER BY indexname`,
  );
  return rows.map((r) => r.indexdef);
}

describe('the projection of a backlog onto an empty graph', { timeout: 300_000 }, () => {
  it('goes in bulk and leaves the graph, and the indexes, that batches leave; a rebuild goes in bulk again', async () => {
    // Names and an ID longer than a B-tree entry, and an artifact whose properties a later PEM merges into.
    const long = 'x'.repeat(3000);
    const extra = [
      makePem({ ID: `p${long}`, UsesArtifacts: [{ Name: `n${long}`, Properties: { a: '1' }, CreatedAt: '2026-11-27 22:06:40' }] }),
      makePem({ UsesArtifacts: [{ Name: `n${long}`, Properties: { b: '2' }, CreatedAt: '2026-11-27 22:06:41' }] }),
    ];
    // Batches: the graph is projected in two steps, the second onto a graph that is not empty.
    const batched = await memoryStore();
    const batchedSent: string[] = [];
    await fill(batched, extra, 399);
    const first = new GraphBuilder(recording(batched, batchedSent), { intervalMs: 60_000 });
    expect(await first.flush()).toBe(402);
    await seedPems(batched, 400, SIZE - 1);
    expect(await first.flush()).toBe(SIZE - 400);
    expect(batchedSent.some((sql) => sql.startsWith('DROP INDEX'))).toBe(false);
    const expected = await graphOf(batched);
    const batchedIndexes = await graphIndexes(batched);

    // Bulk: the same PEMs in a new store, projected at once.
    const bulk = await memoryStore();
    const bulkSent: string[] = [];
    await fill(bulk, extra, SIZE - 1);
    const graph = new GraphBuilder(recording(bulk, bulkSent), { intervalMs: 60_000 });
    expect(await graph.flush()).toBe(SIZE + 2);
    expect(bulkSent.filter((sql) => sql.startsWith('DROP INDEX'))).toHaveLength(3);

    expect(expected.pems).toHaveLength(SIZE + 2);
    expect(expected.pems.every((p) => (p as { received: boolean }).received)).toBe(true);
    expect(expected.artifacts.every((a) => (a as { created: boolean }).created)).toBe(true);
    expect(await graphOf(bulk)).toEqual(expected);
    expect(await graphIndexes(bulk)).toEqual(batchedIndexes);
    expect(await graphIndexes(bulk)).toHaveLength(4);
    expect(await graph.verify(true, true)).toMatch(
      new RegExp(`^PEMs: ${SIZE + 2} in tables, ${SIZE + 2} in graph, 0 missing, 0 extra\\nEdges: (\\d+) in tables, \\1 in graph, 0 missing, 0 extra\\nArtifacts: (\\d+) in tables, \\2 in graph, 0 missing, 0 extra$`),
    );
    const [pending] = await bulk.query<{ n: number }>(`SELECT count(*)::int AS n FROM rk_graph_pending`);
    expect(pending?.n).toBe(0);

    // A rebuild empties the graph and projects it in bulk again, to the same rows.
    bulkSent.length = 0;
    graph.requestRebuild();
    expect(await graph.flush()).toBe(SIZE + 2);
    expect(bulkSent.filter((sql) => sql.startsWith('DROP INDEX'))).toHaveLength(3);
    expect(await graphOf(bulk)).toEqual(expected);
    expect(await graphIndexes(bulk)).toEqual(batchedIndexes);

    // New PEMs onto the projected graph go in batches, through the rebuilt unique key.
    bulkSent.length = 0;
    await new Records(bulk).sendPem(makePem({ UsesArtifacts: [{ Name: `n${long}`, Properties: { c: '3' }, CreatedAt: null }] }));
    expect(await graph.flush()).toBe(1);
    expect(bulkSent.some((sql) => sql.startsWith('DROP INDEX'))).toBe(false);
    const [artifact] = await bulk.query<{ n: number; data: { properties: Record<string, string> } }>(
      `SELECT count(*) OVER () ::int AS n, data FROM rk_graph_nodes WHERE label = 'Artifact' AND key = $1`,
      [`n${long}`],
    );
    expect(artifact).toMatchObject({ n: 1, data: { properties: { a: '1', b: '2', c: '3' } } });
  });

  it('is rolled back whole when a PEM cannot be projected, and the batches isolate that PEM', async () => {
    const storage = await memoryStore();
    await seedPems(storage, 0, SIZE - 1);
    // Straight into storage: json accepts \u0000, the projection's jsonb does not.
    await storage.transaction(async (tx) => {
      const [row] = await tx.query<{ seq: number }>(
        `INSERT INTO rk_pems (id, type, predecessor, emitter, timestamp_client, timestamp_received, properties, tag, tag_namespace, content_hash)
         VALUES ('bad-pem', 'ingest', NULL, 'e', '2026-11-27 22:06:40', '2026-11-27 22:06:40', '{"a": "\\u0000"}', '', '', 'x') RETURNING seq`,
      );
      await tx.query(`INSERT INTO rk_graph_pending (pem_seq) VALUES ($1)`, [row!.seq]);
    });
    const indexes = await graphIndexes(storage);
    const sent: string[] = [];
    const graph = new GraphBuilder(recording(storage, sent), { intervalMs: 60_000 });
    // Every queued PEM was taken: SIZE projected and the one recorded as failed.
    expect(await graph.flush()).toBe(SIZE + 1);
    expect(sent.filter((sql) => sql.startsWith('DROP INDEX'))).toHaveLength(3);
    expect(await graph.counts()).toMatchObject({ tablePems: SIZE + 1, graphPems: SIZE, failedPems: 1, firstFailure: { id: 'bad-pem' } });
    expect(await graphIndexes(storage)).toEqual(indexes);
    const report = await graph.verify(true, true);
    expect(report).toContain('missing from the graph: PEM bad-pem');
    expect(report).toMatch(/\nEdges: (\d+) in tables, \1 in graph, 0 missing, 0 extra\n/);
  });
});
