import { RKInvalidInputError, type CallOptions, type Result, type TagRecord } from '../public.js';
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
  load(options?: LoadOptions): Promise<Result<LoadReport>> {
    return this.#loader.load(options);
  }

  /** Reads the PEMs received since the watermark (a full load the first time). */
  refresh(options?: LoadOptions): Promise<Result<LoadReport>> {
    return this.#loader.refresh(options);
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
