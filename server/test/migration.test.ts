import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../src/schema.js';
import { openStorage } from '../src/storage.js';
import { extractCluster } from '../../src/lineage/replica/pglite.js';
import { startHarness } from './helpers/harness.js';
import { pristineCluster } from './helpers/one-initdb.js';

/** The schema of version 1 (commit 982ec6b), as a data directory made by an older server holds it. */
const V1_STATEMENTS = [
  `CREATE TABLE IF NOT EXISTS rk_meta (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS rk_pems (
     seq INTEGER GENERATED ALWAYS AS IDENTITY UNIQUE,
     id TEXT PRIMARY KEY,
     type TEXT NOT NULL,
     predecessor TEXT,
     emitter TEXT NOT NULL,
     timestamp_client TEXT NOT NULL,
     timestamp_received TEXT NOT NULL,
     properties JSON NOT NULL,
     tag TEXT NOT NULL,
     tag_namespace TEXT NOT NULL,
     content_hash TEXT NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS rk_artifacts (
     seq INTEGER GENERATED ALWAYS AS IDENTITY UNIQUE,
     name TEXT PRIMARY KEY,
     properties JSONB NOT NULL,
     created_at TEXT NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS rk_pem_artifacts (
     pem_id TEXT NOT NULL REFERENCES rk_pems (id) ON DELETE CASCADE,
     role TEXT NOT NULL CHECK (role IN ('uses', 'produces')),
     position INTEGER NOT NULL,
     artifact_name TEXT NOT NULL,
     PRIMARY KEY (pem_id, role, position)
   )`,
  `CREATE INDEX IF NOT EXISTS rk_pem_artifacts_by_name ON rk_pem_artifacts (artifact_name)`,
  `CREATE TABLE IF NOT EXISTS rk_tags (
     seq INTEGER GENERATED ALWAYS AS IDENTITY UNIQUE,
     namespace TEXT NOT NULL,
     tag TEXT NOT NULL,
     pem_id TEXT NOT NULL REFERENCES rk_pems (id) ON DELETE CASCADE,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (namespace, tag)
   )`,
  `CREATE TABLE IF NOT EXISTS rk_reports (
     seq INTEGER GENERATED ALWAYS AS IDENTITY UNIQUE,
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     status TEXT NOT NULL,
     body JSON,
     created_at TEXT NOT NULL
   )`,
  // The lineage graph projection: nodes labelled PEM or Artifact (keyed by ID or Name) and
  // edges USES / PRODUCES (PEM to Artifact) and PREDECESSOR (PEM to the PEM it follows).
  `CREATE TABLE IF NOT EXISTS rk_graph_nodes (
     seq INTEGER GENERATED ALWAYS AS IDENTITY UNIQUE,
     label TEXT NOT NULL CHECK (label IN ('PEM', 'Artifact')),
     key TEXT NOT NULL,
     data JSONB NOT NULL,
     PRIMARY KEY (label, key)
   )`,
  `CREATE TABLE IF NOT EXISTS rk_graph_edges (
     rel TEXT NOT NULL CHECK (rel IN ('USES', 'PRODUCES', 'PREDECESSOR')),
     src TEXT NOT NULL,
     dst TEXT NOT NULL,
     PRIMARY KEY (rel, src, dst)
   )`,
  `CREATE INDEX IF NOT EXISTS rk_graph_edges_by_dst ON rk_graph_edges (dst, rel)`,
];

/**
 * The graph tables of version 2 (commit 03141d2), frozen: md5-keyed nodes and edges with hash
 * indexes. The other tables of version 2 are version 1's plus rk_graph_pending and
 * rk_graph_failures.
 */
const V2_STATEMENTS = [
  ...V1_STATEMENTS.filter((s) => !/rk_graph_(nodes|edges)/.test(s)),
  `CREATE TABLE IF NOT EXISTS rk_graph_nodes (
     seq INTEGER GENERATED ALWAYS AS IDENTITY UNIQUE,
     label TEXT NOT NULL CHECK (label IN ('PEM', 'Artifact')),
     key TEXT NOT NULL,
     key_md5 TEXT GENERATED ALWAYS AS (md5(key)) STORED,
     data JSONB NOT NULL,
     PRIMARY KEY (label, key_md5)
   )`,
  `CREATE INDEX IF NOT EXISTS rk_graph_nodes_by_key ON rk_graph_nodes USING hash (key)`,
  `CREATE TABLE IF NOT EXISTS rk_graph_edges (
     rel TEXT NOT NULL CHECK (rel IN ('USES', 'PRODUCES', 'PREDECESSOR')),
     src TEXT NOT NULL,
     dst TEXT NOT NULL,
     src_md5 TEXT GENERATED ALWAYS AS (md5(src)) STORED,
     dst_md5 TEXT GENERATED ALWAYS AS (md5(dst)) STORED,
     PRIMARY KEY (rel, src_md5, dst_md5)
   )`,
  `CREATE INDEX IF NOT EXISTS rk_graph_edges_by_src ON rk_graph_edges USING hash (src)`,
  `CREATE INDEX IF NOT EXISTS rk_graph_edges_by_dst ON rk_graph_edges USING hash (dst)`,
  `CREATE TABLE IF NOT EXISTS rk_graph_pending (pem_seq INTEGER PRIMARY KEY)`,
  `CREATE TABLE IF NOT EXISTS rk_graph_failures (
     pem_seq INTEGER PRIMARY KEY,
     pem_id TEXT NOT NULL,
     error TEXT NOT NULL,
     failed_at TEXT NOT NULL
   )`,
];

describe('schema migration', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rk-migrate-'));
  // Each older server's data directory starts as the files of a new cluster (no tables), written
  // by Node rather than block by block through PGlite's file system.
  let cluster: Uint8Array;
  beforeAll(async () => {
    cluster = await pristineCluster();
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const olderServersDirectory = (target: string) => extractCluster(cluster, target);

  it('migrates a version 1 data directory in place and the Graph Builder rebuilds its graph', async () => {
    olderServersDirectory(dir);
    const old = await openStorage({ dataDir: dir });
    await old.transaction(async (tx) => {
      for (const statement of V1_STATEMENTS) await tx.query(statement);
      await tx.query(`INSERT INTO rk_meta (key, value) VALUES ('schema_version', '1')`);
      for (const [id, predecessor] of [['m1', null], ['m2', 'm1']] as const) {
        await tx.query(
          `INSERT INTO rk_pems (id, type, predecessor, emitter, timestamp_client, timestamp_received, properties, tag, tag_namespace, content_hash)
           VALUES ($1, 'ingest', $2, 'e', '2026-11-27 22:06:40', '2026-11-27 22:06:40', '{}', 'latest', 'e', 'x')`,
          [id, predecessor],
        );
      }
      await tx.query(`INSERT INTO rk_artifacts (name, properties, created_at) VALUES ('a1', '{}', '2026-11-27 22:06:40')`);
      await tx.query(`INSERT INTO rk_pem_artifacts (pem_id, role, position, artifact_name) VALUES ('m2', 'uses', 0, 'a1')`);
      // The old graph held m1 only.
      await tx.query(`INSERT INTO rk_graph_nodes (label, key, data) VALUES ('PEM', 'm1', '{}')`);
    });
    await old.close();

    const h = await startHarness({ dataDir: dir });
    try {
      const [version] = await h.rk.storage.query<{ value: string }>(`SELECT value FROM rk_meta WHERE key = 'schema_version'`);
      expect(version?.value).toBe(String(SCHEMA_VERSION));
      expect((await h.call('query', 'GET', '/pems_count')).json).toEqual({ pems_count: 2 });
      expect((await h.call('graph-builder', 'POST', '/flush', { body: {} })).status).toBe(200);
      expect((await h.call('graph-builder', 'GET', '/info')).json).toMatchObject({ pg_pems_count: 2, neo4j_pems_count: 2, neo4j_artifacts_count: 1 });
      const verify = (await h.call('graph-builder', 'POST', '/verify', { body: { check_pems: true, check_artifacts: true } })).json.msg;
      expect(verify).toBe(
        'PEMs: 2 in tables, 2 in graph, 0 missing, 0 extra\nEdges: 2 in tables, 2 in graph, 0 missing, 0 extra\nArtifacts: 1 in tables, 1 in graph, 0 missing, 0 extra',
      );
      expect(h.validator.violations()).toEqual([]);
    } finally {
      await h.stop();
    }
    // Opening it again is a no-op: still the current version, nothing queued.
    const again = await startHarness({ dataDir: dir });
    try {
      const [pending] = await again.rk.storage.query<{ n: number }>(`SELECT count(*)::int AS n FROM rk_graph_pending`);
      expect(pending?.n).toBe(0);
    } finally {
      await again.stop();
    }
  });

  it('migrates a version 2 database to 3: the graph is dropped, rebuilt without the old keys, and verifies clean', async () => {
    const v2dir = mkdtempSync(path.join(tmpdir(), 'rk-migrate-v2-'));
    try {
      olderServersDirectory(v2dir);
      const old = await openStorage({ dataDir: v2dir });
      await old.transaction(async (tx) => {
        for (const statement of V2_STATEMENTS) await tx.query(statement);
        await tx.query(`INSERT INTO rk_meta (key, value) VALUES ('schema_version', '2')`);
        for (const [id, predecessor] of [['n1', null], ['n2', 'n1']] as const) {
          await tx.query(
            `INSERT INTO rk_pems (id, type, predecessor, emitter, timestamp_client, timestamp_received, properties, tag, tag_namespace, content_hash)
             VALUES ($1, 'ingest', $2, 'e', '2026-11-27 22:06:40', '2026-11-27 22:06:40', '{}', 'latest', 'e', 'x')`,
            [id, predecessor],
          );
        }
        await tx.query(`INSERT INTO rk_artifacts (name, properties, created_at) VALUES ('b1', '{}', '2026-11-27 22:06:40')`);
        await tx.query(`INSERT INTO rk_pem_artifacts (pem_id, role, position, artifact_name) VALUES ('n2', 'produces', 0, 'b1')`);
        // A version 2 graph that is complete for n1 only, and a failure that a rebuild retries.
        await tx.query(`INSERT INTO rk_graph_nodes (label, key, data) VALUES ('PEM', 'n1', '{}')`);
        await tx.query(`INSERT INTO rk_graph_failures (pem_seq, pem_id, error, failed_at) VALUES (2, 'n2', 'old failure', '2026-11-27')`);
      });
      await old.close();

      const h = await startHarness({ dataDir: v2dir });
      try {
        const [version] = await h.rk.storage.query<{ value: string }>(`SELECT value FROM rk_meta WHERE key = 'schema_version'`);
        expect(version?.value).toBe('3');
        const columns = await h.rk.storage.query<{ column_name: string }>(
          `SELECT column_name FROM information_schema.columns WHERE table_name = 'rk_graph_edges' ORDER BY column_name`,
        );
        expect(columns.map((c) => c.column_name)).toEqual(['dst', 'rel', 'src']);
        expect((await h.call('graph-builder', 'POST', '/flush', { body: {} })).status).toBe(200);
        const verify = (await h.call('graph-builder', 'POST', '/verify', { body: { check_pems: true, check_artifacts: true } })).json.msg;
        expect(verify).toBe(
          'PEMs: 2 in tables, 2 in graph, 0 missing, 0 extra\nEdges: 2 in tables, 2 in graph, 0 missing, 0 extra\nArtifacts: 1 in tables, 1 in graph, 0 missing, 0 extra',
        );
        const [edges] = await h.rk.storage.query<{ n: number }>(`SELECT count(*)::int AS n FROM rk_graph_edges`);
        expect(edges?.n).toBe(2);
        expect(h.validator.violations()).toEqual([]);
      } finally {
        await h.stop();
      }
    } finally {
      rmSync(v2dir, { recursive: true, force: true });
    }
  });
});
