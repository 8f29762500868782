import { RKInvalidInputError, type Result } from '../../public.js';
import type { LineageEngine } from '../engine.js';
import type { LineageSource } from '../loader.js';
import type { LineageRoles } from '../roles.js';
import { ServerEngine } from '../server-engine.js';
import { ReplicaStore } from './store.js';
import { syncReplica, type SyncOptions, type SyncReport } from './sync.js';

/**
 * The `replica` engine: the questions answered from the copy on disk. Each question runs the
 * memory engine's own code (and so binding.ts's rule, unrestated) over a scratch index that
 * starts empty, filled round by round from indexed SQL reads of the copy (a PEM by ID, the
 * producers or users of an artifact, a PEM's followers, a tag's carriers): one round per hop,
 * the process holding only the PEMs the answer touched. This is the server engine's loop with the
 * copy as its source, so the two share one tested path to the memory engine's answers.
 */

export interface ReplicaOptions {
  /** The directory of the copy (created when new). */
  dir: string;
  /** Where to sync from: an RKQuery (or anything with its getPems). Without it the copy answers as it stands. */
  source?: LineageSource | null;
  /** Sync before the first answer (default true when there is a source). */
  sync?: boolean | SyncOptions;
  roles?: LineageRoles;
  /** Per-question limits, as the server engine's. */
  timeBudgetMs?: number;
  hopCap?: number;
}

export class ReplicaEngine implements LineageEngine {
  readonly kind = 'replica' as const;
  /** What the sync on open did, or null when there was none. */
  lastSync: SyncReport | null = null;

  private constructor(
    readonly store: ReplicaStore,
    private readonly source: LineageSource | null,
    private readonly engine: ServerEngine,
  ) {}

  /** Opens the copy in options.dir and (with a source) syncs it. */
  static async open(options: ReplicaOptions): Promise<Result<ReplicaEngine>> {
    if (options === null || typeof options !== 'object') return { ok: false, error: new RKInvalidInputError('Opening the lineage replica', 'options', 'must be { dir, source }') };
    const opened = await ReplicaStore.open(options.dir);
    if (!opened.ok) return opened;
    const store = opened.value;
    const engine = ServerEngine.over(store, {
      // Every read of a round at once: the store answers those of one turn with one statement each shape.
      concurrency: 100_000,
      ...(options.roles ? { roles: options.roles } : {}),
      ...(options.timeBudgetMs !== undefined ? { timeBudgetMs: options.timeBudgetMs } : {}),
      ...(options.hopCap !== undefined ? { hopCap: options.hopCap } : {}),
    });
    if (!engine.ok) {
      await store.close();
      return engine;
    }
    const replica = new ReplicaEngine(store, options.source ?? null, engine.value);
    if (replica.source && options.sync !== false) {
      const synced = await replica.sync(typeof options.sync === 'object' ? options.sync : {});
      if (!synced.ok) {
        await store.close();
        return synced;
      }
    }
    return { ok: true, value: replica };
  }

  /** Brings the copy up to date from the source (incremental; continues a sync that stopped). */
  async sync(options: SyncOptions = {}): Promise<Result<SyncReport>> {
    if (!this.source) return { ok: false, error: new RKInvalidInputError('Syncing the lineage replica', 'source', 'this replica was opened without a source to sync from') };
    const synced = await syncReplica(this.store, this.source, options);
    if (synced.ok) this.lastSync = synced.value;
    return synced;
  }

  upstream: LineageEngine['upstream'] = (start, options) => this.engine.upstream(start, options);
  downstream: LineageEngine['downstream'] = (start, options) => this.engine.downstream(start, options);
  resume: LineageEngine['resume'] = (cursor, options) => this.engine.resume(cursor, options);
  explain: LineageEngine['explain'] = (target, options) => this.engine.explain(target, options);
  /** Every artifact's version at a time needs every PEM: read from the copy page by page into memory. */
  stateAt: LineageEngine['stateAt'] = (time, options) => this.engine.stateAt(time, options);
  resolveTag: LineageEngine['resolveTag'] = (namespace, tag, options) => this.engine.resolveTag(namespace, tag, options);
  diffLineage: LineageEngine['diffLineage'] = (a, b, options) => this.engine.diffLineage(a, b, options);
  paths: LineageEngine['paths'] = (a, b, options) => this.engine.paths(a, b, options);
  impact: LineageEngine['impact'] = (source, options) => this.engine.impact(source, options);

  /** Rounds and SQL reads of the last answer. */
  get lastAnswer(): { rounds: number; requests: number; pems: number } {
    return this.engine.lastAnswer;
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
