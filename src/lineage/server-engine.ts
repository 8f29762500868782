import { asFailure, RKError, RKInvalidInputError, RKNotFoundError, RKRejectedError, type CallOptions, type GraphRow, type PemFilters, type QueryInfo, type Result, type StoredPem } from '../public.js';
import { diffLineage } from './diff.js';
import type { EngineLimits, LineageEngine } from './engine.js';
import { explainLineage } from './explain.js';
import { findImpact } from './impact.js';
import { LineageIndex, type LineagePemInput } from './lineage-index.js';
import { LineageLoader, type LineageSource } from './loader.js';
import { findPaths } from './paths.js';
import { type LineageReadRequest, type LineageReads, readsBody, readsFor } from './server-reads.js';
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
 * On a service whose `/info` lists the `lineage-reads` capability (ours: the local RK), a round is
 * one `POST /lineage_reads` carrying every need at once, and the first also asks the service to
 * walk on from the start for the question's hops, reading what each hop will need: most answers
 * then take one request. The reply says which reads were done in full, and only those are marked
 * fetched, so the answer is still decided here, by the memory engine's code.
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
  /** The service's `/info`: its `capabilities` (ours) say whether `readLineage` is there. */
  getInfo?(call?: CallOptions): Promise<Result<QueryInfo>>;
  /** RKQuery's typed call by operationId: `readLineage` (`POST /lineage_reads`, ours). */
  call?(operationId: 'readLineage', input: { body: LineageReadRequest }, call?: CallOptions): Promise<Result<LineageReads>>;
}

/** Settings of the server engine. */
export interface ServerEngineOptions extends EngineLimits {
  roles?: LineageRoles | undefined;
  /** Requests in flight per round; default 16. */
  concurrency?: number;
  /** Options for every Query call. */
  call?: CallOptions;
  /**
   * `POST /lineage_reads` (ours): by default used when `/info` lists `lineage-reads`; true uses it
   * without asking (a local RK in reference mode answers `/info` as the real RK does, listing
   * nothing); false keeps to the REST reads a real RK has.
   */
  lineageReads?: boolean;
  /** Milliseconds now, for the time budget (tests drive it; default Date.now). */
  clock?: () => number;
}

/** Which way a question walks, and how far: what the service may read ahead for it. */
type WalkHint = { direction: 'upstream' | 'downstream'; hops: number } | undefined;

type Needs = { ids: Set<string>; producers: Set<string>; users: Set<string>; children: Set<string>; tags: Set<string>; currentTags: boolean };

const newNeeds = (): Needs => ({ ids: new Set(), producers: new Set(), users: new Set(), children: new Set(), tags: new Set(), currentTags: false });

/** A LineageIndex that notes each read of something not fetched yet. */
class ScratchIndex extends LineageIndex {
  readonly fetchedIds = new Set<string>();
  readonly producersFetched = new Set<string>();
  readonly usersFetched = new Set<string>();
  readonly childrenFetched = new Set<string>();
  readonly tagsFetched = new Set<string>();
  needs: Needs = newNeeds();
  /** Whether `/tags` may be read (the source has getTags) and has been. */
  tagsReadable = false;
  currentTagsFetched = false;

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
  // `/tags` is read only by a question that looks at tag moves (an explain from a PEM does not).
  override get tagsRead(): boolean {
    this.#noteCurrentTags();
    return super.tagsRead;
  }
  override tagKeys(): Array<[string, string]> {
    this.#noteCurrentTags();
    return super.tagKeys();
  }
  override allKnownTagMoves() {
    this.#noteCurrentTags();
    return super.allKnownTagMoves();
  }
  override knownTagMoves(namespace: string, tag: string) {
    this.#noteCurrentTags();
    return super.knownTagMoves(namespace, tag);
  }
  #noteCurrentTags(): void {
    if (this.tagsReadable && !this.currentTagsFetched) this.needs.currentTags = true;
  }
  takeNeeds(): Needs {
    const needs = this.needs;
    this.needs = newNeeds();
    return needs;
  }
}

const isEmpty = (needs: Needs) => !needs.ids.size && !needs.producers.size && !needs.users.size && !needs.children.size && !needs.tags.size && !needs.currentTags;

type ArtifactReads = 'filters' | 'cypher' | 'none';

export class ServerEngine implements LineageEngine {
  readonly kind = 'server' as const;
  #artifactReads: ArtifactReads | null = null;
  #lineageReads: boolean | null = null;
  /** Rounds and requests of the last answer, and whether `/lineage_reads` served it (for the benchmark and the CLI's --verbose). */
  lastAnswer = { rounds: 0, requests: 0, pems: 0, lineageReads: false };

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
    if (options.clock !== undefined && typeof options.clock !== 'function') return { ok: false, error: new RKInvalidInputError(operation, 'clock', 'must be a function returning milliseconds') };
    return { ok: true, value: new ServerEngine(source, { ...options, timeBudgetMs: options.timeBudgetMs ?? 10_000, hopCap: options.hopCap ?? 5_000, concurrency: options.concurrency ?? 16 }) };
  }

  upstream: LineageEngine['upstream'] = (start, options = {}) => this.#ask('Walking upstream', options, (index) => walkUpstream(index, start, options), walkHint('upstream', options.maxHops, DEFAULT_HOPS));
  downstream: LineageEngine['downstream'] = (start, options = {}) => this.#ask('Walking downstream', options, (index) => walkDownstream(index, start, options), walkHint('downstream', options.maxHops, DEFAULT_HOPS));
  resume: LineageEngine['resume'] = (cursor, options = {}) => this.#ask('Resuming walk', options, (index) => resumeWalk(index, cursor, options));
  explain: LineageEngine['explain'] = (target, options = {}) =>
    this.#ask('Explaining lineage', options, (index) => explainLineage(index, target, this.options.roles && !options.roles ? { ...options, roles: this.options.roles } : options), walkHint('upstream', options.maxHops, DEFAULT_HOPS));
  resolveTag: LineageEngine['resolveTag'] = (namespace, tag, options) => this.#ask('Resolving tag', {}, (index) => resolveTag(index, namespace, tag, options));
  diffLineage: LineageEngine['diffLineage'] = (a, b, options = {}) => this.#ask('Comparing lineage', options, (index) => diffLineage(index, a, b, options));
  paths: LineageEngine['paths'] = (a, b, options = {}) =>
    this.#ask('Finding lineage paths', options, (index) => findPaths(index, a, b, options), walkHint('downstream', options?.maxHops, DEFAULT_HOPS));
  impact: LineageEngine['impact'] = (source, options = {}) =>
    this.#ask('Finding impact', options, (index) => findImpact(index, source, options), walkHint('downstream', options?.maxHops, IMPACT_HOPS));

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

  async #ask<T>(operation: string, limits: EngineLimits, question: (index: LineageIndex) => T, walk?: WalkHint): Promise<Result<T>> {
    const budget = limits.timeBudgetMs ?? this.options.timeBudgetMs;
    const hopCap = limits.hopCap ?? this.options.hopCap;
    const now = this.options.clock ?? Date.now;
    const started = now();
    const deadline = started + budget;
    const index = new ScratchIndex();
    index.tagsReadable = typeof this.source.getTags === 'function';
    const stats = { rounds: 0, requests: 0, pems: 0, lineageReads: false };
    this.lastAnswer = stats;
    let partial: Truncation['reason'] | null = null;
    const reads = await this.#lineageReadsOffered(stats);
    stats.lineageReads = reads;
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
      if (value !== undefined && now() > deadline) {
        partial = 'timeBudget';
        continue;
      }
      // The first round is read whole (it holds the start); later ones stop starting reads at the deadline.
      const until = stats.rounds === 1 ? Infinity : deadline;
      const fetched = reads
        ? await this.#fetchInOne(index, needs, hopCap, stats, stats.rounds === 1 ? walk : undefined, deadline - now())
        : await this.#fetch(operation, index, needs, hopCap, stats, until, now);
      if (!fetched.ok) return fetched;
      if (fetched.value === 'hopCap' && partial === null) partial = 'hopCap';
      if (fetched.value === 'timeBudget') partial = 'timeBudget';
    }
  }

  /** Whether `/info` offers `POST /lineage_reads` (asked once per engine; off by option or without getInfo/call). */
  async #lineageReadsOffered(stats: { requests: number }): Promise<boolean> {
    if (this.#lineageReads !== null) return this.#lineageReads;
    if (this.options.lineageReads === false || typeof this.source.call !== 'function') return (this.#lineageReads = false);
    if (this.options.lineageReads === true) return (this.#lineageReads = true);
    if (typeof this.source.getInfo !== 'function') return (this.#lineageReads = false);
    stats.requests++;
    const info = await this.source.getInfo(this.options.call);
    // A service that cannot say is asked the known REST reads (no capability is assumed).
    // Ours, so never trusted to be the documented list: checked as it comes.
    const capabilities: unknown = info.ok ? info.value.capabilities : undefined;
    return (this.#lineageReads = Array.isArray(capabilities) && capabilities.includes('lineage-reads'));
  }

  async #readTags(index: ScratchIndex, stats: { requests: number }): Promise<Result<null>> {
    stats.requests++;
    const tags = await this.source.getTags!(this.options.call);
    if (!tags.ok) return tags;
    index.setCurrentTags(tags.value);
    index.currentTagsFetched = true;
    return { ok: true, value: null };
  }

  /** One round through `POST /lineage_reads`: every need in one request (more only past its list limits). */
  async #fetchInOne(index: ScratchIndex, needs: Needs, hopCap: number, stats: { requests: number }, walk: WalkHint, budgetMs: number): Promise<Result<RoundCut>> {
    const tags = needs.currentTags ? this.#readTags(index, stats) : Promise.resolve({ ok: true, value: null } as Result<null>);
    let cut: RoundCut = null;
    for (const body of readsBody(needs, hopCap, walk, Math.max(1, Math.floor(budgetMs)))) {
      stats.requests++;
      const reply = await this.source.call!('readLineage', { body }, this.options.call);
      if (!reply.ok) return reply;
      const done = readsFor(reply.value);
      for (const pem of reply.value.pems) {
        index.fetchedIds.add(pem.ID);
        index.add(pem);
      }
      for (const id of done.ids) index.fetchedIds.add(id);
      for (const name of done.producers) index.producersFetched.add(name);
      for (const name of done.users) index.usersFetched.add(name);
      for (const id of done.children) index.childrenFetched.add(id);
      for (const key of done.tags) index.tagsFetched.add(key);
      if (done.capped) cut = 'hopCap';
    }
    const read = await tags;
    if (!read.ok) return read;
    return { ok: true, value: cut };
  }

  /** Fetches one round of needs through the known REST reads, starting none after `until`; what cut it, if anything. */
  async #fetch(operation: string, index: ScratchIndex, needs: Needs, hopCap: number, stats: { requests: number }, until: number, now: () => number): Promise<Result<RoundCut>> {
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
    if (needs.currentTags) tasks.push(async () => {
      const read = await this.#readTags(index, stats);
      return read.ok ? null : read.error;
    });
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
    const ran = await runAll(tasks, this.options.concurrency, () => now() > until);
    if (ran.error) return { ok: false, error: asFailure(ran.error) };
    return { ok: true, value: ran.stopped ? 'timeBudget' : capped ? 'hopCap' : null };
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

/** What ended a round early: a hop cap cut a list, or the time budget stopped starting reads. */
type RoundCut = 'hopCap' | 'timeBudget' | null;

const DEFAULT_HOPS = 10; // walk.ts's and paths.ts's default maxHops
const IMPACT_HOPS = 50; // impact.ts's default maxHops

/** The read-ahead for a walk of `maxHops` (capped: the service reads at most 1 000 hops ahead). */
function walkHint(direction: 'upstream' | 'downstream', maxHops: number | undefined, fallback: number): WalkHint {
  const hops = maxHops ?? fallback;
  return typeof hops === 'number' && hops >= 0 ? { direction, hops: Number.isFinite(hops) ? Math.min(Math.floor(hops), 1000) : 1000 } : undefined;
}

/** Runs the tasks, `concurrency` at a time, starting none once `stop()` says so; the first error, or null. */
async function runAll(tasks: Array<() => Promise<RKError | null>>, concurrency: number, stop: () => boolean): Promise<{ error: RKError | null; stopped: boolean }> {
  let next = 0;
  let failed: RKError | null = null;
  let stopped = false;
  const worker = async () => {
    while (next < tasks.length && !failed) {
      if (stop()) {
        stopped = true;
        return;
      }
      const task = tasks[next++]!;
      const error = await task();
      if (error) failed ??= error;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, worker));
  return { error: failed, stopped };
}
