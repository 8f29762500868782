import { createHash } from 'node:crypto';
import type { Queryable, Storage } from './storage.js';
import { readLineage, type LineageReadRequest, type LineageReads } from './lineage-reads.js';
import { formatTimestamp } from 'recordkeeper-client/wire';
import type { Artifact, Pem, Report, ReportBody, StoredPem, TagRecord } from './types.js';

/**
 * Everything the Receiver and the Query service read and write, as parameterized SQL. Column
 * names in SQL text come only from the constant maps below, never from a request.
 */

/** Spec field name to column, for the PEM filters and sort fields the Query spec lists. */
export const PEM_COLUMNS: Readonly<Record<string, string>> = {
  ID: 'id',
  Type: 'type',
  Predecessor: 'predecessor',
  Emitter: 'emitter',
  TimestampClient: 'timestamp_client',
  TimestampReceived: 'timestamp_received',
  Tag: 'tag',
  TagNamespace: 'tag_namespace',
};

/**
 * PEM filters on the artifacts a PEM names (ours, for the lineage server engine): field to the
 * role in rk_pem_artifacts. Answered through the (artifact_name, role) index.
 */
const PEM_ARTIFACT_FILTERS: Readonly<Record<string, 'uses' | 'produces'>> = {
  UsesArtifact: 'uses',
  ProducesArtifact: 'produces',
};

export const ARTIFACT_COLUMNS: Readonly<Record<string, string>> = {
  Name: 'name',
  CreatedAt: 'created_at',
};

export interface ListSelection {
  filters: Record<string, string>;
  sortField?: string | undefined;
  sortOrder?: 'asc' | 'desc' | undefined;
  pageIndex?: number | undefined;
  pageSize?: number | undefined;
}

export type SendOutcome = { status: 'accepted' | 'duplicate' } | { status: 'conflict' };

export type TagOutcome = { record: TagRecord } | { missingPem: true };

/** A row of rk_pems as the listings select it. */
export interface PemRow {
  seq: number;
  id: string;
  type: string;
  predecessor: string | null;
  emitter: string;
  timestamp_client: string;
  timestamp_received: string;
  properties: Record<string, unknown>;
  tag: string;
  tag_namespace: string;
}

interface ArtifactRow {
  name: string;
  properties: Record<string, string>;
  created_at: string;
}

interface ReportRow {
  id: string;
  kind: Report['kind'];
  status: Report['status'];
  body: ReportBody | null;
}

/**
 * A new PEM with everything that comes with it, as one statement. When the ID is already taken
 * the PEM row is not inserted and, since every other part selects FROM that row, nothing is.
 * An empty Tag or TagNamespace (the reference client's constructor default) moves no tag, as the
 * Pem schema says: there is no tag to name, and the path form of a tag cannot be empty either.
 */
const INSERT_PEM = `
WITH pem AS (
  INSERT INTO rk_pems (id, type, predecessor, emitter, timestamp_client, timestamp_received, properties, tag, tag_namespace, content_hash)
  VALUES ($1, $2, $3, $4, $5, $6, $7::json, $8, $9, $10)
  ON CONFLICT (id) DO NOTHING
  RETURNING id, seq
), pending AS (
  INSERT INTO rk_graph_pending (pem_seq) SELECT seq FROM pem
  RETURNING 1
), artifacts AS (
  INSERT INTO rk_artifacts (name, properties, created_at)
  SELECT u.name, u.properties::jsonb, $6 FROM pem, unnest($11::text[], $12::text[]) WITH ORDINALITY AS u(name, properties, n)
  ORDER BY u.n
  ON CONFLICT (name) DO UPDATE SET properties = rk_artifacts.properties || EXCLUDED.properties
  RETURNING 1
), links AS (
  INSERT INTO rk_pem_artifacts (pem_id, role, position, artifact_name)
  SELECT pem.id, u.role, u.position, u.name FROM pem, unnest($13::text[], $14::int[], $15::text[]) AS u(role, position, name)
  RETURNING 1
), tag AS (
  INSERT INTO rk_tags (namespace, tag, pem_id, updated_at)
  SELECT $9, $8, pem.id, $6 FROM pem WHERE $8::text <> '' AND $9::text <> ''
  ON CONFLICT (namespace, tag) DO UPDATE SET pem_id = EXCLUDED.pem_id, updated_at = EXCLUDED.updated_at
  RETURNING 1
)
SELECT count(*)::int AS inserted FROM pem`;

/**
 * INSERT_PEM for a whole group in one statement, so PGlite parses and plans once per group rather
 * than once per PEM (that was most of its time). The PEMs come as parallel arrays in arrival
 * order, IDs already unique within the group (a later copy is answered as not inserted). Whatever
 * hangs off a PEM joins `inserted`, so a PEM whose ID was taken contributes nothing, as in
 * INSERT_PEM. `ON CONFLICT DO UPDATE` may touch a row only once per statement, hence one row per
 * artifact name: the inserted PEMs' property sets merged key by key in arrival order (the later
 * PEM wins, as sequential statements would), created at the first inserted PEM's time, and
 * written in the order given by $14 (sorted names, the lock order INSERT_PEM also uses). Per
 * tag the last inserted PEM wins, as the last of sequential upserts would.
 */
const INSERT_PEMS = `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
    WITH ORDINALITY AS u(id, type, predecessor, emitter, timestamp_client, timestamp_received, properties, tag, tag_namespace, content_hash, n)
), pem AS (
  INSERT INTO rk_pems (id, type, predecessor, emitter, timestamp_client, timestamp_received, properties, tag, tag_namespace, content_hash)
  SELECT id, type, predecessor, emitter, timestamp_client, timestamp_received, properties::json, tag, tag_namespace, content_hash FROM input
  ORDER BY n
  ON CONFLICT (id) DO NOTHING
  RETURNING id, seq
), inserted AS (
  SELECT input.n, input.id, input.timestamp_received, input.tag, input.tag_namespace FROM pem JOIN input USING (id)
), pending AS (
  INSERT INTO rk_graph_pending (pem_seq) SELECT seq FROM pem
  RETURNING 1
), artifacts AS (
  INSERT INTO rk_artifacts (name, properties, created_at)
  SELECT a.name,
    COALESCE(jsonb_object_agg(kv.key, kv.value ORDER BY i.n) FILTER (WHERE kv.key IS NOT NULL), '{}'::jsonb),
    (array_agg(i.timestamp_received ORDER BY i.n))[1]
  FROM unnest($11::int[], $12::text[], $13::text[]) WITH ORDINALITY AS a(pem, name, properties, k)
  JOIN inserted i ON i.n = a.pem
  LEFT JOIN LATERAL jsonb_each(a.properties::jsonb) AS kv ON true
  GROUP BY a.name
  ORDER BY min(a.k)
  ON CONFLICT (name) DO UPDATE SET properties = rk_artifacts.properties || EXCLUDED.properties
  RETURNING 1
), links AS (
  INSERT INTO rk_pem_artifacts (pem_id, role, position, artifact_name)
  SELECT i.id, l.role, l.position, l.name FROM unnest($14::int[], $15::text[], $16::int[], $17::text[]) AS l(pem, role, position, name)
  JOIN inserted i ON i.n = l.pem
  RETURNING 1
), tag AS (
  INSERT INTO rk_tags (namespace, tag, pem_id, updated_at)
  SELECT DISTINCT ON (i.tag_namespace, i.tag) i.tag_namespace, i.tag, i.id, i.timestamp_received FROM inserted i
  WHERE i.tag <> '' AND i.tag_namespace <> ''
  ORDER BY i.tag_namespace, i.tag, i.n DESC
  ON CONFLICT (namespace, tag) DO UPDATE SET pem_id = EXCLUDED.pem_id, updated_at = EXCLUDED.updated_at
  RETURNING 1
)
SELECT id FROM pem`;

/** INSERT_PEMS's parameters for a group (each entry INSERT_PEM's parameters), and which entries it writes. */
function groupParams(group: readonly { params: unknown[] }[]): { params: unknown[]; written: boolean[] } {
  const columns: unknown[][] = Array.from({ length: 10 }, () => []);
  const artifacts: { pem: number; name: string; properties: unknown }[] = [];
  const links: unknown[][] = [[], [], [], []];
  const seen = new Set<unknown>();
  const written = group.map(({ params: p }) => {
    // A second copy of an ID in one statement would need the first's row visible to it; leaving it
    // out answers it as "not inserted", which is what sequential statements would have done.
    if (seen.has(p[0])) return false;
    seen.add(p[0]);
    const pem = columns[0]!.length + 1;
    for (let c = 0; c < 10; c++) columns[c]!.push(p[c]);
    const names = p[10] as string[];
    const properties = p[11] as string[];
    names.forEach((name, i) => artifacts.push({ pem, name, properties: properties[i] }));
    const roles = p[12] as string[];
    roles.forEach((role, i) => {
      links[0]!.push(pem);
      links[1]!.push(role);
      links[2]!.push((p[13] as number[])[i]);
      links[3]!.push((p[14] as string[])[i]);
    });
    return true;
  });
  // Sorted as sendPem sorts one PEM's names (stable, so arrival order within a name), so a group
  // and a single insert lock artifact rows in the same order.
  artifacts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    params: [
      ...columns,
      artifacts.map((a) => a.pem),
      artifacts.map((a) => a.name),
      artifacts.map((a) => a.properties),
      ...links,
    ],
    written,
  };
}

const ARTIFACT_SELECT = `SELECT seq, name, properties, created_at FROM rk_artifacts`;

function artifactOf(row: ArtifactRow): Artifact {
  return { Name: row.name, Properties: row.properties, CreatedAt: row.created_at };
}

const PEM_SELECT = `SELECT seq, id, type, predecessor, emitter, timestamp_client, timestamp_received, properties, tag, tag_namespace FROM rk_pems`;

/**
 * PEM_SELECT with each PEM's artifact Names, in order, read in the same statement (through the
 * links' primary key, after the page's LIMIT): a page or a single PEM is one statement instead of
 * two, and each statement into PGlite costs about a CPU millisecond before it reads a row. Full
 * listings keep PEM_SELECT and one statement for the links of a batch (streamPems), so each batch
 * statement stays as short as the other requests waiting behind it expect (BulkLane).
 */
const linkNames = (role: 'uses' | 'produces') =>
  `ARRAY(SELECT l.artifact_name FROM rk_pem_artifacts l WHERE l.pem_id = rk_pems.id AND l.role = '${role}' ORDER BY l.position)`;
const PEM_SELECT_LINKED = PEM_SELECT.replace(' FROM rk_pems', `, ${linkNames('uses')} AS uses, ${linkNames('produces')} AS produces FROM rk_pems`);

type LinkedPemRow = PemRow & { uses: string[]; produces: string[] };

function storedPemOf(row: PemRow, links: { uses: string[]; produces: string[] } | undefined): StoredPem {
  return {
    ID: row.id,
    Type: row.type,
    Predecessor: row.predecessor,
    Emitter: row.emitter,
    TimestampClient: row.timestamp_client,
    TimestampReceived: row.timestamp_received,
    Properties: row.properties,
    Tag: row.tag,
    TagNamespace: row.tag_namespace,
    UsesArtifacts: links?.uses ?? [],
    ProducesArtifacts: links?.produces ?? [],
  };
}

/** Columns that may hold NULL: no keyset paging over them (a row comparison with NULL is NULL). */
const NULLABLE = new Set(['predecessor']);

/** At most this many PEMs per group transaction (see Records.#insertGrouped). */
const MAX_GROUP = 64;

/**
 * Rows per batch when a full listing is read (and streamed) piece by piece. On PGlite another
 * request waits for at most one batch statement (storage.ts, BulkLane), so a batch is kept at a
 * few milliseconds of work: 100 PEMs read in about 4 ms where 500 took 20 (and their links as
 * much again), for a few more statements per listing.
 */
export const LIST_BATCH = 100;

export class Records {
  /**
   * Keyset cursors: where page `pageIndex` of a listing starts (the sort value and seq of the
   * last row of the page before), learnt when that page was served. Page n+1 after page n then
   * costs as much as page 0 instead of OFFSET n. Any write of this process clears them, so a page
   * read through a cursor always equals the OFFSET page. (Another process writing into the same
   * PostgreSQL database is not seen: run one local RK per database.)
   */
  readonly #cursors = new Map<string, { value: string; seq: number }>();

  constructor(private readonly storage: Storage) {}

  /** Counts writes; a cursor is kept only when no write began or ended while its page was read. */
  #generation = 0;

  #written(): void {
    this.#generation++;
    this.#cursors.clear();
  }

  /** Clears the cursors again once the write has committed (or failed). */
  #afterWrite<T>(write: Promise<T>): Promise<T> {
    return write.finally(() => this.#written());
  }

  /** PEM inserts waiting for the next group transaction, and whether one is being written. */
  readonly #waiting: { params: unknown[]; resolve: (inserted: number) => void; reject: (error: unknown) => void }[] = [];
  #writing = 0;

  /**
   * Group commit: an insert that arrives while fewer groups than the storage has writers (PGlite
   * 1, PostgreSQL its pool) are being written starts a writer, which takes what has queued by the
   * end of this turn of the event loop; inserts that arrive meanwhile wait and are written
   * together next, in one statement (INSERT_PEMS), so on PGlite 8 PEMs in flight cost about one
   * parse, plan and commit instead of 8. On PostgreSQL as many groups as the pool has connections
   * may be written at once; a burst read in one turn is one group (measured at 8 in flight: 907
   * single inserts against 1 463 PEMs/s grouped, BENCHMARKS.md "Local RK performance").
   * Each promise resolves only after the statement holding its PEM committed. When a group's
   * statement fails (one PEM the database refuses aborts it, nothing of it is stored), its PEMs
   * are written again one by one, so each gets its own outcome: the others are stored, the bad
   * one fails alone. No savepoint per PEM: on PostgreSQL that is two more round trips per PEM on
   * every group, to save a retry that only a refused PEM causes. Inserts are written in arrival
   * order, so a duplicate in the same group sees the first copy and answers like a later request.
   */
  #insertGrouped(params: unknown[]): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ params, resolve, reject });
      if (this.#writing < this.storage.writers) {
        this.#writing++;
        // Starts after the requests read in this turn of the event loop have queued too: started
        // at once, the first of them went alone and the others formed a group behind it, so half
        // the statements carried one PEM.
        setImmediate(() => void this.#writeGroups());
      }
    });
  }

  async #writeGroups(): Promise<void> {
    try {
      while (this.#waiting.length) {
        const group = this.#waiting.splice(0, MAX_GROUP);
        if (group.length > 1) {
          try {
            const { params, written } = groupParams(group);
            // One statement is atomic by itself; no BEGIN and COMMIT round trips around it.
            const rows = await this.storage.query<{ id: string }>(INSERT_PEMS, params);
            const inserted = new Set(rows.map((row) => row.id));
            group.forEach((one, i) => one.resolve(written[i] && inserted.has(one.params[0] as string) ? 1 : 0));
            continue;
          } catch {
            // Fall through: one by one, each with its own outcome.
          }
        }
        for (const one of group) {
          try {
            const [row] = await this.storage.query<{ inserted: number }>(INSERT_PEM, one.params);
            one.resolve(row?.inserted ?? 0);
          } catch (error) {
            one.reject(error);
          }
        }
      }
    } finally {
      this.#writing--;
    }
  }

  /** For the graph queries, which read the projection tables directly. */
  get db(): Queryable {
    return this.storage;
  }

  /**
   * Stores the PEM, its artifacts, their links and its tag in one statement (so in one
   * transaction), committed before this resolves. The same ID with the same content is a duplicate
   * (nothing changes); with other content, a conflict (nothing changes).
   */
  async sendPem(pem: Pem): Promise<SendOutcome> {
    const hash = contentHash(pem);
    const now = formatTimestamp();
    const links = [
      ...pem.UsesArtifacts.map((a, i) => ({ role: 'uses', position: i, name: a.Name })),
      ...pem.ProducesArtifacts.map((a, i) => ({ role: 'produces', position: i, name: a.Name })),
    ];
    // One artifact row per Name; a Name listed twice contributes both property sets, later wins.
    const merged = new Map<string, Record<string, string>>();
    for (const artifact of [...pem.UsesArtifacts, ...pem.ProducesArtifacts]) {
      merged.set(artifact.Name, { ...merged.get(artifact.Name), ...artifact.Properties });
    }
    // Sorted, so that concurrent transactions lock artifact rows in the same order.
    const names = [...merged.keys()].sort();
    this.#written();
    const inserted = await this.#insertGrouped([
      pem.ID,
      pem.Type,
      pem.Predecessor,
      pem.Emitter,
      pem.TimestampClient,
      now,
      JSON.stringify(pem.Properties),
      pem.Tag,
      pem.TagNamespace,
      hash,
      names,
      names.map((n) => JSON.stringify(merged.get(n))),
      links.map((l) => l.role),
      links.map((l) => l.position),
      links.map((l) => l.name),
    ]);
    this.#written();
    if (inserted === 1) {
      return { status: 'accepted' };
    }
    // The ID was taken (earlier, or by a request that won a race): same content or not?
    const [stored] = await this.storage.query<{ content_hash: string }>(`SELECT content_hash FROM rk_pems WHERE id = $1`, [pem.ID]);
    if (!stored) throw new Error(`PEM ${pem.ID} was neither stored nor found`);
    return stored.content_hash === hash ? { status: 'duplicate' } : { status: 'conflict' };
  }

  async getPem(id: string): Promise<StoredPem | undefined> {
    const [row] = await this.storage.query<LinkedPemRow>(`${PEM_SELECT_LINKED} WHERE id = $1`, [id]);
    return row && storedPemOf(row, row);
  }

  /** `POST /lineage_reads`: what a lineage question needs, in one request (lineage-reads.ts). */
  readLineage(request: LineageReadRequest): Promise<LineageReads> {
    return readLineage(this.storage, request);
  }

  async listPems(selection: ListSelection): Promise<StoredPem[]> {
    if (selection.pageSize === undefined) {
      // Everything: batch by batch, so no statement binds every ID (issue 13).
      const all: StoredPem[] = [];
      for await (const batch of this.streamPems(selection)) all.push(...batch);
      return all;
    }
    const rows = await this.#page<LinkedPemRow>('pems', PEM_SELECT_LINKED, PEM_COLUMNS, 'equals', selection);
    return rows.map((row) => storedPemOf(row, row));
  }

  /**
   * A full listing (no pageSize) read in batches of LIST_BATCH by keyset, so memory stays
   * bounded and other requests run between batches; the same PEMs in the same order as
   * listPems without pageSize (read batch by batch, not as one snapshot).
   */
  async *streamPems(selection: ListSelection): AsyncGenerator<StoredPem[]> {
    for await (const rows of this.#batches<PemRow>(PEM_SELECT, PEM_COLUMNS, 'equals', selection)) yield this.#withArtifacts(rows, this.storage.bulk);
  }

  async *streamArtifacts(selection: ListSelection): AsyncGenerator<Artifact[]> {
    for await (const rows of this.#batches<ArtifactRow & { seq: number }>(ARTIFACT_SELECT, ARTIFACT_COLUMNS, 'contains', selection)) {
      yield rows.map(artifactOf);
    }
  }

  async *#batches<Row extends { seq: number }>(
    select: string,
    columns: Readonly<Record<string, string>>,
    match: 'equals' | 'contains',
    selection: ListSelection,
  ): AsyncGenerator<Row[]> {
    const column = selection.sortField ? columns[selection.sortField] : 'seq';
    if (!column) throw new Error(`no column for sort field ${selection.sortField}`);
    let after: { value: string; seq: number } | undefined;
    for (let index = 0; ; index++) {
      const { where, params } = whereClause(columns, selection.filters, match);
      let sql: string;
      if (NULLABLE.has(column)) {
        params.push(LIST_BATCH, index * LIST_BATCH);
        sql = `${select}${where} ORDER BY ${orderClause(columns, selection)} LIMIT $${params.length - 1} OFFSET $${params.length}`;
      } else {
        const keyset = after ? keysetCondition(column, selection, after, params) : '';
        params.push(LIST_BATCH);
        sql = `${select}${joinWhere(where, keyset)} ORDER BY ${orderClause(columns, selection)} LIMIT $${params.length}`;
      }
      // Through the bulk lane: other requests go first (storage.ts, BulkLane).
      const rows = await this.storage.bulk.query<Row>(sql, params);
      if (rows.length) yield rows;
      if (rows.length < LIST_BATCH) return;
      const last = rows[rows.length - 1] as Row & Record<string, unknown>;
      after = { value: String(last[column]), seq: last.seq };
    }
  }

  /** One page (or everything without pageSize), through a keyset cursor when one is known. */
  async #page<Row extends { seq: number }>(
    kind: string,
    select: string,
    columns: Readonly<Record<string, string>>,
    match: 'equals' | 'contains',
    selection: ListSelection,
  ): Promise<Row[]> {
    const { where, params } = whereClause(columns, selection.filters, match);
    const order = orderClause(columns, selection);
    const column = selection.sortField ? columns[selection.sortField]! : 'seq';
    const pageIndex = selection.pageIndex ?? 0;
    const size = selection.pageSize;
    const keyable = size !== undefined && !NULLABLE.has(column);
    const cursorKey = (index: number) =>
      JSON.stringify([kind, selection.filters, selection.sortField ?? null, selection.sortOrder ?? 'asc', size, index]);
    const cursor = keyable && pageIndex > 0 ? this.#cursors.get(cursorKey(pageIndex)) : undefined;
    let sql: string;
    if (cursor) {
      const keyset = keysetCondition(column, selection, cursor, params);
      params.push(size);
      sql = `${select}${joinWhere(where, keyset)} ORDER BY ${order} LIMIT $${params.length}`;
    } else {
      const page = pageClause(selection, params);
      if (page === undefined) return [];
      sql = `${select}${where} ORDER BY ${order}${page}`;
    }
    const generation = this.#generation;
    const rows = await this.storage.query<Row>(sql, params);
    if (keyable && rows.length === size && generation === this.#generation) {
      if (this.#cursors.size >= 1000) this.#cursors.clear();
      const last = rows[rows.length - 1] as Row & Record<string, unknown>;
      this.#cursors.set(cursorKey(pageIndex + 1), { value: String(last[column]), seq: last.seq });
    }
    return rows;
  }

  async countPems(filters: Record<string, string>): Promise<number> {
    const { where, params } = whereClause(PEM_COLUMNS, filters, 'equals');
    const [row] = await this.storage.query<{ n: number }>(`SELECT count(*)::int AS n FROM rk_pems${where}`, params);
    return row?.n ?? 0;
  }

  async #withArtifacts(rows: PemRow[], db: Queryable = this.storage): Promise<StoredPem[]> {
    if (!rows.length) return [];
    const links = await db.query<{ pem_id: string; role: string; artifact_name: string }>(
      `SELECT pem_id, role, artifact_name FROM rk_pem_artifacts WHERE pem_id = ANY($1::text[]) ORDER BY pem_id, role, position`,
      [rows.map((r) => r.id)],
    );
    const byPem = new Map<string, { uses: string[]; produces: string[] }>();
    for (const link of links) {
      let lists = byPem.get(link.pem_id);
      if (!lists) byPem.set(link.pem_id, (lists = { uses: [], produces: [] }));
      (link.role === 'uses' ? lists.uses : lists.produces).push(link.artifact_name);
    }
    return rows.map((row) => storedPemOf(row, byPem.get(row.id)));
  }

  async listArtifacts(selection: ListSelection): Promise<Artifact[]> {
    if (selection.pageSize === undefined) {
      const all: Artifact[] = [];
      for await (const batch of this.streamArtifacts(selection)) all.push(...batch);
      return all;
    }
    const rows = await this.#page<ArtifactRow & { seq: number }>('artifacts', ARTIFACT_SELECT, ARTIFACT_COLUMNS, 'contains', selection);
    return rows.map(artifactOf);
  }

  async countArtifacts(filters: Record<string, string>): Promise<number> {
    const { where, params } = whereClause(ARTIFACT_COLUMNS, filters, 'contains');
    const [row] = await this.storage.query<{ n: number }>(`SELECT count(*)::int AS n FROM rk_artifacts${where}`, params);
    return row?.n ?? 0;
  }

  /** Moves the tag to the PEM and records when; refuses a PEM that is not stored. */
  async setTag(namespace: string, tag: string, pemId: string): Promise<TagOutcome> {
    const now = formatTimestamp();
    this.#written();
    return this.#afterWrite(this.storage.transaction(async (tx) => {
      const [pem] = await tx.query<{ id: string }>(`SELECT id FROM rk_pems WHERE id = $1`, [pemId]);
      if (!pem) return { missingPem: true };
      await upsertTag(tx, namespace, tag, pemId, now);
      return { record: { NamespaceID: namespace, Tag: tag, EventID: pemId, UpdatedAt: now } };
    }));
  }

  async getTag(namespace: string, tag: string): Promise<string | undefined> {
    const [row] = await this.storage.query<{ pem_id: string }>(`SELECT pem_id FROM rk_tags WHERE namespace = $1 AND tag = $2`, [namespace, tag]);
    return row?.pem_id;
  }

  async listTags(): Promise<TagRecord[]> {
    const rows = await this.storage.query<{ namespace: string; tag: string; pem_id: string; updated_at: string }>(
      `SELECT namespace, tag, pem_id, updated_at FROM rk_tags ORDER BY seq`,
    );
    return rows.map((r) => ({ NamespaceID: r.namespace, Tag: r.tag, EventID: r.pem_id, UpdatedAt: r.updated_at }));
  }

  async countTags(): Promise<number> {
    const [row] = await this.storage.query<{ n: number }>(`SELECT count(*)::int AS n FROM rk_tags`);
    return row?.n ?? 0;
  }

  async createReport(id: string, kind: Report['kind']): Promise<void> {
    await this.storage.query(`INSERT INTO rk_reports (id, kind, status, body, created_at) VALUES ($1, $2, 'running', NULL, $3)`, [
      id,
      kind,
      formatTimestamp(),
    ]);
  }

  async finishReport(id: string, status: 'finished' | 'failed', body: ReportBody): Promise<void> {
    await this.storage.query(`UPDATE rk_reports SET status = $2, body = $3::json WHERE id = $1`, [id, status, JSON.stringify(body)]);
  }

  async getReport(id: string): Promise<Report | undefined> {
    const [row] = await this.storage.query<ReportRow>(`SELECT id, kind, status, body FROM rk_reports WHERE id = $1`, [id]);
    return row && { report_id: row.id, kind: row.kind, status: row.status, report: row.body };
  }

  /** Artifacts no PEM uses or produces, in the order they were first seen; and how many there are. */
  async unconnectedArtifacts(): Promise<{ names: string[]; total: number }> {
    const rows = await this.storage.query<{ name: string }>(
      `SELECT a.name FROM rk_artifacts a
       WHERE NOT EXISTS (SELECT 1 FROM rk_pem_artifacts l WHERE l.artifact_name = a.name)
       ORDER BY a.seq`,
    );
    const [count] = await this.storage.query<{ n: number }>(`SELECT count(*)::int AS n FROM rk_artifacts`);
    return { names: rows.map((r) => r.name), total: count?.n ?? 0 };
  }

  /** Removes those of `names` that are still unconnected, from the tables and the graph. */
  async removeUnconnected(names: readonly string[]): Promise<string[]> {
    this.#written();
    return this.#afterWrite(this.storage.transaction(async (tx) => {
      const removed = await tx.query<{ name: string }>(
        `DELETE FROM rk_artifacts a
         WHERE a.name = ANY($1::text[])
           AND NOT EXISTS (SELECT 1 FROM rk_pem_artifacts l WHERE l.artifact_name = a.name)
         RETURNING a.name`,
        [names],
      );
      const removedNames = removed.map((r) => r.name);
      await tx.query(`DELETE FROM rk_graph_edges WHERE rel <> 'PREDECESSOR' AND dst = ANY($1::text[])`, [removedNames]);
      await tx.query(`DELETE FROM rk_graph_nodes WHERE label = 'Artifact' AND key = ANY($1::text[])`, [removedNames]);
      return names.filter((n) => removedNames.includes(n));
    }));
  }

  /** Erases every table and the graph; returns what was there. */
  async clean(): Promise<{ pems: number; artifacts: number; tags: number; reports: number }> {
    this.#written();
    return this.#afterWrite(this.storage.transaction(async (tx) => {
      const [counts] = await tx.query<{ pems: number; artifacts: number; tags: number; reports: number }>(
        `SELECT (SELECT count(*)::int FROM rk_pems) AS pems, (SELECT count(*)::int FROM rk_artifacts) AS artifacts,
                (SELECT count(*)::int FROM rk_tags) AS tags, (SELECT count(*)::int FROM rk_reports) AS reports`,
      );
      for (const table of [
        'rk_tags',
        'rk_pem_artifacts',
        'rk_pems',
        'rk_artifacts',
        'rk_reports',
        'rk_graph_edges',
        'rk_graph_nodes',
        'rk_graph_pending',
        'rk_graph_failures',
      ]) {
        await tx.query(`DELETE FROM ${table}`);
      }
      return counts ?? { pems: 0, artifacts: 0, tags: 0, reports: 0 };
    }));
  }
}

async function upsertTag(tx: Queryable, namespace: string, tag: string, pemId: string, now: string): Promise<void> {
  await tx.query(
    `INSERT INTO rk_tags (namespace, tag, pem_id, updated_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (namespace, tag) DO UPDATE SET pem_id = EXCLUDED.pem_id, updated_at = EXCLUDED.updated_at`,
    [namespace, tag, pemId, now],
  );
}

/**
 * Identity of a PEM's content: SHA-256 of its JSON with object keys sorted, so a resend that
 * orders keys differently is still recognised as the same PEM.
 */
export function contentHash(pem: Pem): string {
  return createHash('sha256').update(canonicalJson(pem)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Filters become `column = $n` (exact) or a LIKE with the wildcards in the value escaped (contains). */
function whereClause(
  columns: Readonly<Record<string, string>>,
  filters: Record<string, string>,
  match: 'equals' | 'contains',
): { where: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  for (const [field, value] of Object.entries(filters)) {
    const role = columns === PEM_COLUMNS ? PEM_ARTIFACT_FILTERS[field] : undefined;
    if (role) {
      params.push(value);
      conditions.push(`id IN (SELECT pem_id FROM rk_pem_artifacts WHERE artifact_name COLLATE "C" = $${params.length} AND role = '${role}')`);
      continue;
    }
    const column = columns[field];
    if (!column) throw new Error(`no column for filter field ${field}`);
    if (match === 'equals') {
      params.push(value);
      // Equality is the same in every deterministic collation; "C" matches the indexes.
      conditions.push(`${column} COLLATE "C" = $${params.length}`);
    } else {
      params.push(`%${escapeLike(value)}%`);
      conditions.push(`${column} LIKE $${params.length} ESCAPE '\\'`);
    }
  }
  return { where: conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '', params };
}

export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Sorts byte-wise (COLLATE "C") so PGlite and any PostgreSQL agree; arrival order breaks ties. */
function orderClause(columns: Readonly<Record<string, string>>, selection: ListSelection): string {
  const direction = selection.sortOrder === 'desc' ? 'DESC' : 'ASC';
  if (!selection.sortField) return `seq ${direction}`;
  const column = columns[selection.sortField];
  if (!column) throw new Error(`no column for sort field ${selection.sortField}`);
  return `${column} COLLATE "C" ${direction}, seq ${direction}`;
}

/** `LIMIT/OFFSET` as parameters; undefined when the page starts past anything that can exist. */
function pageClause(selection: ListSelection, params: unknown[]): string | undefined {
  if (selection.pageSize === undefined) return '';
  const offset = (selection.pageIndex ?? 0) * selection.pageSize;
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(selection.pageSize)) return undefined;
  params.push(selection.pageSize, offset);
  return ` LIMIT $${params.length - 1} OFFSET $${params.length}`;
}

function joinWhere(where: string, condition: string): string {
  if (!condition) return where;
  return where ? `${where} AND ${condition}` : ` WHERE ${condition}`;
}

/** Rows after `after` in the listing's order: `(column, seq) > (value, seq)` (or `<` descending). */
function keysetCondition(column: string, selection: ListSelection, after: { value: string; seq: number }, params: unknown[]): string {
  const op = selection.sortOrder === 'desc' ? '<' : '>';
  if (column === 'seq') {
    params.push(after.seq);
    return `seq ${op} $${params.length}`;
  }
  params.push(after.value, after.seq);
  return `(${column} COLLATE "C", seq) ${op} ($${params.length - 1}::text COLLATE "C", $${params.length}::int)`;
}
