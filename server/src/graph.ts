import { GRAPH_INDEXES } from './schema.js';
import type { Queryable, Storage } from './storage.js';

/**
 * The Graph Builder: projects stored PEMs and artifacts into the lineage graph tables
 * (`rk_graph_nodes`, `rk_graph_edges`) in a background loop, as RK's Graph Builder does into
 * Neo4j. The PEMs still to project are the rows of `rk_graph_pending`, which the insert of a PEM
 * fills in the same statement: finding work is an index scan of that small table, not an
 * anti-join over every PEM, so an idle loop costs one cheap query per run and the work per PEM
 * stays flat as the tables grow. It is correct whatever order concurrent transactions commit in
 * (a row becomes visible with its PEM); a rebuild deletes the graph and queues every PEM again.
 * A PEM whose projection fails is recorded in `rk_graph_failures` and skipped (see /info and
 * /verify); a rebuild tries it again. Every run of the loop, flush and rebuild is serialized by
 * one lock.
 */

/**
 * PEMs per projection transaction. Each statement of a batch joins the batch against the link
 * table, and a join that scans the table costs the same for 20 PEMs or 5 000: small batches made
 * catching up on 100 000 PEMs grow with the square of the store (130 s at 100k against 2.3 s at
 * 10k), large ones keep it linear. On PGlite other requests wait for a batch (one connection), so
 * it stays at about a second of work on a quiet machine.
 */
const BATCH = 10_000;
/**
 * A backlog of at least this many PEMs onto an empty graph (a rebuild, a migration, a store
 * seeded in bulk) is projected in one transaction with the graph's indexes built after the
 * inserts (`projectAll`) instead of batch by batch into them.
 */
const BULK_MIN = 1_000;
/** After a batch fails, it is retried in pieces of this size, and a failing piece PEM by PEM. */
const RETRY_PIECE = 250;
/** Unreferenced artifacts projected per statement. */
const ARTIFACT_BATCH = 500;

export interface GraphCounts {
  tablePems: number;
  tableArtifacts: number;
  graphPems: number;
  graphArtifacts: number;
  /** PEMs the projection failed on, and the first of them. */
  failedPems: number;
  firstFailure: { id: string; error: string } | null;
}

export interface GraphBuilderOptions {
  /** Milliseconds between two runs of the loop. */
  intervalMs: number;
}

export class GraphBuilder {
  readonly intervalMs: number;
  readonly #storage: Storage;
  #chain: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #rebuildRequested = false;
  #flushesWaiting = 0;
  #error: string | undefined;
  /** PEMs projected since the last ANALYZE, and how many the graph held then. */
  #projectedSinceAnalyze = 0;
  #sizeAtAnalyze = 0;
  /** Whether artifacts no PEM refers to may be unprojected (after a start or a rebuild). */
  #artifactsToScan = true;
  /** Whether the graph may be empty (after a start or a rebuild), so a backlog may go in bulk. */
  #graphMayBeEmpty = true;

  constructor(storage: Storage, options: GraphBuilderOptions) {
    this.#storage = storage;
    this.intervalMs = options.intervalMs;
  }

  start(): void {
    this.#schedule();
  }

  /** Stops the loop and waits for a run in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#chain.catch(() => undefined);
  }

  /**
   * `"True"`/`"False"` for the pending requests, or the error that stopped the last run. With PEMs
   * the projection failed on, `shouldFlush` says so after the flag (the field is free text):
   * `False; 1 PEM could not be projected (see /verify), first <id>: <error>`.
   */
  state(counts?: Pick<GraphCounts, 'failedPems' | 'firstFailure'>): { shouldRebuild: string; shouldFlush: string } {
    if (this.#error !== undefined) return { shouldRebuild: this.#error, shouldFlush: this.#error };
    let flush = pythonBool(this.#flushesWaiting > 0);
    if (counts?.failedPems) {
      const n = counts.failedPems;
      const first = counts.firstFailure;
      flush += `; ${n} ${n === 1 ? 'PEM' : 'PEMs'} could not be projected (see /verify)` + (first ? `, first ${first.id}: ${first.error}` : '');
    }
    return { shouldRebuild: pythonBool(this.#rebuildRequested), shouldFlush: flush };
  }

  /** Asks the loop to drop the graph and project everything again; answers at once. */
  requestRebuild(): void {
    this.#rebuildRequested = true;
    // Start the next run now instead of after the interval.
    if (!this.#stopped) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = setTimeout(() => this.#tick(), 0).unref();
    }
  }

  /** Resolves when every PEM stored before the call is in the graph; returns how many were projected. */
  async flush(): Promise<number> {
    this.#flushesWaiting++;
    try {
      const [row] = await this.#storage.query<{ last: number | null }>(`SELECT max(seq) AS last FROM rk_pems`);
      const last = row?.last ?? 0;
      let projected = 0;
      while (!this.#stopped) {
        const step = await this.#exclusive(() => this.#step(last, true));
        projected += step.pems;
        if (step.pems + step.artifacts === 0) return projected;
      }
      throw new Error('the Graph Builder is stopping');
    } finally {
      this.#flushesWaiting--;
    }
  }

  async counts(): Promise<GraphCounts> {
    const [row] = await this.#storage.query<Omit<GraphCounts, 'firstFailure'> & { first_id: string | null; first_error: string | null }>(
      `SELECT (SELECT count(*)::int FROM rk_pems) AS "tablePems",
              (SELECT count(*)::int FROM rk_artifacts) AS "tableArtifacts",
              (SELECT count(*)::int FROM rk_graph_nodes WHERE label = 'PEM') AS "graphPems",
              (SELECT count(*)::int FROM rk_graph_nodes WHERE label = 'Artifact') AS "graphArtifacts",
              (SELECT count(*)::int FROM rk_graph_failures) AS "failedPems",
              f.pem_id AS first_id, f.error AS first_error
       FROM (SELECT 1) one LEFT JOIN (SELECT pem_id, error FROM rk_graph_failures ORDER BY pem_seq LIMIT 1) f ON true`,
    );
    if (!row) return { tablePems: 0, tableArtifacts: 0, graphPems: 0, graphArtifacts: 0, failedPems: 0, firstFailure: null };
    const { first_id, first_error, ...counts } = row;
    return { ...counts, firstFailure: first_id === null ? null : { id: first_id, error: first_error ?? '' } };
  }

  /**
   * A line per difference between the tables and the graph (at most 20 shown per kind), under a
   * summary line per kind; then the PEMs the projection failed on, with the error. Rows are
   * compared as tuples (no concatenated text), and only the shown differences are fetched.
   */
  async verify(checkPems: boolean, checkArtifacts: boolean): Promise<string> {
    const lines: string[] = [];
    if (checkPems) {
      lines.push(...(await this.#compare('PEMs', 'PEM', `SELECT id AS a FROM rk_pems`, `SELECT key FROM rk_graph_nodes WHERE label = 'PEM'`, (r) => r.a)));
      lines.push(
        ...(await this.#compare(
          'Edges',
          'edge',
          `SELECT CASE role WHEN 'uses' THEN 'USES' ELSE 'PRODUCES' END AS a, pem_id AS b, artifact_name AS c FROM rk_pem_artifacts
           UNION SELECT 'PREDECESSOR', id, predecessor FROM rk_pems WHERE predecessor IS NOT NULL`,
          `SELECT rel, src, dst FROM rk_graph_edges`,
          (r) => `${r.a} ${r.b} -> ${r.c}`,
        )),
      );
      const failures = await this.#storage.query<{ pem_id: string; error: string }>(
        `SELECT pem_id, error FROM rk_graph_failures ORDER BY pem_seq LIMIT 21`,
      );
      if (failures.length) {
        const [count] = await this.#storage.query<{ n: number }>(`SELECT count(*)::int AS n FROM rk_graph_failures`);
        const n = count?.n ?? failures.length;
        lines.push(`Not projectable: ${n} ${n === 1 ? 'PEM' : 'PEMs'} the Graph Builder could not project (a rebuild tries again)`);
        lines.push(...failures.slice(0, 20).map((f) => `  not projectable: PEM ${f.pem_id}: ${f.error}`));
        if (n > 20) lines.push(`  ... and ${n - 20} more PEMs not projectable`);
      }
    }
    if (checkArtifacts) {
      lines.push(
        ...(await this.#compare('Artifacts', 'artifact', `SELECT name AS a FROM rk_artifacts`, `SELECT key FROM rk_graph_nodes WHERE label = 'Artifact'`, (r) => r.a)),
      );
    }
    return lines.length ? lines.join('\n') : 'Nothing to compare: check_pems and check_artifacts are both false';
  }

  async #compare(title: string, noun: string, tableSql: string, graphSql: string, show: (row: { a: string; b: string; c: string }) => string): Promise<string[]> {
    const shown = 20;
    const edge = noun === 'edge';
    const order = edge ? 'a COLLATE "C", b COLLATE "C", c COLLATE "C"' : 'a COLLATE "C"';
    const [counts] = await this.#storage.query<{ tables: number; graph: number; missing: number; extra: number }>(
      `WITH t AS MATERIALIZED (${tableSql}), g AS MATERIALIZED (${graphSql})
       SELECT (SELECT count(*)::int FROM t) AS tables, (SELECT count(*)::int FROM g) AS graph,
              (SELECT count(*)::int FROM (SELECT * FROM t EXCEPT SELECT * FROM g) d) AS missing,
              (SELECT count(*)::int FROM (SELECT * FROM g EXCEPT SELECT * FROM t) d) AS extra`,
    );
    const missing = counts?.missing ?? 0;
    const extra = counts?.extra ?? 0;
    const lines = [`${title}: ${counts?.tables ?? 0} in tables, ${counts?.graph ?? 0} in graph, ${missing} missing, ${extra} extra`];
    for (const [n, first, second, word] of [
      [missing, tableSql, graphSql, 'missing from the graph'],
      [extra, graphSql, tableSql, 'in the graph only'],
    ] as const) {
      if (!n) continue;
      const rows = await this.#storage.query<Record<string, string>>(
        `SELECT * FROM ((${first}) EXCEPT (${second})) d(${edge ? 'a, b, c' : 'a'}) ORDER BY ${order} LIMIT ${shown}`,
      );
      const named = rows.map((r) => {
        const [a = '', b = '', c = ''] = Object.values(r);
        return show({ a, b, c });
      });
      lines.push(...named.map((key) => `  ${word}: ${noun} ${key}`));
      if (n > shown) lines.push(`  ... and ${n - shown} more ${noun}s ${word}`);
    }
    return lines;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => this.#tick(), this.intervalMs);
    // The loop alone must never keep the process alive.
    this.#timer.unref();
  }

  #tick(): void {
    this.#timer = undefined;
    void this.#exclusive(async () => {
      // Catch up in one run, batch by batch, unless stopped meanwhile.
      for (;;) {
        if (this.#stopped) return;
        const step = await this.#step(undefined);
        if (step.pems + step.artifacts === 0) return;
      }
    })
      .catch(() => undefined)
      .finally(() => {
        if (!this.#timer) this.#schedule();
      });
  }

  /** Runs `work` after every earlier run; the chain survives failures. */
  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(work, work);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /**
   * One batch: a pending rebuild first, then up to BATCH pending PEMs (with `seq <= upTo` when
   * given) with their artifacts and edges, then (after a start, a rebuild or in a flush) artifacts
   * no PEM refers to. Returns how many PEMs and unreferenced artifacts it took: none means caught
   * up. A batch that fails is retried PEM by PEM; a PEM that fails alone is recorded in
   * rk_graph_failures and taken out of the queue, so one bad PEM never stops the others.
   */
  async #step(upTo: number | undefined, scanArtifacts = false): Promise<{ pems: number; artifacts: number }> {
    try {
      if (this.#rebuildRequested) {
        this.#rebuildRequested = false;
        await this.#storage.transaction(async (tx) => {
          // TRUNCATE, not DELETE: no dead rows left for the next projection and every read to
          // step over (PGlite has no autovacuum).
          await tx.query(`TRUNCATE rk_graph_edges, rk_graph_nodes, rk_graph_failures`);
          await tx.query(`INSERT INTO rk_graph_pending (pem_seq) SELECT seq FROM rk_pems ON CONFLICT DO NOTHING`);
        });
        this.#artifactsToScan = true;
        this.#graphMayBeEmpty = true;
      }
      if (this.#graphMayBeEmpty) {
        const pems = await this.#projectAllIfEmpty(upTo);
        if (pems > 0) {
          this.#projectedSinceAnalyze += pems;
          this.#error = undefined;
          return { pems, artifacts: 0 };
        }
      }
      const batch = await this.#storage.query<{ seq: number; id: string | null }>(
        `SELECT g.pem_seq AS seq, p.id FROM rk_graph_pending g LEFT JOIN rk_pems p ON p.seq = g.pem_seq
         WHERE ($1::int IS NULL OR g.pem_seq <= $1::int)
         ORDER BY g.pem_seq LIMIT ${BATCH}`,
        [upTo ?? null],
      );
      if (batch.length) {
        try {
          await this.#storage.transaction((tx) => project(tx, batch));
        } catch {
          for (let i = 0; i < batch.length; i += RETRY_PIECE) {
            const piece = batch.slice(i, i + RETRY_PIECE);
            try {
              await this.#storage.transaction((tx) => project(tx, piece));
            } catch {
              for (const one of piece) await this.#projectOne(one);
            }
          }
        }
      }
      // Artifacts that no PEM refers to (none arrive through the Receiver, but a database may hold
      // them): an anti-join over every artifact, so only after a start or a rebuild and in a flush,
      // never on every run of an idle loop, and only once the queue is drained (not after every
      // batch of a long catch-up).
      let artifacts = 0;
      if ((scanArtifacts || this.#artifactsToScan) && batch.length < BATCH) {
        artifacts = await this.#storage.transaction(async (tx) => {
          const rows = await tx.query<{ name: string }>(
            `INSERT INTO rk_graph_nodes (label, key, data)
             SELECT 'Artifact', a.name, jsonb_build_object('properties', a.properties, 'created_at', a.created_at)
             FROM rk_artifacts a
             WHERE NOT EXISTS (SELECT 1 FROM rk_graph_nodes n WHERE n.label = 'Artifact' AND n.key = a.name)
               AND NOT EXISTS (SELECT 1 FROM rk_pem_artifacts l WHERE l.artifact_name = a.name)
             ORDER BY a.seq LIMIT ${ARTIFACT_BATCH}
             RETURNING key`,
          );
          return rows.length;
        });
        if (artifacts === 0 && !batch.length) this.#artifactsToScan = false;
      }
      this.#projectedSinceAnalyze += batch.length;
      if (!batch.length && this.#projectedSinceAnalyze >= Math.max(1000, this.#sizeAtAnalyze / 5)) {
        // Caught up after much growth: refresh the planner's statistics, or the lineage walks and
        // lookups keep plans made for small tables (PGlite has no autovacuum to do it). The
        // projection itself does not depend on them (index probes through ON CONFLICT).
        this.#sizeAtAnalyze += this.#projectedSinceAnalyze;
        this.#projectedSinceAnalyze = 0;
        await this.#storage.query(`ANALYZE rk_graph_nodes, rk_graph_edges, rk_graph_pending, rk_pems, rk_artifacts, rk_pem_artifacts, rk_tags`);
      }
      this.#error = undefined;
      return { pems: batch.length, artifacts };
    } catch (error) {
      this.#error = error instanceof Error ? error.message : String(error);
      throw error;
    }
  }
  /**
   * Onto an empty graph, a backlog of at least BULK_MIN PEMs (up to `upTo`) is projected in one
   * transaction (`projectAll`); returns how many, or 0 when the graph is not empty, the backlog is
   * smaller, or the bulk projection failed (it is rolled back whole, indexes included, and the
   * batches take over: they find the PEM that fails and go on with the others).
   */
  async #projectAllIfEmpty(upTo: number | undefined): Promise<number> {
    const [state] = await this.#storage.query<{ queued: number; projected: boolean }>(
      `SELECT (SELECT count(*)::int FROM (SELECT 1 FROM rk_graph_pending WHERE $1::int IS NULL OR pem_seq <= $1::int LIMIT ${BULK_MIN}) q) AS queued,
              EXISTS (SELECT 1 FROM rk_graph_nodes) OR EXISTS (SELECT 1 FROM rk_graph_edges) AS projected`,
      [upTo ?? null],
    );
    if (!state || state.projected) {
      this.#graphMayBeEmpty = false;
      return 0;
    }
    if (state.queued < BULK_MIN) return 0;
    this.#graphMayBeEmpty = false;
    try {
      return await this.#storage.transaction((tx) => projectAll(tx, upTo));
    } catch {
      return 0;
    }
  }

  /** Projects one PEM, or records why it cannot be (and takes it out of the queue). */
  async #projectOne(one: { seq: number; id: string | null }): Promise<void> {
    try {
      await this.#storage.transaction((tx) => project(tx, [one]));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await this.#storage.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO rk_graph_failures (pem_seq, pem_id, error, failed_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (pem_seq) DO UPDATE SET error = EXCLUDED.error, failed_at = EXCLUDED.failed_at`,
          [one.seq, one.id ?? '', message, new Date().toISOString()],
        );
        await tx.query(`DELETE FROM rk_graph_pending WHERE pem_seq = $1`, [one.seq]);
      });
    }
  }
}


/**
 * Projects the PEMs of `batch` (their nodes, artifacts and edges) and takes them out of the queue,
 * in one set-based statement: the batch's rows and links are read once (materialized) and feed
 * every insert, so a batch of thousands of PEMs is one round trip and one pass over the link
 * table. Nodes go in through `ON CONFLICT` on their unique md5 key (an index probe per row,
 * whatever the planner's statistics say; an anti-join was planned as a sort of the whole table
 * while the statistics lagged behind the growing graph); a node already there (an artifact an
 * earlier batch projected, whose properties a later PEM merged into) is rewritten only when its
 * data differs, so an unchanged row writes no new version. Edges are plain inserts: this
 * transaction is the only one that writes a PEM's edges (it takes the PEM out of the queue, and a
 * rebuild deletes every edge before queueing again), so they need no unique key to stay single.
 * The plan is made for each batch (`force_custom_plan`): a prepared statement's generic plan on
 * PostgreSQL does not know how many PEMs the array holds.
 */
async function project(tx: Queryable, batch: readonly { seq: number; id: string | null }[]): Promise<void> {
  await tx.query(`SET LOCAL plan_cache_mode = force_custom_plan`);
  await tx.query(projection('batch'), [batch.map((r) => r.seq)]);
}

/**
 * Projects every queued PEM (up to `upTo`) onto an empty graph in one transaction, which the
 * caller has checked: the graph's indexes are dropped, the same statement as a batch's inserts
 * every row (without `ON CONFLICT`, which needs the unique index: in an empty graph there is
 * nothing to conflict with, artifacts are taken once each and PEM IDs are unique), and the
 * indexes are built again over the rows, which costs a sort per index instead of a probe per row.
 * The graph tables are locked for the transaction (readers of the graph wait; an empty graph had
 * nothing to answer with). Returns how many PEMs it took out of the queue.
 */
async function projectAll(tx: Queryable, upTo: number | undefined): Promise<number> {
  // The batch's sort by seq spilled to temporary files at the default 4 MB.
  await tx.query(`SET LOCAL work_mem = '64MB'`);
  for (const index of GRAPH_INDEXES) await tx.query(index.drop);
  const [counts] = await tx.query<{ queued: string | number }>(projection('all'), [upTo ?? null]);
  for (const index of GRAPH_INDEXES) await tx.query(index.create);
  return Number(counts?.queued ?? 0);
}

/** The projection statement of a batch (`$1`: the PEMs' seq) or of the whole queue (`$1`: up to which seq, or null). */
function projection(scope: 'batch' | 'all'): string {
  const batch = scope === 'batch';
  const onConflict = batch ? `ON CONFLICT (label, key_md5) DO UPDATE SET data = EXCLUDED.data WHERE rk_graph_nodes.data IS DISTINCT FROM EXCLUDED.data` : '';
  return `WITH queued AS (
       DELETE FROM rk_graph_pending WHERE ${batch ? 'pem_seq = ANY($1::int[])' : '$1::int IS NULL OR pem_seq <= $1::int'} RETURNING pem_seq
     ), pems AS MATERIALIZED (
       ${batch ? 'SELECT p.* FROM rk_pems p WHERE p.seq = ANY($1::int[])' : 'SELECT p.* FROM queued q JOIN rk_pems p ON p.seq = q.pem_seq'}
     ), links AS MATERIALIZED (
       SELECT l.role, l.pem_id, l.artifact_name FROM pems p JOIN rk_pem_artifacts l ON l.pem_id = p.id
     ), artifacts AS (
       INSERT INTO rk_graph_nodes (label, key, data)
       SELECT 'Artifact', a.name, jsonb_build_object('properties', a.properties, 'created_at', a.created_at)
       FROM rk_artifacts a WHERE a.name IN (SELECT artifact_name FROM links)
       ORDER BY a.name
       ${onConflict}
       RETURNING 1
     ), edges AS (
       INSERT INTO rk_graph_edges (rel, src, dst)
       SELECT DISTINCT CASE role WHEN 'uses' THEN 'USES' ELSE 'PRODUCES' END, pem_id, artifact_name FROM links
       UNION ALL
       SELECT 'PREDECESSOR', id, predecessor FROM pems WHERE predecessor IS NOT NULL
       RETURNING 1
     ), nodes AS (
       INSERT INTO rk_graph_nodes (label, key, data)
       SELECT 'PEM', p.id, jsonb_build_object('type', p.type, 'emitter', p.emitter, 'timestamp_client', p.timestamp_client,
              'timestamp_received', p.timestamp_received, 'properties', p.properties::jsonb, 'tag', p.tag, 'tag_namespace', p.tag_namespace)
       FROM pems p ORDER BY p.seq
       ${onConflict}
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM queued) AS queued, (SELECT count(*) FROM artifacts) AS artifacts,
            (SELECT count(*) FROM edges) AS edges, (SELECT count(*) FROM nodes) AS nodes`;
}

function pythonBool(value: boolean): string {
  return value ? 'True' : 'False';
}
