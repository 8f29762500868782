import type { Storage } from './storage.js';

/**
 * The Graph Builder: projects stored PEMs and artifacts into the lineage graph tables
 * (`rk_graph_nodes`, `rk_graph_edges`) in a background loop, as RK's Graph Builder does into
 * Neo4j. A PEM is projected when no PEM node with its ID exists yet, so the loop needs no cursor:
 * it is correct whatever order concurrent transactions commit in, and a rebuild is simply
 * "delete the graph". Every run of the loop, flush and rebuild is serialized by one lock.
 */

const BATCH = 500;

export interface GraphCounts {
  tablePems: number;
  tableArtifacts: number;
  graphPems: number;
  graphArtifacts: number;
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

  /** `"True"`/`"False"` for the pending requests, or the error that stopped the last run. */
  get state(): { shouldRebuild: string; shouldFlush: string } {
    if (this.#error !== undefined) return { shouldRebuild: this.#error, shouldFlush: this.#error };
    return { shouldRebuild: pythonBool(this.#rebuildRequested), shouldFlush: pythonBool(this.#flushesWaiting > 0) };
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
        const step = await this.#exclusive(() => this.#step(last));
        projected += step.pems;
        if (step.pems + step.artifacts === 0) return projected;
      }
      throw new Error('the Graph Builder is stopping');
    } finally {
      this.#flushesWaiting--;
    }
  }

  async counts(): Promise<GraphCounts> {
    const [row] = await this.#storage.query<GraphCounts>(
      `SELECT (SELECT count(*)::int FROM rk_pems) AS "tablePems",
              (SELECT count(*)::int FROM rk_artifacts) AS "tableArtifacts",
              (SELECT count(*)::int FROM rk_graph_nodes WHERE label = 'PEM') AS "graphPems",
              (SELECT count(*)::int FROM rk_graph_nodes WHERE label = 'Artifact') AS "graphArtifacts"`,
    );
    return row ?? { tablePems: 0, tableArtifacts: 0, graphPems: 0, graphArtifacts: 0 };
  }

  /** A line per difference between the tables and the graph, under a summary line per kind. */
  async verify(checkPems: boolean, checkArtifacts: boolean): Promise<string> {
    const lines: string[] = [];
    if (checkPems) {
      lines.push(
        ...(await this.#compare(
          'PEMs',
          'PEM',
          `SELECT id AS key FROM rk_pems`,
          `SELECT key FROM rk_graph_nodes WHERE label = 'PEM'`,
        )),
      );
      lines.push(
        ...(await this.#compare(
          'Edges',
          'edge',
          `SELECT CASE role WHEN 'uses' THEN 'USES' ELSE 'PRODUCES' END || ' ' || pem_id || ' -> ' || artifact_name AS key FROM rk_pem_artifacts
           UNION SELECT 'PREDECESSOR ' || id || ' -> ' || predecessor FROM rk_pems WHERE predecessor IS NOT NULL`,
          `SELECT rel || ' ' || src || ' -> ' || dst AS key FROM rk_graph_edges`,
        )),
      );
    }
    if (checkArtifacts) {
      lines.push(
        ...(await this.#compare(
          'Artifacts',
          'artifact',
          `SELECT name AS key FROM rk_artifacts`,
          `SELECT key FROM rk_graph_nodes WHERE label = 'Artifact'`,
        )),
      );
    }
    return lines.length ? lines.join('\n') : 'Nothing to compare: check_pems and check_artifacts are both false';
  }

  async #compare(title: string, noun: string, tableSql: string, graphSql: string): Promise<string[]> {
    const shown = 20;
    const [counts] = await this.#storage.query<{ tables: number; graph: number }>(
      `SELECT (SELECT count(*)::int FROM (${tableSql}) t) AS tables, (SELECT count(*)::int FROM (${graphSql}) g) AS graph`,
    );
    const missing = await this.#storage.query<{ key: string }>(`SELECT key FROM ((${tableSql}) EXCEPT (${graphSql})) d ORDER BY key COLLATE "C"`);
    const extra = await this.#storage.query<{ key: string }>(`SELECT key FROM ((${graphSql}) EXCEPT (${tableSql})) d ORDER BY key COLLATE "C"`);
    const lines = [
      `${title}: ${counts?.tables ?? 0} in tables, ${counts?.graph ?? 0} in graph, ${missing.length} missing, ${extra.length} extra`,
    ];
    for (const [list, word] of [
      [missing, 'missing from the graph'],
      [extra, 'in the graph only'],
    ] as const) {
      lines.push(...list.slice(0, shown).map((r) => `  ${word}: ${noun} ${r.key}`));
      if (list.length > shown) lines.push(`  ... and ${list.length - shown} more ${noun}s ${word}`);
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
   * One batch: a pending rebuild first, then up to BATCH unprojected PEMs (with `seq <= upTo` when
   * given) with their artifacts and edges, then artifacts no PEM refers to. Returns how many PEMs
   * and unreferenced artifacts it projected: none means caught up.
   */
  async #step(upTo: number | undefined): Promise<{ pems: number; artifacts: number }> {
    try {
      if (this.#rebuildRequested) {
        this.#rebuildRequested = false;
        await this.#storage.transaction(async (tx) => {
          await tx.query(`DELETE FROM rk_graph_edges`);
          await tx.query(`DELETE FROM rk_graph_nodes`);
        });
      }
      const pems = await this.#storage.transaction(async (tx) => {
        const batch = await tx.query<{ id: string }>(
          `SELECT p.id FROM rk_pems p
           WHERE NOT EXISTS (SELECT 1 FROM rk_graph_nodes n WHERE n.label = 'PEM' AND n.key = p.id)
             AND ($1::int IS NULL OR p.seq <= $1::int)
           ORDER BY p.seq LIMIT ${BATCH}`,
          [upTo ?? null],
        );
        if (!batch.length) return 0;
        const ids = batch.map((r) => r.id);
        await tx.query(
          `INSERT INTO rk_graph_nodes (label, key, data)
           SELECT 'Artifact', a.name, jsonb_build_object('properties', a.properties, 'created_at', a.created_at)
           FROM rk_artifacts a
           WHERE a.name IN (SELECT artifact_name FROM rk_pem_artifacts WHERE pem_id = ANY($1::text[]))
           ORDER BY a.name
           ON CONFLICT (label, key) DO UPDATE SET data = EXCLUDED.data`,
          [ids],
        );
        await tx.query(
          `INSERT INTO rk_graph_edges (rel, src, dst)
           SELECT DISTINCT CASE role WHEN 'uses' THEN 'USES' ELSE 'PRODUCES' END, pem_id, artifact_name
           FROM rk_pem_artifacts WHERE pem_id = ANY($1::text[])
           ON CONFLICT DO NOTHING`,
          [ids],
        );
        await tx.query(
          `INSERT INTO rk_graph_edges (rel, src, dst)
           SELECT 'PREDECESSOR', id, predecessor FROM rk_pems WHERE id = ANY($1::text[]) AND predecessor IS NOT NULL
           ON CONFLICT DO NOTHING`,
          [ids],
        );
        await tx.query(
          `INSERT INTO rk_graph_nodes (label, key, data)
           SELECT 'PEM', p.id, jsonb_build_object('type', p.type, 'emitter', p.emitter, 'timestamp_client', p.timestamp_client,
                  'timestamp_received', p.timestamp_received, 'properties', p.properties::jsonb, 'tag', p.tag, 'tag_namespace', p.tag_namespace)
           FROM rk_pems p WHERE p.id = ANY($1::text[]) ORDER BY p.seq`,
          [ids],
        );
        return ids.length;
      });
      // Artifacts that no PEM refers to (none arrive through the Receiver, but a database may hold them).
      const artifacts = await this.#storage.transaction(async (tx) => {
        const rows = await tx.query<{ name: string }>(
          `INSERT INTO rk_graph_nodes (label, key, data)
           SELECT 'Artifact', a.name, jsonb_build_object('properties', a.properties, 'created_at', a.created_at)
           FROM rk_artifacts a
           WHERE NOT EXISTS (SELECT 1 FROM rk_graph_nodes n WHERE n.label = 'Artifact' AND n.key = a.name)
             AND NOT EXISTS (SELECT 1 FROM rk_pem_artifacts l WHERE l.artifact_name = a.name)
           ORDER BY a.seq LIMIT ${BATCH}
           RETURNING key`,
        );
        return rows.length;
      });
      this.#error = undefined;
      return { pems, artifacts };
    } catch (error) {
      this.#error = error instanceof Error ? error.message : String(error);
      throw error;
    }
  }
}

function pythonBool(value: boolean): string {
  return value ? 'True' : 'False';
}
