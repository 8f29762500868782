import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../src/schema.js';
import { openStorage } from '../src/storage.js';
import { startHarness } from './helpers/harness.js';

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

describe('schema migration', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rk-migrate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('migrates a version 1 data directory in place and the Graph Builder rebuilds its graph', async () => {
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
    // Opening it again is a no-op: still version 2, nothing queued.
    const again = await startHarness({ dataDir: dir });
    try {
      const [pending] = await again.rk.storage.query<{ n: number }>(`SELECT count(*)::int AS n FROM rk_graph_pending`);
      expect(pending?.n).toBe(0);
    } finally {
      await again.stop();
    }
  });
});
