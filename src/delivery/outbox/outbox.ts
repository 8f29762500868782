import { RKError, RKInvalidInputError, RKPemTooLargeError, RKQueueFullError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Result } from '../../core/result.js';
import type { ReceiverAck } from '../../core/replies.js';
import type { Clock } from '../../resilience/clock.js';
import { Drainer } from './drainer.js';
import { retryDelay } from '../../resilience/backoff.js';
import type { DeliveryEmitter, DropReason, Notifier } from '../events.js';
import type { Limiter } from '../../resilience/limiter.js';
import { OutboxStore, idOfName, type DeadLetter, type StoredEntry } from './store.js';
import { whole } from '../../core/retry-policy.js';
import type { Tally } from '../tally.js';
import { resolve } from 'node:path';

/** The durable outbox (opt-in). Bounds are checked when a PEM arrives. */
export interface OutboxOptions {
  /** The folder; created when missing. One drainer per folder, however many clients use it. */
  dir: string;
  /** Most entries held. Default 100 000. */
  maxEntries?: number;
  /** Most bytes held. Default 256 MiB. */
  maxBytes?: number;
  /** Entries older than this move to dead/ (reason `expired`) instead of being sent. Default 7 days. */
  maxAgeMs?: number;
  /** When full: refuse the new PEM (`reject`, default) or drop the oldest entries to make room (`drop-oldest`, counted and reported). */
  onFull?: 'reject' | 'drop-oldest';
  /** Requests the drainer keeps in flight. Default 4. */
  concurrency?: number;
  /** The drainer's longest wait between probes while the Receiver is down. Default 300 000 (5 minutes). */
  maxBackoffMs?: number;
  /** How often an idle drainer looks for entries written by other processes. Default 1000. */
  pollIntervalMs?: number;
  /** fsync each entry and the folder before resolving. Default true; false survives a process crash but not a power loss. */
  fsync?: boolean;
  /** A lock held from another host counts as abandoned after this long without a heartbeat. Default 60 000. */
  lockStaleMs?: number;
}

export interface ResolvedOutboxOptions {
  dir: string;
  maxEntries: number;
  maxBytes: number;
  maxAgeMs: number;
  onFull: 'reject' | 'drop-oldest';
  concurrency: number;
  maxBackoffMs: number;
  pollIntervalMs: number;
  fsync: boolean;
  lockStaleMs: number;
  /** The drainer's first backoff (the client's retry.baseDelayMs). */
  baseDelayMs: number;
}

export interface OutboxStats {
  dir: string;
  /** Entries waiting (as far as this client knows; other clients may add or remove some). */
  entries: number;
  bytes: number;
  /** Dead letters in dead/. */
  dead: number;
  /** This client holds the folder's lock and drains it. */
  draining: boolean;
  /** Why draining is paused (401 / 403), if it is. */
  paused: string | undefined;
  /** ms until the drainer's next probe while the Receiver is failing. */
  backoffMs: number;
  consecutiveFailures: number;
}

/** What users may do with an outbox: look at dead letters, send them again, delete them, resume. */
export interface OutboxControl {
  readonly dir: string;
  /** PEMs the outbox gave up on (rejected, too large, corrupt, expired), with the reason. */
  deadLetters(): Promise<DeadLetter[]>;
  /** Moves dead letters (all, or the named files) back into the outbox to be sent again; resolves with how many. */
  replay(files?: readonly string[]): Promise<number>;
  /** Deletes dead letters (all, or the named files); resolves with how many. */
  purge(files?: readonly string[]): Promise<number>;
  /** Continues draining after a 401 / 403 pause. */
  resume(): void;
  /** Entries in the folder now (every client's). */
  size(): Promise<number>;
}

export const OUTBOX_DEFAULTS = Object.freeze({
  maxEntries: 100_000,
  maxBytes: 256 * 1024 * 1024,
  maxAgeMs: 7 * 24 * 60 * 60 * 1000,
  onFull: 'reject' as const,
  concurrency: 4,
  maxBackoffMs: 300_000,
  pollIntervalMs: 1_000,
  fsync: true,
  lockStaleMs: 60_000,
});

export function resolveOutboxOptions(operation: string, options: OutboxOptions, baseDelayMs: number): ResolvedOutboxOptions {
  if (typeof options !== 'object' || options === null || typeof options.dir !== 'string' || options.dir.trim() === '') {
    throw new RKInvalidInputError(operation, 'outbox.dir', 'must be a folder path, for example { dir: "./rk-outbox" }');
  }
  const onFull = options.onFull ?? OUTBOX_DEFAULTS.onFull;
  if (onFull !== 'reject' && onFull !== 'drop-oldest') {
    throw new RKInvalidInputError(operation, 'outbox.onFull', `must be "reject" or "drop-oldest", got ${JSON.stringify(onFull)}`);
  }
  const n = (name: keyof typeof OUTBOX_DEFAULTS, min: number, max: number) =>
    whole(operation, `outbox.${name}`, options[name as keyof OutboxOptions] ?? OUTBOX_DEFAULTS[name], min, max);
  return {
    dir: resolve(options.dir),
    maxEntries: n('maxEntries', 1, 1e9),
    maxBytes: n('maxBytes', 1, Number.MAX_SAFE_INTEGER),
    maxAgeMs: n('maxAgeMs', 1, Number.MAX_SAFE_INTEGER),
    onFull,
    concurrency: n('concurrency', 1, 64),
    maxBackoffMs: n('maxBackoffMs', 1, 2 ** 31 - 1),
    pollIntervalMs: n('pollIntervalMs', 1, 2 ** 31 - 1),
    fsync: options.fsync ?? OUTBOX_DEFAULTS.fsync,
    lockStaleMs: n('lockStaleMs', 1000, 2 ** 31 - 1),
    baseDelayMs,
  };
}

export interface OutboxDeps {
  operation: string;
  /** Where PEMs go (`<receiver>/pem`, without credentials), for messages. */
  pemUrl: string;
  clock: Clock;
  random: () => number;
  logger: Logger;
  limiter: Limiter;
  emitter: DeliveryEmitter;
  tally: Tally;
  /** Wakes flush() whenever an entry leaves the outbox. */
  changed: Notifier;
  /** One POST /pem with the exact body, under the attempt timeout and these signals. */
  post: (body: string, id: string, attempt: number, signals: readonly AbortSignal[]) => Promise<Result<ReceiverAck>>;
}

/** Header line plus a little: what an entry costs on disk beyond its body. */
const ENTRY_OVERHEAD = 100;

/**
 * The outbox of one client: the files (OutboxStore), its bounds, the entries this process is
 * sending right now (`claimed`, so the drainer and a send's first attempt never race on one file),
 * and the drainer.
 */
export class Outbox implements OutboxControl {
  readonly dir: string;
  readonly options: ResolvedOutboxOptions;
  readonly store: OutboxStore;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
  readonly limiter: Limiter;
  readonly emitter: DeliveryEmitter;
  readonly post: OutboxDeps['post'];
  /** Entry names a request is in flight for, in this process. */
  readonly claimed = new Set<string>();
  /** Attempts made per entry in this process (sent as the attempt number). */
  readonly attempts = new Map<string, number>();
  /** Each entry's own backoff after transient failures, in this process. */
  readonly #backoff = new Map<string, { failures: number; retryAt: number }>();
  readonly pemUrl: string;
  readonly drainer: Drainer;
  readonly ready: Promise<void>;
  readonly #deps: OutboxDeps;
  /** Entries on disk as this client knows them: name -> bytes. */
  #known = new Map<string, number>();
  #knownBytes = 0;
  /** Listings in progress, each collecting the changes made while it runs (see #reconcile). */
  readonly #listings = new Set<{ added: Set<string>; removed: Set<string> }>();
  #writing = { entries: 0, bytes: 0 };
  #dead = 0;
  #syncWarned = false;

  constructor(options: ResolvedOutboxOptions, deps: OutboxDeps) {
    this.options = options;
    this.dir = options.dir;
    this.#deps = deps;
    this.clock = deps.clock;
    this.random = deps.random;
    this.logger = deps.logger;
    this.limiter = deps.limiter;
    this.emitter = deps.emitter;
    this.post = deps.post;
    this.pemUrl = deps.pemUrl;
    this.store = new OutboxStore(options.dir, {
      fsync: options.fsync,
      onSyncError: (error) => {
        if (this.#syncWarned) return;
        this.#syncWarned = true;
        this.logger.warn(`fsync of the outbox folder ${this.dir} failed (${String(error)}); entries are written but the folder may not be durable`);
      },
    });
    this.drainer = new Drainer(this);
    this.ready = this.#init();
  }

  async #init(): Promise<void> {
    await this.store.init();
    await this.rescan();
    this.#dead = await this.store.deadCount();
    this.drainer.start();
  }

  /** After taking the lock: clean what a crash left behind, then every entry must verify. */
  async recover(): Promise<void> {
    const temps = await this.store.removeLeftoverTemps();
    if (temps) this.logger.debug?.(`removed ${temps} unfinished outbox writes in ${this.dir}`);
    for (const name of await this.store.list()) {
      if (this.claimed.has(name)) continue;
      const read = await this.store.read(name);
      if (read.state === 'corrupt') await this.buryCorrupt(name, read.problem);
    }
    await this.rescan();
    this.#dead = await this.store.deadCount();
  }

  /** Recounts from the folder (other processes add and remove entries too). */
  rescan(): Promise<void> {
    return this.#reconcile(() => this.store.scan());
  }

  /**
   * Lists the folder for the drainer and brings the count up to date with it; entries another
   * process wrote are measured once.
   */
  async listForDrain(): Promise<string[]> {
    let names: string[] = [];
    await this.#reconcile(async () => {
      names = await this.store.list();
      const sizes = new Map<string, number>();
      for (const name of names) {
        const size = this.#known.get(name) ?? (await this.store.sizeOf(name));
        if (size !== undefined) sizes.set(name, size);
      }
      return sizes;
    });
    return names;
  }

  /**
   * Replaces what this client knows with a fresh listing, without losing the changes this client
   * made while the listing ran: an entry removed meanwhile stays removed, one written meanwhile
   * stays counted. (A plain assignment would resurrect a just-delivered entry in the count.)
   */
  async #reconcile(list: () => Promise<Map<string, number>>): Promise<void> {
    const changes = { added: new Set<string>(), removed: new Set<string>() };
    this.#listings.add(changes);
    let listed: Map<string, number>;
    try {
      listed = await list();
    } finally {
      this.#listings.delete(changes);
    }
    for (const name of changes.removed) listed.delete(name);
    for (const name of changes.added) {
      const bytes = this.#known.get(name);
      if (bytes !== undefined) listed.set(name, bytes);
    }
    this.#known = listed;
    this.#knownBytes = [...listed.values()].reduce((sum, bytes) => sum + bytes, 0);
  }

  #added(name: string, bytes: number): void {
    if (!this.#known.has(name)) this.#knownBytes += bytes;
    this.#known.set(name, bytes);
    for (const changes of this.#listings) {
      changes.added.add(name);
      changes.removed.delete(name);
    }
  }

  get healthy(): boolean {
    return this.drainer.healthy;
  }

  stats(): OutboxStats {
    return {
      dir: this.dir,
      entries: this.#known.size + this.#writing.entries,
      bytes: this.#knownBytes + this.#writing.bytes,
      dead: this.#dead,
      draining: this.drainer.holdsLock,
      paused: this.drainer.paused?.message,
      backoffMs: this.drainer.backoffMs,
      consecutiveFailures: this.drainer.consecutiveFailures,
    };
  }

  /** What this client believes is waiting (0 means: confirm with size()). */
  get knownEntries(): number {
    return this.#known.size + this.#writing.entries;
  }

  /**
   * Makes room for a PEM of `bodyBytes` or says why not. Room is reserved at once (no await between
   * the check and the reservation), so concurrent sends cannot overshoot the bounds.
   */
  async admit(bodyBytes: number): Promise<RKQueueFullError | (() => void)> {
    const cost = bodyBytes + ENTRY_OVERHEAD;
    if (this.#fits(cost)) return this.#reserve(cost);
    await this.rescan();
    if (this.#fits(cost)) return this.#reserve(cost);
    await this.#expireOld();
    if (this.#fits(cost)) return this.#reserve(cost);
    if (this.options.onFull === 'drop-oldest') {
      await this.#dropOldest(cost);
      if (this.#fits(cost)) return this.#reserve(cost);
    }
    const o = this.options;
    const limit = this.#known.size + this.#writing.entries + 1 > o.maxEntries ? `${o.maxEntries} PEMs` : `${o.maxBytes} bytes`;
    return new RKQueueFullError(this.#deps.operation, 'outbox', limit);
  }

  #fits(cost: number): boolean {
    const o = this.options;
    return (
      this.#known.size + this.#writing.entries + 1 <= o.maxEntries &&
      this.#knownBytes + this.#writing.bytes + cost <= o.maxBytes
    );
  }

  /** Returns the release of the reservation; `write` turns it into an entry on disk. */
  #reserve(cost: number): () => void {
    this.#writing.entries++;
    this.#writing.bytes += cost;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#writing.entries--;
      this.#writing.bytes -= cost;
    };
  }

  /**
   * Writes the PEM durably and returns it claimed: the name is claimed before the file exists, so
   * the drainer never picks up an entry whose first attempt is about to start. The caller
   * releases the claim. The reservation from admit is released either way.
   */
  async writeClaimed(id: string, body: string, reservation: () => void): Promise<{ name: string; bytes: number }> {
    const at = this.clock.now();
    const name = this.store.nameFor(id, at);
    this.claimed.add(name);
    try {
      const written = await this.store.write(name, body, at);
      this.#added(name, written.bytes);
      return written;
    } catch (error) {
      this.claimed.delete(name);
      throw error;
    } finally {
      reservation();
    }
  }

  async #expireOld(): Promise<void> {
    const now = this.clock.now();
    for (const name of await this.store.list()) {
      if (this.claimed.has(name)) continue;
      const read = await this.store.read(name);
      if (read.state !== 'ok') continue;
      if (now - read.entry.enqueuedAt <= this.options.maxAgeMs) break; // oldest first: the rest are younger
      await this.buryExpired(read.entry);
    }
  }

  async #dropOldest(cost: number): Promise<void> {
    for (const name of await this.store.list()) {
      if (this.#fits(cost)) return;
      if (this.claimed.has(name)) continue;
      const read = await this.store.read(name);
      if (!(await this.store.remove(name))) continue;
      this.#left(name);
      this.#deps.tally.drop('dropped_oldest');
      this.emitter.emit('drop', { ID: idOfName(name), reason: 'dropped_oldest', error: undefined });
      this.logger.warn(`the outbox is full: dropped its oldest entry ${name} to make room (onFull: 'drop-oldest')`);
    }
  }

  /** The Receiver acknowledged the entry: remove it, count it, tell listeners. */
  async acknowledged(entry: { name: string; ID: string; bytes: number }, ack: ReceiverAck, attempts: number, fromOutbox: boolean): Promise<void> {
    await this.store.remove(entry.name);
    this.#left(entry.name);
    const tally = this.#deps.tally;
    tally.delivered++;
    if (ack.status === 'duplicate') tally.duplicates++;
    this.emitter.emit('delivered', { ID: entry.ID, status: ack.status, attempts, fromOutbox });
    this.#deps.changed.notify();
  }

  async buryRejected(entry: { name: string; ID: string; bytes: number }, error: RKError & { status?: number }): Promise<void> {
    const reason: DropReason = error instanceof RKPemTooLargeError ? 'too_large' : 'rejected';
    await this.#bury(entry.name, entry.ID, reason, error.message, error.status, error);
  }

  async buryExpired(entry: StoredEntry): Promise<void> {
    const age = this.clock.now() - entry.enqueuedAt;
    await this.#bury(entry.name, entry.ID, 'expired', `waited ${age} ms, longer than outbox.maxAgeMs (${this.options.maxAgeMs})`, undefined, undefined);
  }

  async buryCorrupt(name: string, problem: string): Promise<void> {
    this.logger.warn(`outbox entry ${name} ${problem}; moved to ${this.store.deadDir}`);
    await this.#bury(name, idOfName(name), 'corrupt', `the file ${problem}`, undefined, undefined);
  }

  async #bury(
    name: string,
    id: string | undefined,
    reason: DropReason,
    message: string,
    status: number | undefined,
    error: RKError | undefined,
  ): Promise<void> {
    if (!(await this.store.bury(name, { reason, message, status }, this.clock.now()))) return;
    this.#left(name);
    this.#dead++;
    this.#deps.tally.drop(reason);
    this.logger.warn(`PEM ${id ?? '(no ID)'} moved to ${this.store.deadDir} as ${name} (${reason}): ${message}`);
    this.emitter.emit('drop', { ID: id, reason, error, file: name });
    this.#deps.changed.notify();
  }

  /** A transient failure of this entry: it waits out its own backoff before the drainer tries it again. */
  entryFailed(name: string, retryAfterMs: number | undefined): void {
    const failures = (this.#backoff.get(name)?.failures ?? 0) + 1;
    const o = this.options;
    const delay = retryDelay(failures, { baseDelayMs: o.baseDelayMs, maxDelayMs: o.maxBackoffMs, maxRetryAfterMs: o.maxBackoffMs }, this.random, retryAfterMs);
    this.#backoff.set(name, { failures, retryAt: this.clock.now() + delay });
  }

  /** When the entry may be tried again (0: now). */
  retryAt(name: string): number {
    return this.#backoff.get(name)?.retryAt ?? 0;
  }

  failuresOf(name: string): number {
    return this.#backoff.get(name)?.failures ?? 0;
  }

  /** The entry is no longer in the folder (delivered, buried, dropped, or gone to another client). */
  #left(name: string): void {
    this.attempts.delete(name);
    this.#backoff.delete(name);
    const bytes = this.#known.get(name);
    if (bytes !== undefined) {
      this.#known.delete(name);
      this.#knownBytes -= bytes;
    }
    for (const changes of this.#listings) {
      changes.removed.add(name);
      changes.added.delete(name);
    }
  }

  deadLetters(): Promise<DeadLetter[]> {
    return this.store.deadLetters();
  }

  async replay(files?: readonly string[]): Promise<number> {
    const replayed = await this.store.replay(files);
    this.#dead = Math.max(0, this.#dead - replayed.length);
    await this.rescan();
    this.drainer.nudge();
    return replayed.length;
  }

  async purge(files?: readonly string[]): Promise<number> {
    const purged = await this.store.purge(files);
    this.#dead = Math.max(0, this.#dead - purged);
    return purged;
  }

  resume(): void {
    this.drainer.resume();
  }

  async size(): Promise<number> {
    return (await this.store.list()).length;
  }

  async stop(): Promise<void> {
    await this.ready.catch(() => {});
    await this.drainer.stop();
  }
}
