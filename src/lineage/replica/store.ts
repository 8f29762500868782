import { RKInvalidInputError, type CallOptions, type PemListOptions, type Result, type StoredPem, type TagRecord } from '../../public.js';
import type { LineagePemInput } from '../lineage-index.js';
import { loadPGlite, openCluster } from './pglite.js';

/**
 * The replica's copy on disk: PEMs (the fields lineage reads, not Properties), their artifact
 * links in order, the tags `/tags` listed at the last sync, and the sync's own state (watermark,
 * phase, next page) in one embedded PostgreSQL (PGlite) database under `dir`. Every write of a
 * page and the sync state that follows from it is one transaction, so a stop at any point leaves
 * a copy the next sync continues from.
 *
 * It reads back as a LineageSource (`getPems` with the filters the server engine asks for,
 * `getTags`): each read is one indexed SQL statement, and a question holds only the PEMs it read.
 */

/** The PGlite surface used here (the package is loaded on first open, so the client does not pay for it). */
interface Database {
  query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
  exec(sql: string): Promise<unknown>;
  transaction<T>(work: (tx: { query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[] }> }) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The layout of the copy; a copy of another layout is refused with what to do. */
const SCHEMA_VERSION = '2';

/**
 * A PEM's artifact Names are kept in order on its row (read with it, no join per row), and once
 * more in `links`, whose primary key is the index of the by-artifact reads.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS pems (
  seq bigserial UNIQUE,
  id text PRIMARY KEY,
  type text NOT NULL,
  emitter text NOT NULL,
  time_client text NOT NULL,
  received text,
  predecessor text,
  tag text NOT NULL DEFAULT '',
  namespace text NOT NULL DEFAULT '',
  uses text[] NOT NULL,
  produces text[] NOT NULL
);
CREATE INDEX IF NOT EXISTS pems_predecessor ON pems (predecessor) WHERE predecessor IS NOT NULL;
-- Not partial: a tag's carriers are read with the tag as a parameter, which cannot prove a
-- partial index's predicate (the old pems_tag), so every such read scanned the whole table.
DROP INDEX IF EXISTS pems_tag;
CREATE INDEX IF NOT EXISTS pems_tag_carriers ON pems (namespace, tag);
CREATE INDEX IF NOT EXISTS pems_received ON pems (received, seq);
CREATE TABLE IF NOT EXISTS links (
  artifact text NOT NULL,
  produces boolean NOT NULL,
  pem text NOT NULL,
  PRIMARY KEY (artifact, produces, pem)
);
CREATE TABLE IF NOT EXISTS tags (namespace text NOT NULL, tag text NOT NULL, event_id text NOT NULL, updated_at text NOT NULL, PRIMARY KEY (namespace, tag));
CREATE TABLE IF NOT EXISTS sync_state (key text PRIMARY KEY, value text NOT NULL);
INSERT INTO sync_state (key, value) VALUES ('schema', '${SCHEMA_VERSION}') ON CONFLICT DO NOTHING;
`;

/**
 * PostgreSQL's default 128 MB of shared buffers is memory the WebAssembly heap keeps once touched;
 * a question reads a few hundred rows by index, so 16 MB holds its working set and the client's
 * peak RSS drops by about 120 MB (BENCHMARKS.md, "Lineage replica").
 */
const SETTINGS = ['shared_buffers=16MB'];

/** Where a sync stands: read and written with each page. */
export interface SyncState {
  /** `load`: the first pass, ascending by TimestampReceived, not finished; `synced`: later syncs refresh from the watermark. */
  phase: 'load' | 'synced';
  /** The next page of the first pass (offset paging is safe: arrivals only land after it). */
  nextPage: number;
  /** `received`, or `full-rescan` for a Query service that refuses the sort or sends no TimestampReceived. */
  strategy: 'received' | 'full-rescan';
  /**
   * The latest TimestampReceived of the last completed pass (not of the stored PEMs: a refresh
   * reads newest first, so one stopped halfway must start again from the old watermark).
   */
  watermark: string | null;
}

const FILTERS: Record<string, string> = {
  ID: 'p.id = $%',
  Predecessor: 'p.predecessor = $%',
  Tag: 'p.tag = $%',
  TagNamespace: 'p.namespace = $%',
  // An array of IDs, so the PEMs are found by their primary key whatever the planner's statistics.
  UsesArtifact: 'p.id = ANY(ARRAY(SELECT pem FROM links WHERE artifact = $% AND NOT produces))',
  ProducesArtifact: 'p.id = ANY(ARRAY(SELECT pem FROM links WHERE artifact = $% AND produces))',
};

type Row = { id: string; type: string; emitter: string; time_client: string; received: string | null; predecessor: string | null; tag: string; namespace: string; uses: string[] | null; produces: string[] | null };

const SELECT = `SELECT p.id, p.type, p.emitter, p.time_client, p.received, p.predecessor, p.tag, p.namespace, p.uses, p.produces FROM pems p`;

/** SELECT with the row's seq, for the batched reads' ordering. */
const SELECT_SEQ = SELECT.replace('SELECT p.id,', 'SELECT p.seq, p.id,');

/**
 * The reads of one turn with these filter fields: `$first..` are the requested values of each
 * field (text arrays, one element per read), then LIMIT and OFFSET when paged. Each row says
 * which read it answers (`request`, from 1) and which of the turn's filter shapes (`shape`).
 */
function batchedRead(fields: readonly string[], paged: boolean, first = 1, shape = 0): string {
  const where = fields.map((field, i) => FILTERS[field]!.replace('$%', `r.v${i}`));
  const page = paged ? ` LIMIT $${first + fields.length} OFFSET $${first + fields.length + 1}` : '';
  return `SELECT ${shape}::int AS shape, r.n::int AS request, x.* FROM unnest(${fields.map((_, i) => `$${first + i}::text[]`).join(', ')}) WITH ORDINALITY AS r(${fields.map((_, i) => `v${i}`).join(', ')}, n)
    CROSS JOIN LATERAL (${SELECT_SEQ} WHERE ${where.join(' AND ')} ORDER BY p.seq${page}) x`;
}

/** One filter shape's reads of a turn: the values of each read, in `fields` order. */
export interface ShapeReads {
  fields: readonly string[];
  values: ReadonlyArray<readonly string[]>;
  pageSize?: number | undefined;
  pageIndex?: number;
}

/**
 * The one statement (and its parameters) answering every read of a turn: each shape's batched
 * read, joined by UNION ALL, rows ordered by shape, read and arrival. Exported for the test that
 * checks every part of it is answered through an index.
 */
export function turnRead(shapes: readonly ShapeReads[]): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const parts = shapes.map((reads, shape) => {
    const first = params.length + 1;
    params.push(...reads.fields.map((_, i) => reads.values.map((values) => values[i]!)));
    if (reads.pageSize !== undefined) params.push(reads.pageSize, (reads.pageIndex ?? 0) * reads.pageSize);
    return batchedRead(reads.fields, reads.pageSize !== undefined, first, shape);
  });
  return { sql: `${parts.map((part) => `(${part})`).join(' UNION ALL ')} ORDER BY shape, request, seq`, params };
}

/** Filtered reads of one turn that share their filter fields and page. */
interface PendingGroup {
  fields: string[];
  pageSize: number | undefined;
  pageIndex: number;
  requests: Array<{ values: string[]; resolve: (result: Result<StoredPem[]>) => void }>;
}

/**
 * The replica's copy on disk (PGlite in `dir`): PEMs with their artifact links, tags and the sync
 * state, read back as a Query service would answer (`getPems`, `getTags`, `getPemsCount`).
 */
export class ReplicaStore {
  private constructor(
    readonly dir: string,
    private readonly db: Database,
  ) {}

  /** Opens (creating when new) the copy in dir. */
  static async open(dir: string): Promise<Result<ReplicaStore>> {
    const operation = 'Opening the lineage replica';
    if (typeof dir !== 'string' || dir.trim() === '') return { ok: false, error: new RKInvalidInputError(operation, 'dir', 'must be a directory path, like ".rk-lineage"') };
    let pglite: unknown;
    try {
      pglite = await loadPGlite();
    } catch (cause) {
      return { ok: false, error: new RKInvalidInputError(operation, 'engine', `the replica engine needs the package @electric-sql/pglite (npm install @electric-sql/pglite): ${cause instanceof Error ? cause.message : String(cause)}`) };
    }
    try {
      const db = (await openCluster(pglite, dir, SETTINGS)) as Database;
      const layout = await layoutOf(db);
      if (layout !== null && layout !== SCHEMA_VERSION) {
        await db.close();
        return { ok: false, error: new RKInvalidInputError(operation, 'dir', `${dir} holds a replica of another layout (${layout}; this version reads ${SCHEMA_VERSION}): delete the directory and sync again (rk sync --dir ${dir})`) };
      }
      await db.exec(SCHEMA);
      return { ok: true, value: new ReplicaStore(dir, db) };
    } catch (cause) {
      return { ok: false, error: new RKInvalidInputError(operation, 'dir', `${dir} could not be opened as a lineage replica: ${cause instanceof Error ? cause.message : String(cause)}`) };
    }
  }

  /** Where the sync stands (first pass or synced, the next page, the watermark) and how many PEMs are held. */
  async state(): Promise<SyncState & { pems: number }> {
    const rows = (await this.db.query<{ key: string; value: string }>('SELECT key, value FROM sync_state')).rows;
    const get = (key: string) => rows.find((row) => row.key === key)?.value;
    return {
      phase: get('phase') === 'synced' ? 'synced' : 'load',
      nextPage: Number(get('nextPage') ?? 0),
      strategy: get('strategy') === 'full-rescan' ? 'full-rescan' : 'received',
      watermark: get('watermark') ?? null,
      pems: await this.count(),
    };
  }

  /** The latest TimestampReceived stored (what the watermark becomes when a pass completes). */
  async latestReceived(): Promise<string | null> {
    return (await this.db.query<{ max: string | null }>('SELECT max(received) AS max FROM pems')).rows[0]!.max;
  }

  /** How many PEMs the copy holds. */
  async count(): Promise<number> {
    return (await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM pems')).rows[0]!.n;
  }

  /**
   * Stores one page of PEMs (those already here are skipped: PEMs never change once stored) and
   * the sync state reached with it, in one transaction. Resolves to the number of new PEMs.
   */
  async addPage(pems: readonly LineagePemInput[], state: Partial<SyncState>): Promise<number> {
    return this.db.transaction(async (tx) => {
      let added = 0;
      if (pems.length) {
        const column = <T>(pick: (pem: LineagePemInput) => T) => pems.map(pick);
        const nameOf = (link: string | { Name: string }) => (typeof link === 'string' ? link : link.Name);
        // Arrays of arrays must be rectangular in PostgreSQL: each PEM's Names travel as one JSON text.
        const names = (links: LineagePemInput['UsesArtifacts']) => JSON.stringify((links ?? []).map(nameOf));
        const inserted = await tx.query<{ id: string; uses: string[]; produces: string[] }>(
          `INSERT INTO pems (id, type, emitter, time_client, received, predecessor, tag, namespace, uses, produces)
           SELECT a, b, c, d, e, f, g, h, ARRAY(SELECT json_array_elements_text(i::json)), ARRAY(SELECT json_array_elements_text(j::json))
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[]) WITH ORDINALITY AS t(a, b, c, d, e, f, g, h, i, j, n)
           ORDER BY n ON CONFLICT (id) DO NOTHING RETURNING id, uses, produces`,
          [
            column((pem) => pem.ID),
            column((pem) => pem.Type),
            column((pem) => pem.Emitter),
            column((pem) => pem.TimestampClient),
            column((pem) => pem.TimestampReceived ?? null),
            column((pem) => pem.Predecessor || null),
            column((pem) => pem.Tag ?? ''),
            column((pem) => pem.TagNamespace ?? ''),
            column((pem) => names(pem.UsesArtifacts)),
            column((pem) => names(pem.ProducesArtifacts)),
          ],
        );
        added = inserted.rows.length;
        const artifact: string[] = [];
        const pem: string[] = [];
        const produces: boolean[] = [];
        for (const row of inserted.rows) {
          for (const name of row.uses) artifact.push(name), pem.push(row.id), produces.push(false);
          for (const name of row.produces) artifact.push(name), pem.push(row.id), produces.push(true);
        }
        if (artifact.length) {
          await tx.query('INSERT INTO links (artifact, pem, produces) SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[]) ON CONFLICT DO NOTHING', [artifact, pem, produces]);
        }
      }
      for (const [key, value] of Object.entries(state)) {
        if (value === null || value === undefined) continue;
        await tx.query('INSERT INTO sync_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, String(value)]);
      }
      return added;
    });
  }

  /**
   * Refreshes the planner's statistics of the copy's tables (after a sync that added PEMs: the
   * first pass starts from none). Only these: a bare ANALYZE also reads every system catalog,
   * which no sync changes, for about half a CPU second.
   */
  async analyze(): Promise<void> {
    await this.db.exec('ANALYZE pems, links, tags');
  }

  /** Replaces the tags with what `/tags` listed. */
  async setTags(records: readonly TagRecord[]): Promise<void> {
    this.#tags = null;
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM tags');
      if (records.length) {
        await tx.query('INSERT INTO tags SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING', [
          records.map((r) => r.NamespaceID),
          records.map((r) => r.Tag),
          records.map((r) => r.EventID),
          records.map((r) => r.UpdatedAt),
        ]);
      }
    });
  }

  /**
   * The copy as a LineageSource: one page of PEMs, filtered and sorted as the Query service would.
   * A question's reads of one round arrive together (the server engine's loop issues them at
   * once): the filtered reads made in one turn of the event loop are answered by one statement per
   * filter shape, each a LATERAL join over the requested values, so a round costs one round trip
   * into PGlite's WebAssembly instead of one per PEM or artifact.
   */
  getPems = (options: PemListOptions = {}, _call?: CallOptions): Promise<Result<StoredPem[]>> => {
    const operation = 'Reading the lineage replica';
    const fields: string[] = [];
    const values: string[] = [];
    for (const [field, value] of Object.entries(options.filters ?? {})) {
      if (value === undefined) continue;
      if (!FILTERS[field]) return Promise.resolve({ ok: false, error: new RKInvalidInputError(operation, `filters.${field}`, `the replica answers only ${Object.keys(FILTERS).join(', ')}`) });
      fields.push(field);
      values.push(String(value));
    }
    if (fields.length && options.sortField === undefined) {
      return new Promise((resolve) => {
        const shape = `${fields.join(',')}|${options.pageSize ?? ''}|${options.pageIndex ?? 0}`;
        const group = this.#pending.get(shape) ?? { fields, pageSize: options.pageSize, pageIndex: options.pageIndex ?? 0, requests: [] };
        group.requests.push({ values, resolve });
        this.#pending.set(shape, group);
        // After every read of this turn has been asked (the loop's continuations run as microtasks first).
        if (this.#pending.size === 1 && group.requests.length === 1) setImmediate(() => void this.#flush());
      });
    }
    return this.#listing(fields, values, options);
  };

  /** Statements run against the copy since it was opened (what a question costs in round trips). */
  get statements(): number {
    return this.#statements;
  }

  #statements = 0;
  #pending = new Map<string, PendingGroup>();
  #tags: TagRecord[] | null = null;

  async #query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[] }> {
    this.#statements++;
    return this.db.query<R>(sql, params);
  }

  /**
   * The reads of this turn in one statement: each filter shape's batched read, joined by UNION
   * ALL (a round of a walk asks by ID, by Predecessor and by artifact at once, and each statement
   * is a round trip into PGlite's WebAssembly, most of what a small read costs).
   */
  async #flush(): Promise<void> {
    const groups = [...this.#pending.values()];
    this.#pending.clear();
    const { sql, params } = turnRead(groups.map((group) => ({ ...group, values: group.requests.map((request) => request.values) })));
    try {
      const rows = (await this.#query<Row & { shape: number; request: number }>(sql, params)).rows;
      const answers = groups.map((group) => group.requests.map((): StoredPem[] => []));
      for (const row of rows) answers[row.shape]![row.request - 1]!.push(toPem(row));
      groups.forEach((group, shape) => group.requests.forEach((request, i) => request.resolve({ ok: true, value: answers[shape]![i]! })));
    } catch (cause) {
      const error = new RKInvalidInputError('Reading the lineage replica', 'query', cause instanceof Error ? cause.message : String(cause));
      for (const group of groups) for (const request of group.requests) request.resolve({ ok: false, error });
    }
  }

  /** A listing read on its own (sorted, or unfiltered: the sync's and stateAt's pages). */
  async #listing(fields: string[], values: string[], options: PemListOptions): Promise<Result<StoredPem[]>> {
    const params: unknown[] = [...values];
    const where = fields.map((field, i) => FILTERS[field]!.replace('$%', `$${i + 1}`));
    const order = options.sortField === 'TimestampReceived' ? `p.received ${options.sortOrder === 'desc' ? 'DESC' : 'ASC'}, p.seq ${options.sortOrder === 'desc' ? 'DESC' : 'ASC'}` : 'p.seq';
    let sql = `${SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order}`;
    if (options.pageSize !== undefined) {
      params.push(options.pageSize, (options.pageIndex ?? 0) * options.pageSize);
      sql += ` LIMIT $${params.length - 1} OFFSET $${params.length}`;
    }
    try {
      const rows = (await this.#query<Row>(sql, params)).rows;
      return { ok: true, value: rows.map(toPem) };
    } catch (cause) {
      return { ok: false, error: new RKInvalidInputError('Reading the lineage replica', 'query', cause instanceof Error ? cause.message : String(cause)) };
    }
  }

  /** The tags as `/tags` last listed them. */
  getTags = async (_call?: CallOptions): Promise<Result<TagRecord[]>> => {
    // Read once per open: they change only with a sync (setTags), and every question asks for them.
    this.#tags ??= (await this.#query<{ namespace: string; tag: string; event_id: string; updated_at: string }>('SELECT namespace, tag, event_id, updated_at FROM tags ORDER BY namespace, tag')).rows.map((row) => ({
      NamespaceID: row.namespace,
      Tag: row.tag,
      EventID: row.event_id,
      UpdatedAt: row.updated_at,
    }));
    return { ok: true, value: [...this.#tags] };
  };

  /** How many PEMs the copy holds, as a Result (the LineageSource form). */
  getPemsCount = async (): Promise<Result<number>> => ({ ok: true, value: await this.count() });

  /** Closes the database; the copy stays on disk for the next open. */
  async close(): Promise<void> {
    await this.db.close();
  }
}

/** The layout of the copy in db, or null for a new one. */
async function layoutOf(db: Database): Promise<string | null> {
  const [known] = (await db.query<{ known: boolean }>(`SELECT to_regclass('sync_state') IS NOT NULL AS known`)).rows;
  if (!known?.known) return null;
  // The first layout wrote no version.
  return (await db.query<{ value: string }>(`SELECT value FROM sync_state WHERE key = 'schema'`)).rows[0]?.value ?? '1';
}

function toPem(row: Row): StoredPem {
  const pem: Record<string, unknown> = {
    ID: row.id,
    Type: row.type,
    Emitter: row.emitter,
    TimestampClient: row.time_client,
    Predecessor: row.predecessor,
    Tag: row.tag,
    TagNamespace: row.namespace,
    Properties: {},
    UsesArtifacts: (row.uses ?? []).map((Name) => ({ Name })),
    ProducesArtifacts: (row.produces ?? []).map((Name) => ({ Name })),
  };
  if (row.received !== null) pem.TimestampReceived = row.received;
  return pem as unknown as StoredPem;
}
