import { RKInvalidInputError, type TagRecord } from '../public.js';
import { FlagColumn, FloatColumn, IntColumn, IntPool, Interner } from './columns.js';
import { formatSeconds, wireSeconds } from './time.js';

/**
 * The in-memory lineage index: every PEM loaded so far, in columns. A PEM is a *slot* (a small
 * integer); a PEM that is only named as someone's Predecessor gets a slot too, marked not loaded,
 * and is filled in if it arrives later. Artifacts are interned names; for each name the index
 * keeps its producers and its users sorted by TimestampClient, which is what time-correct binding
 * (binding.ts) searches. Nothing here talks to a network: RKLineage fills it, the pure functions
 * read it.
 */

/** A PEM as the index accepts it: a Query service PEM, or a payload with artifact objects. */
export interface LineagePemInput {
  ID: string;
  Type: string;
  Predecessor?: string | null;
  Emitter: string;
  TimestampClient: string;
  /** The Receiver's time of storage: the refresh watermark (loader.ts), and out-of-order tag arrivals (tags.ts). */
  TimestampReceived?: string;
  Tag?: string;
  TagNamespace?: string;
  UsesArtifacts?: ReadonlyArray<string | { Name: string }>;
  ProducesArtifacts?: ReadonlyArray<string | { Name: string }>;
}

/** One PEM read back from the index. */
export interface IndexedPem {
  id: string;
  type: string;
  emitter: string;
  /** TimestampClient, wire text. */
  time: string;
  /** TimestampReceived, wire text, when the source gave it. */
  received: string | null;
  predecessor: string | null;
  tag: string;
  tagNamespace: string;
  uses: string[];
  produces: string[];
}

/** A tag move the client knows of beside the PEMs: from `/tags` or recorded after setTag. */
export interface KnownTagMove {
  namespace: string;
  tag: string;
  pem: string;
  /** Seconds since the epoch. */
  at: number;
  basis: 'tags' | 'recorded';
}

/** Size of a LineageIndex: PEMs, missing predecessors, artifacts and column bytes. */
export interface IndexStats {
  /** PEMs loaded. */
  pems: number;
  /** PEM IDs referred to as a Predecessor but not loaded. */
  missingPredecessors: number;
  artifacts: number;
  /** Bytes held by the typed-array columns and pools (strings, maps and lists come on top). */
  columnBytes: number;
}

const OPERATION = 'Indexing PEM';

/** The in-memory lineage index: loaded PEMs in columns, one slot per PEM, with artifact producers and users sorted by time. */
export class LineageIndex {
  readonly #ids = new Interner();
  readonly #strings = new Interner();
  readonly #artifacts = new Interner();
  readonly #type = new IntColumn();
  readonly #emitter = new IntColumn();
  readonly #tag = new IntColumn();
  readonly #namespace = new IntColumn();
  readonly #predecessor = new IntColumn();
  readonly #linkStart = new IntColumn(0);
  readonly #usesCount = new IntColumn(0);
  readonly #producesCount = new IntColumn(0);
  readonly #time = new FloatColumn();
  readonly #received = new FloatColumn();
  readonly #loaded = new FlagColumn();
  readonly #firstChild = new IntColumn();
  readonly #nextSibling = new IntColumn();
  readonly #links = new IntPool();
  /** By artifact: producing slots sorted by time (arrival order within one second). */
  readonly #producers: number[][] = [];
  /** By artifact: using slots sorted by time. */
  readonly #users: number[][] = [];
  /** By `namespace\0tag`: the slots of PEMs that carried the tag, in arrival order. */
  readonly #tagCarriers = new Map<string, number[]>();
  #knownMoves: KnownTagMove[] = [];
  #tagsRead = false;
  #count = 0;
  #maxReceived = Number.NaN;
  #version = 0;

  /** Adds a PEM; false when one with this ID is already loaded (PEMs never change once stored). */
  add(pem: LineagePemInput): boolean {
    const id = pem?.ID;
    if (typeof id !== 'string' || id === '') throw new RKInvalidInputError(OPERATION, 'pem.ID', `must be a PEM ID, got ${JSON.stringify(id)}`);
    const time = typeof pem.TimestampClient === 'string' ? wireSeconds(pem.TimestampClient) : Number.NaN;
    if (Number.isNaN(time)) {
      throw new RKInvalidInputError(OPERATION, `pem.TimestampClient of ${id}`, `must be "YYYY-MM-DD HH:MM:SS" (UTC), got ${JSON.stringify(pem.TimestampClient)}`);
    }
    if (typeof pem.Type !== 'string' || typeof pem.Emitter !== 'string') {
      throw new RKInvalidInputError(OPERATION, `pem ${id}`, 'needs a Type and an Emitter (strings)');
    }
    const slot = this.#ids.intern(id);
    if (this.#loaded.get(slot)) return false;
    const received = typeof pem.TimestampReceived === 'string' ? wireSeconds(pem.TimestampReceived) : Number.NaN;
    this.#loaded.set(slot, 1);
    this.#count++;
    this.#version++;
    this.#type.set(slot, this.#strings.intern(pem.Type));
    this.#emitter.set(slot, this.#strings.intern(pem.Emitter));
    const tag = pem.Tag ?? '';
    const namespace = pem.TagNamespace ?? '';
    this.#tag.set(slot, this.#strings.intern(tag));
    this.#namespace.set(slot, this.#strings.intern(namespace));
    this.#time.set(slot, time);
    this.#received.set(slot, received);
    if (!Number.isNaN(received) && !(received <= this.#maxReceived)) this.#maxReceived = received;
    if (pem.Predecessor) {
      const parent = this.#ids.intern(pem.Predecessor);
      this.#predecessor.set(slot, parent);
      this.#nextSibling.set(slot, this.#firstChild.get(parent));
      this.#firstChild.set(parent, slot);
    }
    this.#linkStart.set(slot, this.#links.length);
    const uses = names(pem.UsesArtifacts);
    const produces = names(pem.ProducesArtifacts);
    for (const name of uses) {
      const artifact = this.#artifact(name);
      this.#links.push(artifact);
      insertByTime(this.#users[artifact]!, slot, this.#time.data, this.#ids);
    }
    const producedHere = new Set<number>();
    for (const name of produces) {
      const artifact = this.#artifact(name);
      this.#links.push(artifact);
      // produces_artifact does not deduplicate; one PEM is one producer of a name.
      if (producedHere.has(artifact)) continue;
      producedHere.add(artifact);
      insertByTime(this.#producers[artifact]!, slot, this.#time.data, this.#ids);
    }
    this.#usesCount.set(slot, uses.length);
    this.#producesCount.set(slot, produces.length);
    if (tag !== '' && namespace !== '') {
      const key = `${namespace}\u0000${tag}`;
      const carriers = this.#tagCarriers.get(key);
      if (carriers) carriers.push(slot);
      else this.#tagCarriers.set(key, [slot]);
    }
    return true;
  }

  /** Adds each PEM not yet loaded; returns how many were new. */
  addAll(pems: Iterable<LineagePemInput>): number {
    let added = 0;
    for (const pem of pems) if (this.add(pem)) added++;
    return added;
  }

  /** The current tags as `/tags` lists them (replacing an earlier reading). */
  setCurrentTags(records: readonly TagRecord[]): void {
    this.#knownMoves = this.#knownMoves.filter((move) => move.basis !== 'tags');
    for (const record of records) {
      const at = wireSeconds(record.UpdatedAt);
      this.#knownMoves.push({ namespace: record.NamespaceID, tag: record.Tag, pem: record.EventID, at: Number.isNaN(at) ? 0 : at, basis: 'tags' });
    }
    this.#tagsRead = true;
    this.#version++;
  }

  /** A tag move this client made (the TagRecord `setTag` resolved with). */
  recordTagMove(record: TagRecord): void {
    const at = wireSeconds(record.UpdatedAt);
    if (Number.isNaN(at)) throw new RKInvalidInputError('Recording tag move', 'record.UpdatedAt', `must be "YYYY-MM-DD HH:MM:SS", got ${JSON.stringify(record.UpdatedAt)}`);
    this.#knownMoves.push({ namespace: record.NamespaceID, tag: record.Tag, pem: record.EventID, at, basis: 'recorded' });
    this.#version++;
  }

  // ---- reading by ID -------------------------------------------------------------------------

  /** How many PEMs are loaded (not counting predecessors only named). */
  get size(): number {
    return this.#count;
  }

  #cache: Map<string, unknown> = new Map();
  #cacheVersion = -1;
  /** A scratch map for binding.ts, emptied whenever the index changes. */
  bindingCache<T>(): Map<string, T> {
    if (this.#cacheVersion !== this.#version) {
      this.#cache = new Map();
      this.#cacheVersion = this.#version;
    }
    return this.#cache as Map<string, T>;
  }

  /** Changes on every add and tag update (lets callers cache answers). */
  get version(): number {
    return this.#version;
  }

  /** The latest TimestampReceived seen, wire text, or null. */
  get maxReceived(): string | null {
    return formatSeconds(this.#maxReceived);
  }

  /** Whether `/tags` has been read into the index (otherwise setTag moves are unknown). */
  get tagsRead(): boolean {
    return this.#tagsRead;
  }

  /** Whether the PEM with this ID is loaded (not just named as a Predecessor). */
  has(id: string): boolean {
    const slot = this.#ids.find(id);
    return slot >= 0 && this.#loaded.get(slot) === 1;
  }

  /** The loaded PEM with this ID, or undefined. */
  pem(id: string): IndexedPem | undefined {
    const slot = this.#ids.find(id);
    return slot >= 0 && this.isLoaded(slot) ? this.describe(slot) : undefined;
  }

  /** Whether some PEM used or produced an artifact with this Name. */
  hasArtifact(name: string): boolean {
    return this.#artifacts.find(name) >= 0;
  }

  /** Every artifact name, in first-seen order. */
  artifactNames(): string[] {
    const list: string[] = [];
    for (let a = 0; a < this.#artifacts.size; a++) list.push(this.#artifacts.value(a));
    return list;
  }

  /** The IDs of the loaded PEMs, in load order. */
  *pemIds(): IterableIterator<string> {
    for (let slot = 0; slot < this.#ids.size; slot++) if (this.isLoaded(slot)) yield this.#ids.value(slot);
  }

  /** How many PEMs and artifacts the index holds, and the bytes its columns take. */
  stats(): IndexStats {
    let columnBytes = this.#links.bytes;
    for (const column of [this.#type, this.#emitter, this.#tag, this.#namespace, this.#predecessor, this.#linkStart, this.#usesCount, this.#producesCount, this.#time, this.#received, this.#loaded, this.#firstChild, this.#nextSibling]) {
      columnBytes += column.bytes;
    }
    return { pems: this.#count, missingPredecessors: this.#ids.size - this.#count, artifacts: this.#artifacts.size, columnBytes };
  }

  // ---- slot-level reads for the walks (fast, allocation-free) --------------------------------

  /** Slot of the PEM ID (loaded or only named as a Predecessor), or -1. */
  slotOf(id: string): number {
    return this.#ids.find(id);
  }
  /** PEM ID of the slot. */
  idOf(slot: number): string {
    return this.#ids.value(slot);
  }
  /** Whether the slot's PEM is loaded, not only named as a Predecessor. */
  isLoaded(slot: number): boolean {
    return this.#loaded.get(slot) === 1;
  }
  /** TimestampClient of the slot's PEM, in seconds since the epoch. */
  timeOf(slot: number): number {
    return this.#time.get(slot);
  }
  /** TimestampReceived of the slot's PEM, in seconds since the epoch (NaN when the source did not give it). */
  receivedOf(slot: number): number {
    return this.#received.get(slot);
  }
  /** Type of the slot's PEM; empty when it is not loaded. */
  typeOf(slot: number): string {
    return this.isLoaded(slot) ? this.#strings.value(this.#type.get(slot)) : '';
  }
  /** Emitter of the slot's PEM; empty when it is not loaded. */
  emitterOf(slot: number): string {
    return this.isLoaded(slot) ? this.#strings.value(this.#emitter.get(slot)) : '';
  }
  /** Slot of the PEM's Predecessor, or -1 for none. */
  predecessorOf(slot: number): number {
    return this.#predecessor.get(slot);
  }
  /** The PEMs whose Predecessor is `slot`, by TimestampClient then ID (whatever order they arrived in). */
  childrenOf(slot: number): number[] {
    const list: number[] = [];
    for (let c = this.#firstChild.get(slot); c >= 0; c = this.#nextSibling.get(c)) list.push(c);
    if (list.length > 1) list.sort((a, b) => this.timeOf(a) - this.timeOf(b) || (this.idOf(a) < this.idOf(b) ? -1 : 1));
    return list;
  }
  /** How many artifacts the slot's PEM uses. */
  usesCount(slot: number): number {
    return this.#usesCount.get(slot);
  }
  /** Artifact number of the slot's i-th used artifact. */
  useAt(slot: number, i: number): number {
    return this.#links.data[this.#linkStart.get(slot) + i]!;
  }
  /** How many artifacts the slot's PEM produces. */
  producesCount(slot: number): number {
    return this.#producesCount.get(slot);
  }
  /** Artifact number of the slot's i-th produced artifact. */
  produceAt(slot: number, i: number): number {
    return this.#links.data[this.#linkStart.get(slot) + this.#usesCount.get(slot) + i]!;
  }
  /** Artifact number of the Name, or -1 when no PEM names it. */
  artifactId(name: string): number {
    return this.#artifacts.find(name);
  }
  /** Name of the artifact number. */
  artifactName(artifact: number): string {
    return this.#artifacts.value(artifact);
  }
  /** How many distinct artifact Names the index holds. */
  get artifactCount(): number {
    return this.#artifacts.size;
  }
  /** Producing slots of an artifact, sorted by time. Do not modify. */
  producersOf(artifact: number): readonly number[] {
    return this.#producers[artifact] ?? [];
  }
  /** Using slots of an artifact, sorted by time. Do not modify. */
  usersOf(artifact: number): readonly number[] {
    return this.#users[artifact] ?? [];
  }
  /** Slots of the PEMs that carried this tag, in arrival order. */
  tagCarriers(namespace: string, tag: string): readonly number[] {
    return this.#tagCarriers.get(`${namespace}\u0000${tag}`) ?? [];
  }
  /** Every `[namespace, tag]` some PEM carried or a known move names. */
  tagKeys(): Array<[string, string]> {
    const keys = new Set(this.#tagCarriers.keys());
    for (const move of this.#knownMoves) keys.add(`${move.namespace}\u0000${move.tag}`);
    return [...keys].map((key) => key.split('\u0000') as [string, string]);
  }
  /** Every tag move known beside the PEMs (all tags). Do not modify. */
  allKnownTagMoves(): readonly KnownTagMove[] {
    return this.#knownMoves;
  }
  /** Moves of the tag known beside the PEMs: read from `/tags` or recorded after setTag. */
  knownTagMoves(namespace: string, tag: string): KnownTagMove[] {
    return this.#knownMoves.filter((move) => move.namespace === namespace && move.tag === tag);
  }

  /** The slot's PEM read back as IDs, wire times and artifact Names. */
  describe(slot: number): IndexedPem {
    const uses: string[] = [];
    const produces: string[] = [];
    for (let i = 0; i < this.usesCount(slot); i++) uses.push(this.#artifacts.value(this.useAt(slot, i)));
    for (let i = 0; i < this.producesCount(slot); i++) produces.push(this.#artifacts.value(this.produceAt(slot, i)));
    const predecessor = this.#predecessor.get(slot);
    return {
      id: this.#ids.value(slot),
      type: this.typeOf(slot),
      emitter: this.emitterOf(slot),
      time: formatSeconds(this.#time.get(slot)) ?? '',
      received: formatSeconds(this.#received.get(slot)),
      predecessor: predecessor >= 0 ? this.#ids.value(predecessor) : null,
      tag: this.#strings.value(this.#tag.get(slot)),
      tagNamespace: this.#strings.value(this.#namespace.get(slot)),
      uses,
      produces,
    };
  }

  #artifact(name: string): number {
    if (typeof name !== 'string') throw new RKInvalidInputError(OPERATION, 'artifact', `names must be strings, got ${JSON.stringify(name)}`);
    const artifact = this.#artifacts.intern(name);
    if (artifact === this.#producers.length) {
      this.#producers.push([]);
      this.#users.push([]);
    }
    return artifact;
  }
}

function names(list: LineagePemInput['UsesArtifacts']): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((item) => (typeof item === 'string' ? item : (item as { Name: string }).Name));
}

/**
 * Inserts `slot` keeping `list` sorted by time, then ID: an order that does not depend on the
 * order PEMs arrived in, so every engine (and every load order) lists them alike.
 */
function insertByTime(list: number[], slot: number, times: Float64Array, ids: Interner): void {
  const t = times[slot]!;
  const id = ids.value(slot);
  const before = (other: number) => {
    const time = times[other]!;
    return time < t || (time === t && ids.value(other) <= id);
  };
  let i = list.length;
  if (i === 0 || before(list[i - 1]!)) {
    list.push(slot);
    return;
  }
  let lo = 0;
  while (lo < i) {
    const mid = (lo + i) >>> 1;
    if (before(list[mid]!)) lo = mid + 1;
    else i = mid;
  }
  list.splice(lo, 0, slot);
}

