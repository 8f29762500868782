import { RKInvalidInputError, type CallOptions, type Result, type TagRecord } from '../public.js';
import type { LineageEngine, LineageEngineKind } from './engine.js';
import { replicaEngineFactory } from './engine.js';
import { findImpact, type ImpactOptions, type LineageImpact } from './impact.js';
import { MemoryEngine } from './memory-engine.js';
import { ServerEngine } from './server-engine.js';
import { findPaths, type LineagePaths, type PathsOptions } from './paths.js';
import { diffLineage, type DiffOptions, type DiffSide, type LineageDiff } from './diff.js';
import { explainLineage, type ExplainOptions, type Explanation } from './explain.js';
import { LineageIndex, type IndexStats, type LineagePemInput } from './lineage-index.js';
import { lintPem, lintPems, type LintFinding, type LintOptions } from './lint.js';
import { LineageLoader, type LineageSource, type LoadOptions, type LoadReport } from './loader.js';
import type { LineageRoles } from './roles.js';
import type { LineageStart } from './start.js';
import { stateAt, type PlatformState, type StateAtOptions } from './state.js';
import { resolveTag, tagHistory, type TagMove, type TagResolution } from './tags.js';
import type { TimeInput } from './time.js';
import { resumeWalk, walkDownstream, walkUpstream, type LineageResult, type WalkOptions } from './walk.js';

/** Settings for RKLineage: page sizes and concurrency of the load and refresh, the refresh overlap, whether to read `/tags`, and explain roles. */
export interface RKLineageOptions {
  /** PEMs per page of the full load; default 5000. */
  pageSize?: number;
  /** PEMs per page of a refresh; default 1000. */
  refreshPageSize?: number;
  /** Pages in flight during the full load; default 4. */
  concurrency?: number;
  /** How far before the watermark a refresh re-reads, in seconds; default 5. */
  overlapSeconds?: number;
  /** Read `/tags` after each load and refresh (for setTag moves); default true. */
  tags?: boolean;
  /** Roles for `explain`, replacing the defaults role by role. */
  roles?: LineageRoles;
  /** Options for every Query call (timeoutMs, signal, ...). */
  call?: CallOptions;
  /**
   * Which engine `openEngine()` answers with: `memory` (default; this object's index, loaded on
   * the first question), `replica` (needs `replica.dir` and the replica module), or an engine
   * object of your own.
   */
  engine?: LineageEngineKind | LineageEngine;
  /** Where the replica engine keeps its copy on disk (implies `engine: 'replica'`). */
  replica?: { dir: string };
}

/**
 * Answers "why did X happen" and "what was the state at time T" from the Query API alone: it
 * loads PEMs page by page into an in-memory LineageIndex, refreshes it incrementally, and asks the
 * index. `load` and `refresh` talk to the network and resolve a Result; every question is a pure,
 * synchronous function of the index (also exported on its own) and returns its answer.
 *
 *   const lineage = new RKLineage(new RKQuery(queryUrl));
 *   const loaded = await lineage.load({ onProgress: (p) => console.log(p.read, p.total) });
 *   const why = lineage.explain({ namespace: 'trainer', tag: 'production' });
 */
export class RKLineage {
  readonly index: LineageIndex;
  readonly #loader: LineageLoader;
  readonly #roles: LineageRoles | undefined;
  readonly #source: LineageSource;
  readonly #engineChoice: LineageEngineKind | LineageEngine;
  readonly #replicaDir: string | undefined;
  #engine: LineageEngine | null = null;
  #loaded = false;
  readonly #call: CallOptions | undefined;

  /** @param source an RKQuery, or anything with its `getPems` (and optionally `getPemsCount`, `getTags`) */
  constructor(source: LineageSource, options: RKLineageOptions = {}) {
    const operation = 'Creating RKLineage';
    if (!source || typeof source.getPems !== 'function') throw new RKInvalidInputError(operation, 'source', 'must be an RKQuery (or have its getPems method)');
    if (options === null || typeof options !== 'object') throw new RKInvalidInputError(operation, 'options', 'must be an object like { pageSize: 5000 }');
    const whole = (name: keyof RKLineageOptions, value: number | undefined, fallback: number, min: number) => {
      const chosen = value ?? fallback;
      if (!Number.isInteger(chosen) || chosen < min) throw new RKInvalidInputError(operation, name, `must be a whole number from ${min}, got ${String(value)}`);
      return chosen;
    };
    this.index = new LineageIndex();
    this.#roles = options.roles;
    this.#source = source;
    this.#call = options.call;
    if (options.replica !== undefined && (options.replica === null || typeof options.replica.dir !== 'string' || options.replica.dir === '')) {
      throw new RKInvalidInputError(operation, 'replica', 'must be { dir: "<directory>" }');
    }
    this.#replicaDir = options.replica?.dir;
    const choice = options.engine ?? (options.replica ? 'replica' : 'memory');
    if (typeof choice === 'string' ? !['memory', 'server', 'replica'].includes(choice) : choice === null || typeof choice !== 'object' || typeof choice.upstream !== 'function') {
      throw new RKInvalidInputError(operation, 'engine', `must be "memory", "server", "replica" or a LineageEngine, got ${JSON.stringify(choice)}`);
    }
    this.#engineChoice = choice;
    this.#loader = new LineageLoader(source, this.index, {
      pageSize: whole('pageSize', options.pageSize, 5000, 1),
      refreshPageSize: whole('refreshPageSize', options.refreshPageSize, 1000, 1),
      concurrency: whole('concurrency', options.concurrency, 4, 1),
      overlapSeconds: whole('overlapSeconds', options.overlapSeconds, 5, 0),
      readTags: options.tags ?? true,
      call: options.call ?? {},
    });
  }

  /** Reads every PEM (and `/tags`) into the index. */
  async load(options?: LoadOptions): Promise<Result<LoadReport>> {
    const report = await this.#loader.load(options);
    if (report.ok) this.#loaded = true;
    return report;
  }

  /** Reads the PEMs received since the watermark (a full load the first time). */
  async refresh(options?: LoadOptions): Promise<Result<LoadReport>> {
    const report = await this.#loader.refresh(options);
    if (report.ok) this.#loaded = true;
    return report;
  }

  /**
   * The engine the options chose, every question asynchronous and resolving to a Result (the
   * synchronous methods below always ask this object's in-memory index). The memory engine loads
   * the index before its first answer unless it was loaded already.
   */
  async openEngine(): Promise<Result<LineageEngine>> {
    if (this.#engine) return { ok: true, value: this.#engine };
    const choice = this.#engineChoice;
    if (typeof choice === 'object') this.#engine = choice;
    else if (choice === 'memory') {
      this.#engine = new MemoryEngine(this.index, { roles: this.#roles, prepare: () => (this.#loaded ? Promise.resolve({ ok: true, value: null }) : this.load()) });
    } else if (choice === 'server') {
      const made = ServerEngine.over(this.#source, { roles: this.#roles, ...(this.#call ? { call: this.#call } : {}) });
      if (!made.ok) return made;
      this.#engine = made.value;
    } else {
      const factory = replicaEngineFactory();
      if (!this.#replicaDir) return { ok: false, error: new RKInvalidInputError('Opening the lineage engine', 'replica', 'the replica engine needs a directory: { replica: { dir: "<directory>" } }') };
      if (!factory) {
        return {
          ok: false,
          error: new RKInvalidInputError('Opening the lineage engine', 'engine', 'the replica engine is not part of this build; use engine "memory" or "server"'),
        };
      }
      const made = await factory({ dir: this.#replicaDir, source: this.#source });
      if (!made.ok) return made;
      this.#engine = made.value;
    }
    return { ok: true, value: this.#engine };
  }

  /** The latest TimestampReceived in the index: where the next refresh starts (minus the overlap). */
  get watermark(): string | null {
    return this.index.maxReceived;
  }

  /** How many PEMs and artifacts the index holds, and the memory its columns take. */
  stats(): IndexStats {
    return this.index.stats();
  }

  /** The PEMs and artifacts upstream of start, hop by hop, within options.maxHops and maxNodes. */
  upstream(start: LineageStart, options?: WalkOptions): LineageResult {
    return walkUpstream(this.index, start, options);
  }

  /** The PEMs and artifacts downstream of start (what it fed), hop by hop, within options.maxHops and maxNodes. */
  downstream(start: LineageStart, options?: WalkOptions): LineageResult {
    return walkDownstream(this.index, start, options);
  }

  /** The next page of a truncated upstream or downstream result. */
  resume(cursor: string, options?: Pick<WalkOptions, 'maxNodes' | 'maxHops' | 'signal'>): LineageResult {
    return resumeWalk(this.index, cursor, options);
  }

  /** Why target happened: its upstream steps, the models and who trained them, the data sources and the gaps. */
  explain(target: LineageStart, options: ExplainOptions = {}): Explanation {
    return explainLineage(this.index, target, this.#roles && !options.roles ? { ...options, roles: this.#roles } : options);
  }

  /** Where each tag pointed and which version of each artifact was current at time. */
  stateAt(time: TimeInput, options?: StateAtOptions): PlatformState {
    return stateAt(this.index, time, options);
  }

  /** Every known move of the tag, oldest first, with what each move rests on. */
  tagHistory(namespace: string, tag: string): TagMove[] {
    return tagHistory(this.index, namespace, tag);
  }

  /** The PEM the tag pointed to (now, or at options.at), or null when it pointed nowhere. */
  resolveTag(namespace: string, tag: string, options?: { at?: TimeInput }): TagResolution | null {
    return resolveTag(this.index, namespace, tag, options);
  }

  /** How the ancestries of a and b differ: artifacts added, removed or bound to another producer, and PEMs. */
  diffLineage(a: DiffSide, b: DiffSide, options?: DiffOptions): LineageDiff {
    return diffLineage(this.index, a, b, options);
  }

  /** Every time-correct causal path from a down to b (or from b down to a). */
  paths(a: LineageStart, b: LineageStart, options?: PathsOptions): LineagePaths {
    return findPaths(this.index, a, b, options);
  }

  /** Every tagged head (or, with `tagged: false`, every PEM) that descends from source, with one proving path each. */
  impact(source: LineageStart, options?: ImpactOptions): LineageImpact {
    return findImpact(this.index, source, options);
  }

  /** Lints a batch against itself and the index. */
  lint(pems: readonly LineagePemInput[], options?: LintOptions): LintFinding[] {
    return lintPems(pems, { ...options, against: this.index });
  }

  /** Lints one PEM (before sending it) against the index. */
  lintPem(pem: LineagePemInput, options?: LintOptions): LintFinding[] {
    return lintPem(pem, this.index, options);
  }

  /** A check for `sendPem(pem, { lint: lineage.linter() })`: each PEM linted against this index as it is then. */
  linter(options?: LintOptions): (pem: LineagePemInput) => LintFinding[] {
    return (pem) => lintPem(pem, this.index, options);
  }

  /** Records a tag move this client made, e.g. `lineage.recordTagMove((await rk.setTag(...)).value)`. */
  recordTagMove(record: TagRecord): void {
    this.index.recordTagMove(record);
  }
}
