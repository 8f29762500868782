import type { Result } from '../public.js';
import type { DiffOptions, DiffSide, LineageDiff } from './diff.js';
import type { ExplainOptions, Explanation } from './explain.js';
import type { ImpactOptions, LineageImpact } from './impact.js';
import type { LineagePaths, PathsOptions } from './paths.js';
import type { LineageStart } from './start.js';
import type { PlatformState, StateAtOptions } from './state.js';
import type { TagResolution } from './tags.js';
import type { TimeInput } from './time.js';
import type { LineageResult, WalkOptions } from './walk.js';

/**
 * One interface for every way of answering the lineage questions. The engines differ only in
 * where the walk runs:
 * - `memory`: the in-memory LineageIndex (the reference: the others must give its answers);
 * - `server`: bounded walks asked of the Query service, hop by hop (or in one statement on the
 *   local RK);
 * - `replica`: a local copy on disk (built by another module on this interface).
 * Every method resolves to a Result and never rejects: a network engine can fail, the memory one
 * reports bad input the same way.
 */

export type LineageEngineKind = 'memory' | 'server' | 'replica';

/** Limits that only an engine doing work per request honours (the memory engine has nothing to bound). */
export interface EngineLimits {
  /** Stop asking the service after this many milliseconds; the answer is then `partial`. Default 10 000. */
  timeBudgetMs?: number;
  /** The most PEMs one hop may add; a hop over it is cut and the answer is `partial`. Default 5 000. */
  hopCap?: number;
}

/** Walk options as an engine takes them. */
export type EngineWalkOptions = WalkOptions & EngineLimits;

/** The lineage questions, answered by one engine. */
export interface LineageEngine {
  readonly kind: LineageEngineKind;
  /** The PEMs and artifact versions upstream of start, hop by hop. */
  upstream(start: LineageStart, options?: EngineWalkOptions): Promise<Result<LineageResult>>;
  /** The PEMs and artifact versions downstream of start (what it fed), hop by hop. */
  downstream(start: LineageStart, options?: EngineWalkOptions): Promise<Result<LineageResult>>;
  /** The next page of a truncated upstream or downstream result (a cursor from the same engine kind). */
  resume(cursor: string, options?: Pick<EngineWalkOptions, 'maxNodes' | 'maxHops' | 'signal' | 'timeBudgetMs' | 'hopCap'>): Promise<Result<LineageResult>>;
  /** Why target happened: steps, models and who trained them, sources and gaps. */
  explain(target: LineageStart, options?: ExplainOptions & EngineLimits): Promise<Result<Explanation>>;
  /** Where each tag pointed and which version of each artifact was current at time. */
  stateAt(time: TimeInput, options?: StateAtOptions): Promise<Result<PlatformState>>;
  /** The PEM the tag pointed to (now, or at options.at), or null. */
  resolveTag(namespace: string, tag: string, options?: { at?: TimeInput }): Promise<Result<TagResolution | null>>;
  /** How the ancestries of a and b differ. */
  diffLineage(a: DiffSide, b: DiffSide, options?: DiffOptions & EngineLimits): Promise<Result<LineageDiff>>;
  /** Every time-correct causal path from a down to b (or from b down to a), bounded like a walk. */
  paths(a: LineageStart, b: LineageStart, options?: PathsOptions & EngineLimits): Promise<Result<LineagePaths>>;
  /** Every tagged head (or every PEM) that descends from source, with one proving path each. */
  impact(source: LineageStart, options?: ImpactOptions & EngineLimits): Promise<Result<LineageImpact>>;
  /** Releases what the engine holds (connections, files); the memory engine holds nothing. */
  close(): Promise<void>;
}

/**
 * What builds a replica engine: registered by the module that provides it
 * (`registerReplicaEngine`), so this folder does not depend on it.
 */
export type ReplicaEngineFactory = (options: { dir: string; source: unknown }) => Promise<Result<LineageEngine>>;

let replicaFactory: ReplicaEngineFactory | null = null;

/** Makes `engine: 'replica'` available (called by the replica module when it is imported). */
export function registerReplicaEngine(factory: ReplicaEngineFactory): void {
  replicaFactory = factory;
}

/** The registered replica factory, or null when no replica module was loaded. */
export function replicaEngineFactory(): ReplicaEngineFactory | null {
  return replicaFactory;
}
