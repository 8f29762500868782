import { RKInvalidInputError } from '../public.js';
import { bindUse, isChainAncestor, lowerBound } from './binding.js';
import type { LineageIndex } from './lineage-index.js';
import { matcher, type Matcher, type NamePattern } from './patterns.js';
import { resolveStart, type LineageStart } from './start.js';

/**
 * Upstream and downstream walks over the index, breadth first, so every node appears once at its
 * smallest hop. A hop is PEM to PEM, through an artifact (A produces X, B's use of X binds to A:
 * binding.ts) or through Predecessor. An artifact version is reported at the hop of the PEM that
 * produced it. The walk is synchronous: `signal` is checked before each PEM is expanded.
 */

export type LineageVia = 'artifacts' | 'predecessor';

/** Where a walk ends: PEMs of these Types or Emitters, or artifacts of these Names, are not gone past. */
export interface StopFilter {
  /** PEMs of these Types end the walk there. */
  type?: NamePattern | readonly NamePattern[];
  emitter?: NamePattern | readonly NamePattern[];
  /** Artifacts with these Names end the walk there. */
  artifact?: NamePattern | readonly NamePattern[];
}

/** Limits of a lineage walk: hops, which edges to follow, where to stop, node budget and abort signal. */
export interface WalkOptions {
  /** Hops from the start; default 10. */
  maxHops?: number;
  /** Which hops to follow; default both. */
  via?: readonly LineageVia[];
  stop?: StopFilter;
  /** Whether the nodes that matched `stop` are in the result (marked `stopped`); default true. */
  includeStop?: boolean;
  /** The most nodes (PEMs and artifacts) in one result; default 500. */
  maxNodes?: number;
  signal?: AbortSignal;
}

/** A PEM in a lineage result, at its hop from the start (missing when only named as a Predecessor). */
export interface PemNode {
  kind: 'pem';
  /** `pem:<id>`; edges refer to nodes by key. */
  key: string;
  id: string;
  hop: number;
  /** null for a PEM named as a Predecessor that the index does not hold (`missing`). */
  type: string | null;
  emitter: string | null;
  /** TimestampClient. */
  time: string | null;
  uses: string[];
  produces: string[];
  missing?: true;
  /** It matched the stop filter: the walk did not go past it. */
  stopped?: true;
}

/** One version of an artifact: its Name as produced by one PEM (or by no known PEM). */
export interface ArtifactNode {
  kind: 'artifact';
  /** `artifact:<producer id or ->:<name>`. */
  key: string;
  name: string;
  /** The PEM that produced this version; null when no known PEM produced it before its use. */
  producer: string | null;
  hop: number;
  stopped?: true;
}

/** A node of a lineage result: a PEM or an artifact version. */
export type LineageNode = PemNode | ArtifactNode;

/** Edges point forward in time: predecessor to follower, producer to artifact, artifact to user. */
export interface LineageEdge {
  kind: 'predecessor' | 'produced' | 'used';
  from: string;
  to: string;
}

/** Where lineage could not be followed: an unbound use, a missing Predecessor or a Predecessor cycle. */
export type LineageGap =
  /** A use that binds to no producer: the artifact came from outside what RK knows. */
  | { kind: 'unbound-use'; pem: string; artifact: string }
  /** The Predecessor is not in the index. */
  | { kind: 'missing-predecessor'; pem: string; predecessor: string }
  /** Following Predecessor from this PEM comes back to it. */
  | { kind: 'predecessor-cycle'; pem: string; predecessor: string };

/** Why a walk stopped early and which PEMs were left unexpanded (resume from the cursor). */
export interface Truncation {
  /**
   * `maxNodes`, `maxHops`: a limit the caller set (resume from the cursor); `aborted`: the signal;
   * `maxPaths`: a paths answer listed as many as allowed; `timeBudget`, `hopCap`: a server engine
   * stopped asking (the answer is `partial`).
   */
  reason: 'maxNodes' | 'maxHops' | 'aborted' | 'maxPaths' | 'timeBudget' | 'hopCap';
  /** PEMs whose neighbours were not (all) visited: resume from the cursor to visit them. */
  pending: string[];
}

/** A lineage walk: the PEM and artifact nodes, the edges between them, the gaps, and a cursor when truncated. */
export interface LineageResult {
  direction: 'upstream' | 'downstream';
  /** Key of the start node. */
  start: string;
  nodes: LineageNode[];
  edges: LineageEdge[];
  gaps: LineageGap[];
  truncated: Truncation | null;
  /** Continue with `resumeWalk(index, cursor)`; null when nothing was left out. */
  cursor: string | null;
  /**
   * Set by an engine that stopped before its walk was whole within the caller's limits (time
   * budget, per-hop cap): nodes within those limits may be missing. Never set by the memory engine.
   */
  partial?: true;
}

export const pemKey = (id: string): string => `pem:${id}`;
export const artifactKey = (name: string, producer: string | null): string => `artifact:${producer ?? '-'}:${name}`;

const DEFAULT_MAX_HOPS = 10;
const DEFAULT_MAX_NODES = 500;

interface Settings {
  direction: 'upstream' | 'downstream';
  limit: number;
  maxNodes: number;
  viaArtifacts: boolean;
  viaPredecessor: boolean;
  stopType: Matcher;
  stopEmitter: Matcher;
  stopArtifact: Matcher;
  includeStop: boolean;
  signal: AbortSignal | undefined;
}

/** What a cursor carries; opaque to callers (base64url JSON). */
interface CursorState {
  v: 1;
  d: 'upstream' | 'downstream';
  start: string;
  via: LineageVia[];
  stop?: { type?: string[]; emitter?: string[]; artifact?: string[] };
  includeStop: boolean;
  maxHops: number;
  limit: number;
  /** [PEM id, hop, neighbour offset] still to expand. */
  frontier: Array<[string, number, number]>;
  pems: string[];
  /** The hop of each of `pems`, in the same order. */
  hops?: number[];
  artifacts: string[];
}

class Walk {
  readonly nodes: LineageNode[] = [];
  readonly edges: LineageEdge[] = [];
  readonly gaps: LineageGap[] = [];
  readonly seenPems = new Set<number>();
  /** Hop of each PEM seen (this page or, from a cursor, earlier ones): an artifact version is reported at its producer's. */
  readonly pemHops = new Map<number, number>();
  readonly seenArtifacts = new Set<string>();
  readonly queue: Array<[number, number, number]> = [];
  truncated: Truncation['reason'] | null = null;
  readonly pendingHops: Array<[number, number, number]> = [];

  constructor(
    readonly index: LineageIndex,
    readonly settings: Settings,
  ) {}

  get full(): boolean {
    return this.nodes.length >= this.settings.maxNodes;
  }

  addPem(slot: number, hop: number, stopped = false): void {
    const index = this.index;
    this.seenPems.add(slot);
    this.pemHops.set(slot, hop);
    const id = index.idOf(slot);
    const loaded = index.isLoaded(slot);
    const described = loaded ? index.describe(slot) : undefined;
    const node: PemNode = {
      kind: 'pem',
      key: pemKey(id),
      id,
      hop,
      type: described?.type ?? null,
      emitter: described?.emitter ?? null,
      time: described?.time ?? null,
      uses: described?.uses ?? [],
      produces: described?.produces ?? [],
    };
    if (!loaded) node.missing = true;
    if (stopped) node.stopped = true;
    this.nodes.push(node);
  }

  addArtifact(key: string, name: string, producer: string | null, hop: number, stopped = false): void {
    this.seenArtifacts.add(key);
    const node: ArtifactNode = { kind: 'artifact', key, name, producer, hop };
    if (stopped) node.stopped = true;
    this.nodes.push(node);
  }

  stopsAtPem(slot: number): boolean {
    const { stopType, stopEmitter } = this.settings;
    return this.index.isLoaded(slot) && (stopType(this.index.typeOf(slot)) || stopEmitter(this.index.emitterOf(slot)));
  }

  /** Expands the PEM at `slot` from neighbour `offset`; returns the offset it stopped at, or -1 when done. */
  expand(slot: number, hop: number, offset: number): number {
    const neighbours = this.settings.direction === 'upstream' ? this.upstreamNeighbours(slot) : this.downstreamNeighbours(slot);
    for (let i = offset; i < neighbours.length; i++) {
      if (!neighbours[i]!(hop)) return i;
    }
    return -1;
  }

  /** Each neighbour as a step that adds its nodes and edges, or answers false when they do not fit. */
  upstreamNeighbours(slot: number): Array<(hop: number) => boolean> {
    const index = this.index;
    const steps: Array<(hop: number) => boolean> = [];
    const id = index.idOf(slot);
    if (this.settings.viaPredecessor) {
      const parent = index.predecessorOf(slot);
      if (parent >= 0) {
        steps.push((hop) => {
          const parentId = index.idOf(parent);
          if (!this.seenPems.has(parent)) {
            const stopped = this.stopsAtPem(parent);
            if (stopped && !this.settings.includeStop) return true;
            if (this.full) return false;
            this.addPem(parent, hop + 1, stopped);
            if (!index.isLoaded(parent)) this.gaps.push({ kind: 'missing-predecessor', pem: id, predecessor: parentId });
            else if (!stopped) this.queue.push([parent, hop + 1, 0]);
          } else if (isChainAncestor(index, slot, parent)) {
            this.gaps.push({ kind: 'predecessor-cycle', pem: id, predecessor: parentId });
          }
          this.edges.push({ kind: 'predecessor', from: pemKey(parentId), to: pemKey(id) });
          return true;
        });
      }
    }
    if (this.settings.viaArtifacts) {
      for (let u = 0; u < index.usesCount(slot); u++) {
        const artifact = index.useAt(slot, u);
        steps.push((hop) => {
          const name = index.artifactName(artifact);
          const producer = bindUse(index, slot, artifact);
          const producerId = producer >= 0 ? index.idOf(producer) : null;
          const key = artifactKey(name, producerId);
          if (producer < 0) this.gaps.push({ kind: 'unbound-use', pem: id, artifact: name });
          const stopped = this.settings.stopArtifact(name);
          if (!this.seenArtifacts.has(key)) {
            if (stopped && !this.settings.includeStop) return true;
            const producerSeen = producer >= 0 && this.seenPems.has(producer);
            const needsProducer = producer >= 0 && !stopped && !producerSeen && (this.settings.includeStop || !this.stopsAtPem(producer));
            if (this.nodes.length + 1 + (needsProducer ? 1 : 0) > this.settings.maxNodes) {
              if (producer < 0) this.gaps.pop();
              return false;
            }
            // An artifact version is reported at the hop of the PEM that produced it.
            const artifactHop = producerSeen ? (this.pemHops.get(producer) ?? hop + 1) : hop + 1;
            this.addArtifact(key, name, producerId, artifactHop, stopped);
            if (producer >= 0 && !stopped) {
              if (!this.seenPems.has(producer)) {
                const pemStopped = this.stopsAtPem(producer);
                if (!pemStopped || this.settings.includeStop) {
                  this.addPem(producer, hop + 1, pemStopped);
                  if (!pemStopped) this.queue.push([producer, hop + 1, 0]);
                  this.edges.push({ kind: 'produced', from: pemKey(producerId!), to: key });
                }
              } else {
                this.edges.push({ kind: 'produced', from: pemKey(producerId!), to: key });
              }
            }
          }
          this.edges.push({ kind: 'used', from: key, to: pemKey(id) });
          return true;
        });
      }
    }
    return steps;
  }

  downstreamNeighbours(slot: number): Array<(hop: number) => boolean> {
    const index = this.index;
    const steps: Array<(hop: number) => boolean> = [];
    const id = index.idOf(slot);
    if (this.settings.viaPredecessor) {
      for (const child of index.childrenOf(slot)) {
        steps.push((hop) => {
          const childId = index.idOf(child);
          if (!this.seenPems.has(child)) {
            const stopped = this.stopsAtPem(child);
            if (stopped && !this.settings.includeStop) return true;
            if (!this.addDownstreamPem(child, hop + 1, stopped)) return false;
          } else if (isChainAncestor(index, child, slot)) {
            this.gaps.push({ kind: 'predecessor-cycle', pem: childId, predecessor: id });
          }
          this.edges.push({ kind: 'predecessor', from: pemKey(id), to: pemKey(childId) });
          return true;
        });
      }
    }
    if (this.settings.viaArtifacts) {
      const done = new Set<number>();
      for (let p = 0; p < index.producesCount(slot); p++) {
        const artifact = index.produceAt(slot, p);
        if (done.has(artifact)) continue;
        done.add(artifact);
        const name = index.artifactName(artifact);
        const key = artifactKey(name, id);
        const stopped = this.settings.stopArtifact(name);
        if (!stopped) for (const user of this.boundUsers(artifact, slot)) steps.push((hop) => this.useStep(user, key, hop));
      }
    }
    return steps;
  }

  /** The users of `artifact` whose use binds to `producer` (-1: to no producer). */
  boundUsers(artifact: number, producer: number): number[] {
    const index = this.index;
    const users = index.usersOf(artifact);
    const from = producer >= 0 ? lowerBound(index, users, index.timeOf(producer)) : 0;
    const bound: number[] = [];
    for (let i = from; i < users.length; i++) {
      const user = users[i]!;
      if (bindUse(index, user, artifact) === producer) bound.push(user);
    }
    return bound;
  }

  useStep(user: number, key: string, hop: number): boolean {
    if (!this.seenArtifacts.has(key)) return true; // the artifact was left out by the stop filter
    if (!this.seenPems.has(user)) {
      const stopped = this.stopsAtPem(user);
      if (stopped && !this.settings.includeStop) return true;
      if (!this.addDownstreamPem(user, hop + 1, stopped)) return false;
    }
    this.edges.push({ kind: 'used', from: key, to: pemKey(this.index.idOf(user)) });
    return true;
  }

  /**
   * Downstream, a PEM that will be expanded comes with the artifact versions it produced (at its
   * hop), in one piece: so a page cut by maxNodes is breadth first (never a hop-1 PEM without a
   * hop-0 version) and never splits a PEM from its versions. False when they do not fit, unless
   * the page is empty (one PEM's versions alone may exceed maxNodes).
   */
  addDownstreamPem(slot: number, hop: number, stopped: boolean, force = false): boolean {
    const index = this.index;
    const expands = !stopped && hop < this.settings.limit && index.isLoaded(slot);
    const versions: Array<{ key: string; name: string; stopped: boolean }> = [];
    if (expands && this.settings.viaArtifacts) {
      const id = index.idOf(slot);
      const done = new Set<number>();
      for (let p = 0; p < index.producesCount(slot); p++) {
        const artifact = index.produceAt(slot, p);
        if (done.has(artifact)) continue;
        done.add(artifact);
        const name = index.artifactName(artifact);
        const key = artifactKey(name, id);
        const artifactStopped = this.settings.stopArtifact(name);
        if (this.seenArtifacts.has(key) || (artifactStopped && !this.settings.includeStop)) continue;
        versions.push({ key, name, stopped: artifactStopped });
      }
    }
    if (!force && this.nodes.length > 0 && this.nodes.length + 1 + versions.length > this.settings.maxNodes) return false;
    this.addPem(slot, hop, stopped);
    const id = index.idOf(slot);
    for (const version of versions) {
      this.addArtifact(version.key, version.name, id, hop, version.stopped);
      this.edges.push({ kind: 'produced', from: pemKey(id), to: version.key });
    }
    if (!stopped) this.queue.push([slot, hop, 0]);
    return true;
  }

  run(): void {
    while (this.queue.length) {
      const [slot, hop, offset] = this.queue[0]!;
      if (this.settings.signal?.aborted) {
        this.truncated = 'aborted';
        return;
      }
      if (hop >= this.settings.limit) {
        this.queue.shift();
        if (this.hasNeighbours(slot)) this.pendingHops.push([slot, hop, 0]);
        continue;
      }
      const stoppedAt = this.expand(slot, hop, offset);
      if (stoppedAt >= 0) {
        this.queue[0] = [slot, hop, stoppedAt];
        this.truncated = 'maxNodes';
        return;
      }
      this.queue.shift();
    }
    if (this.pendingHops.length) this.truncated = 'maxHops';
  }

  hasNeighbours(slot: number): boolean {
    const index = this.index;
    if (this.settings.direction === 'upstream') {
      return (this.settings.viaPredecessor && index.predecessorOf(slot) >= 0) || (this.settings.viaArtifacts && index.usesCount(slot) > 0);
    }
    return (this.settings.viaPredecessor && index.childrenOf(slot).length > 0) || (this.settings.viaArtifacts && index.producesCount(slot) > 0);
  }
}

function settingsFrom(direction: 'upstream' | 'downstream', options: WalkOptions, operation: string, base = 0): Settings & { maxHops: number } {
  if (options === null || typeof options !== 'object') throw new RKInvalidInputError(operation, 'options', 'must be an object like { maxHops: 5 }');
  const maxHops = options.maxHops ?? DEFAULT_MAX_HOPS;
  if (!(Number.isInteger(maxHops) && maxHops >= 0) && maxHops !== Infinity) throw new RKInvalidInputError(operation, 'maxHops', `must be a whole number from 0 (or Infinity), got ${String(maxHops)}`);
  const maxNodes = options.maxNodes ?? DEFAULT_MAX_NODES;
  if (!(Number.isInteger(maxNodes) && maxNodes >= 1) && maxNodes !== Infinity) throw new RKInvalidInputError(operation, 'maxNodes', `must be a whole number from 1, got ${String(maxNodes)}`);
  const via = options.via ?? ['artifacts', 'predecessor'];
  if (!Array.isArray(via) || via.some((v) => v !== 'artifacts' && v !== 'predecessor')) {
    throw new RKInvalidInputError(operation, 'via', `must list "artifacts" and/or "predecessor", got ${JSON.stringify(via)}`);
  }
  const stop = options.stop;
  if (stop !== undefined && (stop === null || typeof stop !== 'object')) throw new RKInvalidInputError(operation, 'stop', 'must be an object like { type: "ingest" }');
  return {
    direction,
    maxHops,
    limit: base + maxHops,
    maxNodes,
    viaArtifacts: via.includes('artifacts'),
    viaPredecessor: via.includes('predecessor'),
    stopType: matcher(operation, 'stop.type', stop?.type),
    stopEmitter: matcher(operation, 'stop.emitter', stop?.emitter),
    stopArtifact: matcher(operation, 'stop.artifact', stop?.artifact),
    includeStop: options.includeStop ?? true,
    signal: options.signal,
  };
}

function begin(index: LineageIndex, direction: 'upstream' | 'downstream', start: LineageStart, options: WalkOptions): LineageResult {
  const operation = direction === 'upstream' ? 'Walking upstream' : 'Walking downstream';
  const settings = settingsFrom(direction, options, operation);
  const resolved = resolveStart(index, start, operation);
  const walk = new Walk(index, settings);
  let startKey: string;
  if (resolved.kind === 'pem') {
    if (direction === 'downstream') walk.addDownstreamPem(resolved.slot, 0, false, true);
    else {
      walk.addPem(resolved.slot, 0);
      walk.queue.push([resolved.slot, 0, 0]);
    }
    startKey = pemKey(index.idOf(resolved.slot));
  } else {
    const name = index.artifactName(resolved.artifact);
    const producerId = resolved.producer >= 0 ? index.idOf(resolved.producer) : null;
    startKey = artifactKey(name, producerId);
    walk.addArtifact(startKey, name, producerId, 0);
    if (direction === 'upstream' && resolved.producer >= 0) {
      walk.addPem(resolved.producer, 0);
      walk.edges.push({ kind: 'produced', from: pemKey(producerId!), to: startKey });
      walk.queue.push([resolved.producer, 0, 0]);
    } else if (direction === 'downstream') {
      // The users bound to this version are one hop away from the artifact (hop 0).
      for (const user of walk.boundUsers(resolved.artifact, resolved.producer)) {
        if (!walk.useStep(user, startKey, 0)) {
          walk.truncated = 'maxNodes';
          break;
        }
      }
    }
  }
  if (!walk.truncated) walk.run();
  return finish(walk, startKey, settings, options);
}

function finish(walk: Walk, startKey: string, settings: Settings & { maxHops: number }, options: WalkOptions): LineageResult {
  const index = walk.index;
  let truncated: Truncation | null = null;
  let cursor: string | null = null;
  if (walk.truncated) {
    const frontier = walk.truncated === 'maxHops' ? walk.pendingHops : [...walk.queue, ...walk.pendingHops];
    truncated = { reason: walk.truncated, pending: [...new Set(frontier.map(([slot]) => index.idOf(slot)))] };
    const state: CursorState = {
      v: 1,
      d: settings.direction,
      start: startKey,
      via: [...(settings.viaArtifacts ? (['artifacts'] as const) : []), ...(settings.viaPredecessor ? (['predecessor'] as const) : [])],
      includeStop: settings.includeStop,
      maxHops: settings.maxHops,
      // After a maxHops cut the next page goes maxHops further; otherwise the same limit holds.
      limit: walk.truncated === 'maxHops' ? settings.limit + settings.maxHops : settings.limit,
      frontier: frontier.map(([slot, hop, offset]) => [index.idOf(slot), hop, offset]),
      pems: [...walk.seenPems].map((slot) => index.idOf(slot)),
      hops: [...walk.seenPems].map((slot) => walk.pemHops.get(slot) ?? 0),
      artifacts: [...walk.seenArtifacts],
    };
    const stop = stopToJson(options.stop);
    if (stop) state.stop = stop;
    cursor = toBase64Url(JSON.stringify(state));
  }
  return { direction: settings.direction, start: startKey, nodes: walk.nodes, edges: walk.edges, gaps: dedupeGaps(walk.gaps), truncated, cursor };
}

function stopToJson(stop: StopFilter | undefined): CursorState['stop'] | undefined {
  if (!stop) return undefined;
  const out: NonNullable<CursorState['stop']> = {};
  for (const key of ['type', 'emitter', 'artifact'] as const) {
    const value = stop[key];
    if (value === undefined) continue;
    const list = Array.isArray(value) ? value : [value as NamePattern];
    // RegExps travel as their source text between slashes.
    out[key] = list.map((p) => (p instanceof RegExp ? `/${p.source}/${p.flags}` : `=${p}`));
  }
  return out;
}

function stopFromJson(stop: CursorState['stop']): StopFilter | undefined {
  if (!stop) return undefined;
  const out: StopFilter = {};
  for (const key of ['type', 'emitter', 'artifact'] as const) {
    const list = stop[key];
    if (!list) continue;
    out[key] = list.map((p) => {
      if (p.startsWith('=')) return p.slice(1);
      const end = p.lastIndexOf('/');
      return new RegExp(p.slice(1, end), p.slice(end + 1));
    });
  }
  return out;
}

function dedupeGaps(gaps: LineageGap[]): LineageGap[] {
  const seen = new Set<string>();
  return gaps.filter((gap) => {
    const key = JSON.stringify(gap);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Everything upstream of `start`: what it used, who produced that, what those used, ... */
export function walkUpstream(index: LineageIndex, start: LineageStart, options: WalkOptions = {}): LineageResult {
  return begin(index, 'upstream', start, options);
}

/** Everything downstream of `start`: who used what it produced, who followed it, ... */
export function walkDownstream(index: LineageIndex, start: LineageStart, options: WalkOptions = {}): LineageResult {
  return begin(index, 'downstream', start, options);
}

/**
 * The next page of a truncated walk: only nodes not in earlier pages, with the same direction,
 * `via` and stop filter. `maxNodes` and `signal` may be given anew; `maxHops` counts from the
 * hop where the previous page stopped.
 */
export function resumeWalk(index: LineageIndex, cursor: string, options: Pick<WalkOptions, 'maxNodes' | 'maxHops' | 'signal'> = {}): LineageResult {
  const operation = 'Resuming walk';
  let state: CursorState;
  try {
    state = JSON.parse(fromBase64Url(String(cursor))) as CursorState;
    if (state.v !== 1 || !Array.isArray(state.frontier)) throw new Error('not a cursor');
  } catch {
    throw new RKInvalidInputError(operation, 'cursor', 'is not a cursor from a lineage result');
  }
  const base = Math.min(...state.frontier.map(([, hop]) => hop));
  const walkOptions: WalkOptions = { via: state.via, includeStop: state.includeStop, maxHops: state.maxHops, ...options };
  const stop = stopFromJson(state.stop);
  if (stop) walkOptions.stop = stop;
  const settings = settingsFrom(state.d, walkOptions, operation, 0);
  settings.limit = options.maxHops === undefined ? state.limit : base + options.maxHops;
  const walk = new Walk(index, settings);
  state.pems.forEach((id, i) => {
    const slot = index.slotOf(id);
    if (slot < 0) return;
    walk.seenPems.add(slot);
    const hop = state.hops?.[i];
    if (typeof hop === 'number') walk.pemHops.set(slot, hop);
  });
  for (const key of state.artifacts) walk.seenArtifacts.add(key);
  for (const [id, hop, offset] of state.frontier) {
    const slot = index.slotOf(id);
    if (slot >= 0) walk.queue.push([slot, hop, offset]);
  }
  walk.run();
  return finish(walk, state.start, settings, walkOptions);
}

/** A cursor is URL-safe text; web APIs, not Buffer, so a walk resumes in a browser too. */
function toBase64Url(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(cursor: string): string {
  const binary = atob(cursor.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}
