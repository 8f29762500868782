import { asFailure, RKError, RKInvalidInputError, RKNotFoundError, RKRejectedError, type CallOptions, type GraphRow, type PemFilters, type Result, type StoredPem } from '../public.js';
import { diffLineage } from './diff.js';
import type { EngineLimits, LineageEngine } from './engine.js';
import { explainLineage } from './explain.js';
import { findImpact } from './impact.js';
import { LineageIndex, type LineagePemInput } from './lineage-index.js';
import { LineageLoader, type LineageSource } from './loader.js';
import { findPaths } from './paths.js';
import type { LineageRoles } from './roles.js';
import { stateAt } from './state.js';
import { resolveTag } from './tags.js';
import { resumeWalk, walkDownstream, walkUpstream, type Truncation } from './walk.js';

/**
 * The `server` engine: answers without loading the store. Each question runs the memory engine's
 * own code (so the answers are the same) over a scratch index that starts empty; every read the
 * question makes of something not fetched yet (a PEM, the producers or users of an artifact, the
 * PEMs that follow one, the carriers of a tag) is noted, fetched from the Query service in one
 * batch of requests, and the question asked again, until it touches nothing new. A round is one
 * hop of the walk (plus the same-second chain links binding needs). Bounds: `timeBudgetMs`
 * (answer with what was fetched, `partial`) and `hopCap` (the most PEMs one artifact's producers,
 * users or one PEM's followers may bring; more is cut and the answer is `partial`).
 *
 * Reads used: `/pems` by `ID`, `Predecessor`, `Tag` + `TagNamespace` (RK is known to have these
 * filters), `/tags`, and the PEMs by artifact: `/pems` `UsesArtifact` / `ProducesArtifact` where
 * the service has them (the local RK), otherwise Cypher over `/query` when `CALL db.labels()` and
 * `CALL db.relationshipTypes()` show the PEM and Artifact labels and the USES and PRODUCES
 * relationships (read-only), otherwise a clear error.
 */

/** What the server engine reads from: an RKQuery (getPems, and getTags and queryGraph when it has them). */
export interface ServerLineageSource extends LineageSource {
  /** Cypher over `/query`: used only for the graph labels and relationships it has probed, read-only. */
  queryGraph?(query: string, type?: 'r' | 'rw', call?: CallOptions): Promise<Result<GraphRow[]>>;
}

/** Settings of the server engine. */
export interface ServerEngineOptions extends EngineLimits {
  roles?: LineageRoles | undefined;
  /** Requests in flight per round; default 16. */
  concurrency?: number;
  /** Options for every Query call. */
  call?: CallOptions;
}

type Needs = { ids: Set<string>; producers: Set<string>; users: Set<string>; children: Set<string>; tags: Set<string> };

const newNeeds = (): Needs => ({ ids: new Set(), producers: new Set(), users: new Set(), children: new Set(), tags: new Set() });

/** A LineageIndex that notes each read of something not fetched yet. */
class ScratchIndex extends LineageIndex {
  readonly fetchedIds = new Set<string>();
  readonly producersFetched = new Set<string>();
  readonly usersFetched = new Set<string>();
  readonly childrenFetched = new Set<string>();
  readonly tagsFetched = new Set<string>();
  needs: Needs = newNeeds();

  override has(id: string): boolean {
    if (!this.fetchedIds.has(id)) this.needs.ids.add(id);
    return super.has(id);
  }
  override slotOf(id: string): number {
    if (!this.fetchedIds.has(id)) this.needs.ids.add(id);
    return super.slotOf(id);
  }
  override hasArtifact(name: string): boolean {
    if (!this.producersFetched.has(name)) this.needs.producers.add(name);
    if (!this.usersFetched.has(name)) this.needs.users.add(name);
    return super.hasArtifact(name);
  }
  override isLoaded(slot: number): boolean {
    const loaded = super.isLoaded(slot);
    if (!loaded) {
      const id = this.idOf(slot);
      if (!this.fetchedIds.has(id)) this.needs.ids.add(id);
    }
    return loaded;
  }
  override producersOf(artifact: number): readonly number[] {
    const name = this.artifactName(artifact);
    if (!this.producersFetched.has(name)) this.needs.producers.add(name);
    return super.producersOf(artifact);
  }
  override usersOf(artifact: number): readonly number[] {
    const name = this.artifactName(artifact);
    if (!this.usersFetched.has(name)) this.needs.users.add(name);
    return super.usersOf(artifact);
  }
  override childrenOf(slot: number): number[] {
    const id = this.idOf(slot);
    if (!this.childrenFetched.has(id)) this.needs.children.add(id);
    return super.childrenOf(slot);
  }
  override tagCarriers(namespace: string, tag: string): readonly number[] {
    const key = `${namespace}\u0000${tag}`;
    if (!this.tagsFetched.has(key)) this.needs.tags.add(key);
    return super.tagCarriers(namespace, tag);
  }
  takeNeeds(): Needs {
    const needs = this.needs;
    this.needs = newNeeds();
    return needs;
  }
}

const isEmpty = (needs: Needs) => !needs.ids.size && !needs.producers.size && !needs.users.size && !needs.children.size && !needs.tags.size;

type ArtifactReads = 'filters' | 'cypher' | 'none';

export class ServerEngine implements LineageEngine {
  readonly kind = 'server' as const;
  #artifactReads: ArtifactReads | null = null;
  /** Rounds and requests of the last answer (for the benchmark and the CLI's --verbose). */
  lastAnswer = { rounds: 0, requests: 0, pems: 0 };

  private constructor(
    private readonly source: ServerLineageSource,
    private readonly options: Required<Pick<ServerEngineOptions, 'timeBudgetMs' | 'hopCap' | 'concurrency'>> & ServerEngineOptions,
  ) {}

  /** A server engine over an RKQuery (or anything with its getPems). */
  static over(source: ServerLineageSource, options: ServerEngineOptions = {}): Result<ServerEngine> {
    const operation = 'Opening the server lineage engine';
    if (!source || typeof source.getPems !== 'function') return { ok: false, error: new RKInvalidInputError(operation, 'source', 'must be an RKQuery (or have its getPems method)') };
    for (const [name, value, min] of [['timeBudgetMs', options.timeBudgetMs, 1], ['hopCap', options.hopCap, 1], ['concurrency', options.concurrency, 1]] as const) {
      if (value !== undefined && !(Number.isInteger(value) && value >= min)) return { ok: false, error: new RKInvalidInputError(operation, name, `must be a whole number from ${min}, got ${String(value)}`) };
    }
    return { ok: true, value: new ServerEngine(source, { ...options, timeBudgetMs: options.timeBudgetMs ?? 10_000, hopCap: options.hopCap ?? 5_000, concurrency: options.concurrency ?? 16 }) };
  }

  upstream: LineageEngine['upstream'] = (start, options = {}) => this.#ask('Walking upstream', options, (index) => walkUpstream(index, start, options));
  downstream: LineageEngine['downstream'] = (start, options = {}) => this.#ask('Walking downstream', options, (index) => walkDownstream(index, start, options));
  resume: LineageEngine['resume'] = (cursor, options = {}) => this.#ask('Resuming walk', options, (index) => resumeWalk(index, cursor, options));
  explain: LineageEngine['explain'] = (target, options = {}) =>
    this.#ask('Explaining lineage', options, (index) => explainLineage(index, target, this.options.roles && !options.roles ? { ...options, roles: this.options.roles } : options));
  resolveTag: LineageEngine['resolveTag'] = (namespace, tag, options) => this.#ask('Resolving tag', {}, (index) => resolveTag(index, namespace, tag, options));
  diffLineage: LineageEngine['diffLineage'] = (a, b, options = {}) => this.#ask('Comparing lineage', options, (index) => diffLineage(index, a, b, options));
  paths: LineageEngine['paths'] = (a, b, options = {}) => this.#ask('Finding lineage paths', options, (index) => findPaths(index, a, b, options));
  impact: LineageEngine['impact'] = (source, options = {}) => this.#ask('Finding impact', options, (index) => findImpact(index, source, options));

  /** Every artifact's version at a time needs every artifact: read as the memory engine does, page by page. */
  stateAt: LineageEngine['stateAt'] = async (time, options) => {
    const index = new LineageIndex();
    const loaded = await new LineageLoader(this.source, index, { pageSize: 5000, refreshPageSize: 1000, concurrency: 4, overlapSeconds: 5, readTags: true, call: this.options.call ?? {} }).load();
    if (!loaded.ok) return loaded;
    try {
      return { ok: true, value: stateAt(index, time, options) };
    } catch (cause) {
      return { ok: false, error: asFailure(asError('Reading state at a time', cause)) };
    }
  };

  async close(): Promise<void> {}

  async #ask<T>(operation: string, limits: EngineLimits, question: (index: LineageIndex) => T): Promise<Result<T>> {
    const budget = limits.timeBudgetMs ?? this.options.timeBudgetMs;
    const hopCap = limits.hopCap ?? this.options.hopCap;
    const started = Date.now();
    const index = new ScratchIndex();
    const stats = { rounds: 0, requests: 0, pems: 0 };
    this.lastAnswer = stats;
    let partial: Truncation['reason'] | null = null;
    const tags = await this.#readTags(index, stats);
    if (!tags.ok) return tags;
    for (;;) {
      stats.rounds++;
      let value: T | undefined;
      let thrown: unknown;
      try {
        value = question(index);
      } catch (cause) {
        thrown = cause;
      }
      const needs = index.takeNeeds();
      if (isEmpty(needs) || (partial === 'timeBudget' && value !== undefined)) {
        stats.pems = index.size;
        if (value === undefined) return { ok: false, error: asFailure(asError(operation, thrown)) };
        return { ok: true, value: partial ? markPartial(value, partial) : value };
      }
      // Past the budget, answer with what is here (once there is an answer: the start is always read).
      if (value !== undefined && Date.now() - started > budget) {
        partial = 'timeBudget';
        continue;
      }
      const fetched = await this.#fetch(operation, index, needs, hopCap, stats);
      if (!fetched.ok) return fetched;
      if (fetched.value) partial = 'hopCap';
    }
  }

  async #readTags(index: ScratchIndex, stats: { requests: number }): Promise<Result<null>> {
    if (typeof this.source.getTags !== 'function') return { ok: true, value: null };
    stats.requests++;
    const tags = await this.source.getTags(this.options.call);
    if (!tags.ok) return tags;
    index.setCurrentTags(tags.value);
    return { ok: true, value: null };
  }

  /** Fetches one round of needs; true when a hop cap cut something. */
  async #fetch(operation: string, index: ScratchIndex, needs: Needs, hopCap: number, stats: { requests: number }): Promise<Result<boolean>> {
    let capped = false;
    const add = (pems: StoredPem[]) => {
      for (const pem of pems) {
        index.fetchedIds.add(pem.ID);
        index.add(pem as unknown as LineagePemInput);
      }
    };
    const tasks: Array<() => Promise<RKError | null>> = [];
    const list = (filters: PemFilters, done: () => void) =>
      tasks.push(async () => {
        const read = await this.#list(filters, hopCap, stats);
        if (!read.ok) return read.error;
        add(read.value.pems);
        if (read.value.capped) capped = true;
        done();
        return null;
      });
    for (const id of needs.ids) {
      tasks.push(async () => {
        stats.requests++;
        const read = await this.source.getPems({ filters: { ID: id }, pageSize: 1 }, this.options.call);
        if (!read.ok) {
          // An ID the service's own checks refuse cannot be stored there: it is missing.
          if (read.error instanceof RKRejectedError || read.error instanceof RKNotFoundError) {
            index.fetchedIds.add(id);
            return null;
          }
          return read.error;
        }
        add(read.value);
        index.fetchedIds.add(id);
        return null;
      });
    }
    for (const id of needs.children) list({ Predecessor: id }, () => index.childrenFetched.add(id));
    for (const key of needs.tags) {
      const [namespace, tag] = key.split('\u0000') as [string, string];
      list({ Tag: tag, TagNamespace: namespace }, () => index.tagsFetched.add(key));
    }
    const byArtifact = [...[...needs.producers].map((name) => ['produces', name] as const), ...[...needs.users].map((name) => ['uses', name] as const)];
    if (byArtifact.length) {
      const reads = await this.#artifactReadsOf(operation, byArtifact[0]![1], stats);
      if (!reads.ok) return reads;
      for (const [role, name] of byArtifact) {
        const mark = () => (role === 'produces' ? index.producersFetched : index.usersFetched).add(name);
        if (reads.value === 'filters') list(role === 'produces' ? { ProducesArtifact: name } : { UsesArtifact: name }, mark);
        else {
          tasks.push(async () => {
            const ids = await this.#cypherIds(role, name, stats);
            if (!ids.ok) return ids.error;
            if (ids.value.length > hopCap) capped = true;
            for (const id of ids.value.slice(0, hopCap)) if (!index.fetchedIds.has(id)) index.needs.ids.add(id);
            mark();
            return null;
          });
        }
      }
    }
    const error = await runAll(tasks, this.options.concurrency);
    if (error) return { ok: false, error: asFailure(error) };
    return { ok: true, value: capped };
  }

  /** Every page of a filtered listing, up to hopCap PEMs. */
  async #list(filters: PemFilters, hopCap: number, stats: { requests: number }): Promise<Result<{ pems: StoredPem[]; capped: boolean }>> {
    const pageSize = Math.min(hopCap + 1, 1000);
    const pems: StoredPem[] = [];
    for (let pageIndex = 0; ; pageIndex++) {
      stats.requests++;
      const page = await this.source.getPems({ filters, pageSize, pageIndex }, this.options.call);
      if (!page.ok) return page;
      pems.push(...page.value);
      if (pems.length > hopCap) return { ok: true, value: { pems: pems.slice(0, hopCap), capped: true } };
      if (page.value.length < pageSize) return { ok: true, value: { pems, capped: false } };
    }
  }

  /** How this service lists PEMs by artifact, found out once: its filters, Cypher on a probed schema, or not at all. */
  async #artifactReadsOf(operation: string, name: string, stats: { requests: number }): Promise<Result<ArtifactReads>> {
    if (this.#artifactReads) return { ok: true, value: this.#artifactReads };
    stats.requests++;
    const probe = await this.source.getPems({ filters: { ProducesArtifact: name }, pageSize: 1 }, this.options.call);
    if (probe.ok) this.#artifactReads = 'filters';
    else if (probe.error instanceof RKRejectedError) this.#artifactReads = (await this.#schemaKnown(stats)) ? 'cypher' : 'none';
    else return probe;
    if (this.#artifactReads === 'none') {
      return {
        ok: false,
        error: new RKInvalidInputError(
          operation,
          'engine',
          'this Query service cannot list PEMs by the artifacts they use or produce (no UsesArtifact/ProducesArtifact filter, and no PEM/Artifact graph through /query): use the memory engine',
        ),
      };
    }
    return { ok: true, value: this.#artifactReads };
  }

  /** Whether the graph behind `/query` has the labels and relationships the lineage reads need (read-only probes). */
  async #schemaKnown(stats: { requests: number }): Promise<boolean> {
    if (typeof this.source.queryGraph !== 'function') return false;
    stats.requests += 2;
    const labels = await this.source.queryGraph('CALL db.labels()', 'r', this.options.call);
    const relations = await this.source.queryGraph('CALL db.relationshipTypes()', 'r', this.options.call);
    if (!labels.ok || !relations.ok) return false;
    const has = (rows: GraphRow[], name: string) => rows.some((row) => row[0] === name);
    return has(labels.value, 'PEM') && has(labels.value, 'Artifact') && has(relations.value, 'USES') && has(relations.value, 'PRODUCES');
  }

  async #cypherIds(role: 'uses' | 'produces', name: string, stats: { requests: number }): Promise<Result<string[]>> {
    stats.requests++;
    const literal = `'${name.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    const rows = await this.source.queryGraph!(`MATCH (p:PEM)-[:${role === 'uses' ? 'USES' : 'PRODUCES'}]->(a:Artifact {rk_id: ${literal}}) RETURN p.rk_id AS rk_id`, 'r', this.options.call);
    if (!rows.ok) return rows;
    return { ok: true, value: rows.value.map((row) => String(row[0])) };
  }
}

function markPartial<T>(value: T, reason: Truncation['reason']): T {
  if (value === null || typeof value !== 'object') return value;
  const marked = value as T & { partial?: true; truncated?: Truncation | null; lineage?: { partial?: true } };
  marked.partial = true;
  if ('truncated' in marked && marked.truncated === null) marked.truncated = { reason, pending: [] };
  if (marked.lineage && typeof marked.lineage === 'object') marked.lineage.partial = true;
  return value;
}

function asError(operation: string, cause: unknown): RKError {
  if (cause instanceof RKError) return cause;
  return new RKInvalidInputError(operation, 'question', cause instanceof Error ? cause.message : String(cause));
}

/** Runs the tasks, `concurrency` at a time; the first error, or null. */
async function runAll(tasks: Array<() => Promise<RKError | null>>, concurrency: number): Promise<RKError | null> {
  let next = 0;
  let failed: RKError | null = null;
  const worker = async () => {
    while (next < tasks.length && !failed) {
      const task = tasks[next++]!;
      const error = await task();
      if (error) failed ??= error;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, worker));
  return failed;
}
