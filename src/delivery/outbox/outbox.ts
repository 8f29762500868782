import { RKError, RKQueueFullError } from '../../core/errors.js';
import { RKPemTooLargeError } from '../../core/http-errors.js';
import type { Logger } from '../../core/logger.js';
import type { Result } from '../../core/result.js';
import type { ReceiverAck } from '../../core/replies.js';
import { retryDelay } from '../../resilience/backoff.js';
import type { Clock } from '../../resilience/clock.js';
import type { Limiter } from '../../resilience/limiter.js';
import type { DeliveryEmitter, DropReason, Notifier } from '../events.js';
import { classifyPemFailure } from '../pem-failures.js';
import type { Tally } from '../tally.js';
import { Drainer, type DeliveryOutcome } from './drainer.js';
import type { ResolvedOutboxOptions } from './options.js';
import { OutboxStore, idOfName, type DeadLetter, type StoredEntry } from './store.js';

/**
 * The durable outbox (opt-in): this folder owns the durable send end to end. A PEM is written
 * (fsync, atomic rename) before its first attempt, removed only when the Receiver acknowledges it,
 * and otherwise delivered later by the drainer, also after a crash or restart. Who may import:
 * delivery/delivery.ts only; the outbox imports core/, resilience/ and delivery's events, tally and
 * pem-failures, never the facade.
 */

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

export interface OutboxDeps {
  operation: string;
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

/** How a durable send ended for the caller of sendPem. */
export type DurableOutcome =
  | { state: 'delivered'; ack: ReceiverAck }
  | { state: 'persisted'; name: string }
  /** Refused by the Receiver (already buried and counted) or by the outbox's bounds (not yet counted). */
  | { state: 'refused'; error: RKError; counted: boolean };

/** An entry's own backoff doubles this many times at most (see #entryFailed), and may reach 1 s whatever the base. */
const ENTRY_BACKOFF_STEPS = 3;
const ENTRY_BACKOFF_FLOOR_MS = 1000;

/** Header line plus a little: what an entry costs on disk beyond its body. */
const ENTRY_OVERHEAD = 100;

/**
 * The outbox of one client: the files (OutboxStore), its bounds, the entries this process is
 * sending right now (claimed, so the drainer and a send's first attempt never race on one file),
 * each entry's backoff, the durable send and the settling of every delivery, and the drainer that
 * schedules them.
 */
export class Outbox implements OutboxControl {
  readonly dir: string;
  readonly options: ResolvedOutboxOptions;
  readonly store: OutboxStore;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
  readonly emitter: DeliveryEmitter;
  /** Entry names a request is in flight for, in this process. */
  readonly #claimed = new Set<string>();
  /** Attempts made per entry in this process (sent as the attempt number). */
  readonly #attempts = new Map<string, number>();
  /** Each entry's own backoff after transient failures, in this process. */
  readonly #backoff = new Map<string, { failures: number; retryAt: number }>();
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
    this.emitter = deps.emitter;
    this.store = new OutboxStore(options.dir, {
      fsync: options.fsync,
      onSyncError: (error) => {
        if (this.#syncWarned) return;
        this.#syncWarned = true;
        this.logger.warn(`fsync of the outbox folder ${this.dir} failed (${String(error)}); entries are written but the folder may not be durable`);
      },
    });
    this.drainer = new Drainer({
      dir: this.dir,
      options,
      clock: this.clock,
      random: this.random,
      logger: this.logger,
      emitter: this.emitter,
      recover: () => this.#recover(),
      list: () => this.#listForDrain(),
      retryAt: (name) => this.#backoff.get(name)?.retryAt ?? 0,
      failuresOf: (name) => this.#backoff.get(name)?.failures ?? 0,
      deliver: (name, stop) => this.#deliverEntry(name, stop),
    });
    this.ready = this.#init();
  }

  async #init(): Promise<void> {
    for (const { path, mode } of await this.store.init()) {
      this.logger.warn(
        `the outbox folder ${path} is open to other users (mode ${mode.toString(8).padStart(4, '0')}); its PEMs and dead-letter reasons may be sensitive: chmod 700 ${path}`,
      );
    }
    await this.rescan();
    this.#dead = await this.store.deadCount();
    this.drainer.start();
  }

  /** After taking the lock: clean what a crash left behind, then every entry must verify. */
  async #recover(): Promise<void> {
    const temps = await this.store.removeLeftoverTemps();
    if (temps) this.logger.debug?.(`removed ${temps} unfinished outbox writes in ${this.dir}`);
    for (const name of await this.store.list()) {
      if (this.#claimed.has(name)) continue;
      const read = await this.store.read(name);
      if (read.state === 'corrupt') await this.#buryCorrupt(name, read.problem);
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
  async #listForDrain(): Promise<string[]> {
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
    return names.filter((name) => !this.#claimed.has(name));
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
  async #admit(bodyBytes: number): Promise<RKQueueFullError | (() => void)> {
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
  async #writeClaimed(id: string, body: string, reservation: () => void): Promise<{ name: string; bytes: number }> {
    const at = this.clock.now();
    const name = this.store.nameFor(id, at);
    this.#claimed.add(name);
    try {
      const written = await this.store.write(name, body, at);
      this.#added(name, written.bytes);
      return written;
    } catch (error) {
      this.#claimed.delete(name);
      throw error;
    } finally {
      reservation();
    }
  }

  async #expireOld(): Promise<void> {
    const now = this.clock.now();
    for (const name of await this.store.list()) {
      if (this.#claimed.has(name)) continue;
      const read = await this.store.read(name);
      if (read.state !== 'ok') continue;
      if (now - read.entry.enqueuedAt <= this.options.maxAgeMs) break; // oldest first: the rest are younger
      await this.#buryExpired(read.entry);
    }
  }

  async #dropOldest(cost: number): Promise<void> {
    for (const name of await this.store.list()) {
      if (this.#fits(cost)) return;
      if (this.#claimed.has(name)) continue;
      const read = await this.store.read(name);
      if (!(await this.store.remove(name))) continue;
      this.#left(name);
      this.#deps.tally.drop('dropped_oldest');
      this.emitter.emit('drop', { ID: idOfName(name), reason: 'dropped_oldest', error: undefined });
      this.logger.warn(`the outbox is full: dropped its oldest entry ${name} to make room (onFull: 'drop-oldest')`);
    }
  }

  /**
   * The durable send of one PEM: on disk first, then one attempt now when the Receiver is believed
   * up (and the client is not closing), settled by the same rules as every drainer delivery.
   * Resolves `persisted` for anything that will be tried again. Undefined when the outbox cannot be
   * used (not open, or the write failed): the caller then sends it the direct way.
   */
  async send(
    pem: { ID: string; json: string; bytes: number },
    attempt: { signals: readonly AbortSignal[]; closing: boolean },
    onWriteError: (error: unknown) => void,
  ): Promise<DurableOutcome | undefined> {
    try {
      await this.ready;
    } catch {
      return undefined;
    }
    const reservation = await this.#admit(pem.bytes);
    if (reservation instanceof RKError) return { state: 'refused', error: reservation, counted: false };
    let written: { name: string; bytes: number };
    try {
      written = await this.#writeClaimed(pem.ID, pem.json, reservation);
    } catch (error) {
      onWriteError(error);
      return undefined;
    }
    const entry = { name: written.name, ID: pem.ID, body: pem.json, bytes: written.bytes };
    try {
      if (!this.drainer.healthy || attempt.closing) return { state: 'persisted', name: entry.name };
      let release: () => void;
      try {
        // The signals themselves, not AbortSignal.any of them: a composite would stay registered on
        // a long-lived client signal; the limiter's links go when the wait ends.
        release = await this.#deps.limiter.acquire(attempt.signals);
      } catch {
        return { state: 'persisted', name: entry.name };
      }
      let result: Result<ReceiverAck>;
      try {
        // Another send may have found the Receiver down while this one waited for a slot.
        if (!this.drainer.healthy) return { state: 'persisted', name: entry.name };
        result = await this.#post(entry, attempt.signals);
      } finally {
        release();
      }
      const settled = await this.#settle(entry, result, false);
      if (result.ok) return { state: 'delivered', ack: result.value };
      return settled === 'done' ? { state: 'refused', error: result.error, counted: true } : { state: 'persisted', name: entry.name };
    } finally {
      this.#claimed.delete(entry.name);
    }
  }

  /** The drainer's delivery of one entry on disk: read, expire, send, settle. */
  async #deliverEntry(name: string, stop: AbortSignal): Promise<DeliveryOutcome> {
    if (this.#claimed.has(name)) return 'done';
    this.#claimed.add(name);
    try {
      const read = await this.store.read(name);
      if (read.state === 'gone') return 'done';
      if (read.state === 'corrupt') {
        await this.#buryCorrupt(name, read.problem);
        return 'done';
      }
      const entry = read.entry;
      if (this.clock.now() - entry.enqueuedAt > this.options.maxAgeMs) {
        await this.#buryExpired(entry);
        return 'done';
      }
      let release: () => void;
      try {
        release = await this.#deps.limiter.acquire(stop);
      } catch {
        return 'stopped';
      }
      let result: Result<ReceiverAck>;
      try {
        result = await this.#post(entry, [stop]);
      } finally {
        release();
      }
      if (!result.ok && stop.aborted) return 'stopped';
      return await this.#settle(entry, result, true);
    } finally {
      this.#claimed.delete(name);
    }
  }

  async #post(entry: { name: string; ID: string; body: string }, signals: readonly AbortSignal[]): Promise<Result<ReceiverAck>> {
    const attempt = (this.#attempts.get(entry.name) ?? 0) + 1;
    this.#attempts.set(entry.name, attempt);
    return this.#deps.post(entry.body, entry.ID, attempt, signals);
  }

  /**
   * The one switch from a delivery's result to what happens to the entry, for first attempts and
   * drainer deliveries alike: acknowledged and removed; buried in dead/; draining paused (a
   * credential or URL problem, every entry kept); or a transient failure (the entry's own backoff,
   * and the drainer's).
   */
  async #settle(entry: { name: string; ID: string; bytes: number }, result: Result<ReceiverAck>, fromOutbox: boolean): Promise<DeliveryOutcome> {
    if (result.ok) {
      await this.#acknowledged(entry, result.value, this.#attempts.get(entry.name) ?? 1, fromOutbox);
      this.drainer.reportSuccess();
      return 'done';
    }
    const failed = classifyPemFailure(result.error, this.clock.now());
    switch (failed.kind) {
      case 'rejected':
        await this.#buryRejected(entry, failed.error);
        return 'done';
      case 'auth':
        this.drainer.pause(failed.error, 'credential');
        return 'paused';
      case 'route':
        this.drainer.pause(failed.error, 'url');
        return 'paused';
      case 'aborted':
        return 'stopped';
      case 'transient':
        this.#entryFailed(entry.name, failed.retryAfterMs);
        this.drainer.reportFailure(failed.retryAfterMs);
        return 'transient';
    }
  }

  /** The Receiver acknowledged the entry: remove it, count it, tell listeners. */
  async #acknowledged(entry: { name: string; ID: string; bytes: number }, ack: ReceiverAck, attempts: number, fromOutbox: boolean): Promise<void> {
    await this.store.remove(entry.name);
    this.#left(entry.name);
    const tally = this.#deps.tally;
    tally.delivered++;
    if (ack.status === 'duplicate') tally.duplicates++;
    this.emitter.emit('delivered', { ID: entry.ID, status: ack.status, attempts, fromOutbox });
    this.#deps.changed.notify();
  }

  async #buryRejected(entry: { name: string; ID: string; bytes: number }, error: RKError & { status?: number }): Promise<void> {
    const reason: DropReason = error instanceof RKPemTooLargeError ? 'too_large' : 'rejected';
    await this.#bury(entry.name, entry.ID, reason, error.message, error.status, error);
  }

  async #buryExpired(entry: StoredEntry): Promise<void> {
    const age = this.clock.now() - entry.enqueuedAt;
    await this.#bury(entry.name, entry.ID, 'expired', `waited ${age} ms, longer than outbox.maxAgeMs (${this.options.maxAgeMs})`, undefined, undefined);
  }

  async #buryCorrupt(name: string, problem: string): Promise<void> {
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

  /**
   * A transient failure of this entry: it waits out its own backoff before the drainer tries it
   * again, doubling from baseDelayMs up to ENTRY_BACKOFF_STEPS doublings (4 s by default), and at
   * least a Retry-After. The cap is what keeps a drain under steady faults close to the healthy
   * share: at 36 % failing, one entry in 10 000 fails 9 times by chance, and uncapped (up to
   * maxBackoffMs) its waits alone would add minutes to the drain. A PEM that fails every time
   * still costs one request per cap, and the drainer as a whole backs off when everything fails.
   */
  #entryFailed(name: string, retryAfterMs: number | undefined): void {
    const failures = (this.#backoff.get(name)?.failures ?? 0) + 1;
    const o = this.options;
    const maxDelayMs = Math.min(o.maxBackoffMs, Math.max(ENTRY_BACKOFF_FLOOR_MS, o.baseDelayMs * 2 ** ENTRY_BACKOFF_STEPS));
    const delay = retryDelay(failures, { baseDelayMs: o.baseDelayMs, maxDelayMs, maxRetryAfterMs: o.maxBackoffMs }, this.random, retryAfterMs);
    this.#backoff.set(name, { failures, retryAt: this.clock.now() + delay });
  }

  /** The entry is no longer in the folder (delivered, buried, dropped, or gone to another client). */
  #left(name: string): void {
    this.#attempts.delete(name);
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
