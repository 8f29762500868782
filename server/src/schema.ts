import { createHash } from 'node:crypto';
import type { Queryable, Storage, StoreSchema } from './storage.js';

/**
 * The tables, identical on PGlite and PostgreSQL. Timestamps are stored as the wire text
 * (`YYYY-MM-DD HH:MM:SS`, UTC), which sorts correctly as text. `seq` columns record arrival order
 * and break ties when sorting. Every statement is idempotent, so opening an existing database
 * is the same as creating a new one; an older schema version is migrated in place (MIGRATIONS).
 *
 * Version 2 (issues 9 and 13): the graph tables are keyed on md5 of their text keys (any stored
 * Name or ID is projectable, whatever its length), looked up through hash indexes (no length
 * limit either); PEMs still to project wait in `rk_graph_pending` (filled by the insert itself),
 * PEMs the Graph Builder could not project are kept in `rk_graph_failures`; every filter and sort
 * the Query spec allows has an index (`COLLATE "C"`, as the queries sort), and artifact Name
 * "contains" uses a trigram index where pg_trgm is available.
 *
 * Version 3 (issue 20 item 3): the graph tables keep only the indexes the projection and the
 * reads need. Edges have no unique key and no md5 columns (a PEM's edges are written once, by the
 * transaction that takes it out of `rk_graph_pending`; a rebuild deletes them first), and nodes'
 * `seq` is no longer a unique index (it orders, nothing looks it up). The projection inserted 5.5
 * indexed rows per PEM into 3 indexes each; edges now go into 2, nodes into 2.
 */
export const SCHEMA_VERSION = 3;

/**
 * The graph tables' indexes (the nodes' primary key first, which CREATE TABLE makes), each with
 * the statements that drop it and build it again. A projection onto an empty graph (a rebuild, a
 * migration, a store seeded in bulk) drops them, inserts every row and builds them after
 * (src/graph.ts, `projectAll`): building an index over rows already there sorts them once, where
 * inserting into it probes and splits it row by row.
 */
export const GRAPH_INDEXES: readonly { drop: string; create: string }[] = [
  {
    drop: `ALTER TABLE rk_graph_nodes DROP CONSTRAINT rk_graph_nodes_pkey`,
    create: `ALTER TABLE rk_graph_nodes ADD CONSTRAINT rk_graph_nodes_pkey PRIMARY KEY (label, key_md5)`,
  },
  { drop: `DROP INDEX rk_graph_nodes_by_key`, create: `CREATE INDEX rk_graph_nodes_by_key ON rk_graph_nodes USING hash (key)` },
  { drop: `DROP INDEX rk_graph_edges_by_src`, create: `CREATE INDEX rk_graph_edges_by_src ON rk_graph_edges USING hash (src)` },
  { drop: `DROP INDEX rk_graph_edges_by_dst`, create: `CREATE INDEX rk_graph_edges_by_dst ON rk_graph_edges USING hash (dst)` },
];

/** Filterable and sortable PEM columns, each indexed as `(column COLLATE "C", seq)`. */
const PEM_INDEXED = ['type', 'predecessor', 'emitter', 'timestamp_client', 'timestamp_received', 'tag', 'tag_namespace', 'id'];

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
  ...PEM_INDEXED.map((c) => `CREATE INDEX IF NOT EXISTS rk_pems_by_${c} ON rk_pems (${c} COLLATE "C", seq)`),
  `CREATE TABLE IF NOT EXISTS rk_artifacts (
     seq INTEGER GENERATED ALWAYS AS IDENTITY UNIQUE,
     name TEXT PRIMARY KEY,
     properties JSONB NOT NULL,
     created_at TEXT NOT NULL
   )`,
  `CREATE INDEX IF NOT EXISTS rk_artifacts_by_name ON rk_artifacts (name COLLATE "C", seq)`,
  `CREATE INDEX IF NOT EXISTS rk_artifacts_by_created_at ON rk_artifacts (created_at COLLATE "C", seq)`,
  `CREATE TABLE IF NOT EXISTS rk_pem_artifacts (
     pem_id TEXT NOT NULL REFERENCES rk_pems (id) ON DELETE CASCADE,
     role TEXT NOT NULL CHECK (role IN ('uses', 'produces')),
     position INTEGER NOT NULL,
     artifact_name TEXT NOT NULL,
     PRIMARY KEY (pem_id, role, position)
   )`,
  `CREATE INDEX IF NOT EXISTS rk_pem_artifacts_by_name ON rk_pem_artifacts (artifact_name)`,
  // The lineage filters UsesArtifact / ProducesArtifact on /pems (records.ts).
  `CREATE INDEX IF NOT EXISTS rk_pem_artifacts_by_name_role ON rk_pem_artifacts (artifact_name COLLATE "C", role)`,
  `CREATE TABLE IF NOT EXISTS rk_tags (
     seq INTEGER GENERATED ALWAYS AS IDENTITY UNIQUE,
     namespace TEXT NOT NULL,
     tag TEXT NOT NULL,
     pem_id TEXT NOT NULL REFERENCES rk_pems (id) ON DELETE CASCADE,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (namespace, tag)
   )`,
  `CREATE INDEX IF NOT EXISTS rk_tags_by_pem ON rk_tags (pem_id)`,
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
  // Unique on md5 of the keys (a B-tree entry holds at most about 2 700 bytes; a hash does not
  // care), looked up by the text itself through hash indexes.
  `CREATE TABLE IF NOT EXISTS rk_graph_nodes (
     seq INTEGER GENERATED ALWAYS AS IDENTITY,
     label TEXT NOT NULL CHECK (label IN ('PEM', 'Artifact')),
     key TEXT NOT NULL,
     key_md5 TEXT GENERATED ALWAYS AS (md5(key)) STORED,
     data JSONB NOT NULL,
     PRIMARY KEY (label, key_md5)
   )`,
  // No unique key: the Graph Builder writes a PEM's edges once (see above), and every read
  // looks edges up by src or dst through the hash indexes.
  `CREATE TABLE IF NOT EXISTS rk_graph_edges (
     rel TEXT NOT NULL CHECK (rel IN ('USES', 'PRODUCES', 'PREDECESSOR')),
     src TEXT NOT NULL,
     dst TEXT NOT NULL
   )`,
  ...GRAPH_INDEXES.slice(1).map((index) => index.create.replace('CREATE INDEX', 'CREATE INDEX IF NOT EXISTS')),
  // PEMs stored but not yet projected (by seq): the insert adds its row, the Graph Builder takes
  // rows out as it projects them, a rebuild puts every PEM back. Unlike a high-water mark on seq
  // this stays right when transactions commit out of seq order.
  `CREATE TABLE IF NOT EXISTS rk_graph_pending (
     pem_seq INTEGER PRIMARY KEY
   )`,
  // PEMs the projection failed on, with the error: the Graph Builder goes on with the others.
  `CREATE TABLE IF NOT EXISTS rk_graph_failures (
     pem_seq INTEGER PRIMARY KEY,
     pem_id TEXT NOT NULL,
     error TEXT NOT NULL,
     failed_at TEXT NOT NULL
   )`,
];

const READ_VERSION = `SELECT value FROM rk_meta WHERE key = 'schema_version'`;
const RECORD_VERSION = `INSERT INTO rk_meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`;

const TRIGRAM = [
  `CREATE EXTENSION IF NOT EXISTS pg_trgm`,
  `CREATE INDEX IF NOT EXISTS rk_artifacts_by_name_trgm ON rk_artifacts USING gin (name gin_trgm_ops)`,
];

/** Version n-1 to n, run before STATEMENTS in the same transaction. */
const MIGRATIONS: Record<number, (tx: Queryable) => Promise<void>> = {
  // 1 -> 2: the graph is a projection; drop it (the new tables are created by STATEMENTS) and
  // queue every PEM for the Graph Builder, which rebuilds it.
  2: dropGraph,
  // 2 -> 3: graph tables with fewer indexes; the graph is dropped and rebuilt the same way.
  3: dropGraph,
};

async function dropGraph(tx: Queryable): Promise<void> {
  await tx.query(`DROP TABLE IF EXISTS rk_graph_edges`);
  await tx.query(`DROP TABLE IF EXISTS rk_graph_nodes`);
}

/** Creates the schema, or migrates an older version in place, in one transaction. */
export async function migrate(storage: Storage): Promise<void> {
  await storage.transaction(async (tx) => {
    await tx.query(STATEMENTS[0]!);
    const [row] = await tx.query<{ value: string }>(READ_VERSION);
    const [pemTable] = await tx.query<{ t: string | null }>(`SELECT to_regclass('rk_pems')::text AS t`);
    // A database made before rk_meta held a version has version 1 if it has tables at all.
    const from = row ? Number(row.value) : pemTable?.t ? 1 : SCHEMA_VERSION;
    if (from > SCHEMA_VERSION || !Number.isInteger(from)) {
      throw new Error(`recordkeeper-local: the database has schema version ${row?.value}; this server uses ${SCHEMA_VERSION}`);
    }
    for (let v = from + 1; v <= SCHEMA_VERSION; v++) await MIGRATIONS[v]?.(tx);
    for (const statement of STATEMENTS.slice(1)) await tx.query(statement);
    if (from < SCHEMA_VERSION) {
      // The graph was dropped: every PEM is projected again, and none of them failed yet.
      await tx.query(`DELETE FROM rk_graph_pending`);
      await tx.query(`DELETE FROM rk_graph_failures`);
      await tx.query(`INSERT INTO rk_graph_pending (pem_seq) SELECT seq FROM rk_pems`);
    }
    await tx.query(RECORD_VERSION, [String(SCHEMA_VERSION)]);
  });
  // Optional: a trigram index for artifact Name "contains" (LIKE '%…%'). Outside the transaction
  // above, since a refused CREATE EXTENSION would abort it.
  try {
    for (const statement of TRIGRAM) await storage.query(statement);
  } catch {
    // Without pg_trgm, "contains" scans the artifacts; everything else is the same.
  }
}

/**
 * Throws unless `storage` holds this server's schema at SCHEMA_VERSION: a store opened without
 * RK_SCHEMA, or by an older server, would fail at its first request (startLocalRK({ storage })).
 */
export async function assertCurrentSchema(storage: Queryable): Promise<void> {
  const version = await storage.query<{ value: string }>(READ_VERSION).then(([row]) => row?.value, () => undefined);
  if (version !== String(SCHEMA_VERSION)) {
    throw new Error(
      `storage: the store has ${version === undefined ? 'no RK schema' : `schema version ${version}`}; this server uses ${SCHEMA_VERSION}. Open it with openStore(...).`,
    );
  }
}

/**
 * The schema as a new store gets it (openStorage): migrate() on every store but a new PGlite one,
 * which starts from a cached copy of a cluster migrated once. The copy's key is a digest of every
 * statement migrate() runs on a new store and of SCHEMA_VERSION, so any change to the DDL names
 * another copy and a store never starts from an old one.
 */
export const RK_SCHEMA: StoreSchema = {
  key: createHash('sha256')
    .update(JSON.stringify([SCHEMA_VERSION, STATEMENTS, RECORD_VERSION, TRIGRAM]))
    .digest('hex')
    .slice(0, 16),
  apply: migrate,
};
