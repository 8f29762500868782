import type { Storage } from './storage.js';

/**
 * The tables, identical on PGlite and PostgreSQL. Timestamps are stored as the wire text
 * (`YYYY-MM-DD HH:MM:SS`, UTC), which sorts correctly as text. `seq` columns record arrival order
 * and break ties when sorting. Every statement is idempotent, so opening an existing database
 * is the same as creating a new one.
 */
export const SCHEMA_VERSION = 1;

const STATEMENTS = [
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

export async function migrate(storage: Storage): Promise<void> {
  await storage.transaction(async (tx) => {
    for (const statement of STATEMENTS) await tx.query(statement);
    const [row] = await tx.query<{ value: string }>(`SELECT value FROM rk_meta WHERE key = 'schema_version'`);
    if (row && Number(row.value) !== SCHEMA_VERSION) {
      throw new Error(`recordkeeper-local: the database has schema version ${row.value}; this server uses ${SCHEMA_VERSION}`);
    }
    if (!row) await tx.query(`INSERT INTO rk_meta (key, value) VALUES ('schema_version', $1)`, [String(SCHEMA_VERSION)]);
  });
}
