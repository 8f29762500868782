import { RKAbortError, RKError, RKQueueFullError, RKShutdownError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { CallOptions } from '../core/options.js';
import { failure, success, type Result } from '../core/result.js';
import type { ReceiverAck } from '../core/replies.js';
import type { RetryBudget } from '../resilience/budget.js';
import type { Clock } from '../resilience/clock.js';
import { DeliveryEmitter, Notifier, type DeliveryEventName, type DeliveryListener, type DropReason } from './events.js';
import { Limiter } from '../resilience/limiter.js';
import { Outbox, type OutboxControl, type OutboxStats, type ResolvedOutboxOptions } from './outbox/outbox.js';
import { classifyPemFailure, dropReasonOf, pemHttpError } from './pem-failures.js';
import { checkMs, type RetryPolicy } from '../core/retry-policy.js';
import { withRetries, type AttemptOutput } from '../core/call.js';
import { Tally } from './tally.js';
import { withoutCredentials } from '../core/url-text.js';
import { holdProcess } from '../resilience/keep-alive.js';

/** Bounds of what sendPem holds in memory: PEMs accepted and not yet settled. */
export interface QueueOptions {
  /** Default 10 000. */
  maxEntries?: number;
  /** Bytes of PEM JSON. Default 32 MiB. */
  maxBytes?: number;
}

export const QUEUE_DEFAULTS = Object.freeze({ maxEntries: 10_000, maxBytes: 32 * 1024 * 1024 });
export const DEFAULT_MAX_IN_FLIGHT = 8;
export const DEFAULT_FLUSH_TIMEOUT_MS = 30_000;
export const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

/** sendPem's value: the Receiver's acknowledgement, or `persisted` when the outbox holds the PEM for later. */
export type SendAck = ReceiverAck | { ID: string; status: 'persisted' };

/** What flush and close resolve with. Counts are of what settled during the call. */
export interface DeliveryReport {
  /** PEMs the Receiver acknowledged (sendPem or the outbox), duplicates included. */
  delivered: number;
  /** sendPem calls that resolved `persisted`. */
  persisted: number;
  /** PEMs that will not be delivered (every drop reason). */
  failed: number;
  /** Still waiting when the call returned: unsettled sends plus entries in the outbox. */
  pending: number;
  /** The deadline passed before everything settled. */
  timedOut: boolean;
}

export interface DeliveryStats {
  attempts: number;
  retries: number;
  retriesDenied: number;
  delivered: number;
  duplicates: number;
  persisted: number;
  failed: number;
  dropped: Record<DropReason, number>;
  outboxWriteErrors: number;
  /** sendPem calls accepted and not settled. */
  pending: number;
  pendingBytes: number;
  inFlight: number;
  /** Tokens left in the retry budget (undefined: no budget). */
  retryBudget: number | undefined;
  outbox: OutboxStats | undefined;
  closed: boolean;
}

interface Counts {
  delivered: number;
  persisted: number;
  failed: number;
}

/** One POST /pem of exactly `body`, with the attempt's headers, deadline and signals. */
export type PostPem = (
  body: string,
  id: string,
  attempt: number,
  timeoutMs: number,
  signals: readonly AbortSignal[],
) => Promise<AttemptOutput<ReceiverAck>>;

export interface DeliveryConfig {
  operation: string;
  url: string;
  clock: Clock;
  random: () => number;
  logger: Logger;
  policy: RetryPolicy;
  budget: RetryBudget | undefined;
  attemptTimeoutMs: number;
  maxInFlight: number;
  queue: { maxEntries: number; maxBytes: number };
  /** The client's own signal (RKOptions.signal). */
  clientSignal: AbortSignal | undefined;
  outbox: ResolvedOutboxOptions | undefined;
  post: PostPem;
}

/** The PEM as sendPem hands it over: checked, serialized once, measured. */
export interface OutgoingPem {
  ID: string;
  json: string;
  bytes: number;
}

/**
 * Everything between "sendPem was called" and "the PEM is delivered, persisted or failed": the
 * bounded queue, the in-flight limit, retries under the budget and the deadlines, the outbox,
 * counters and events, flush and close.
 */
export class Delivery {
  readonly #config: DeliveryConfig;
  readonly #limiter: Limiter;
  readonly #tally = new Tally();
  readonly #emitter: DeliveryEmitter;
  readonly #changed = new Notifier();
  /** Aborted when close() gives up waiting: cancels in-flight requests and waits. */
  readonly #shutdown = new AbortController();
  readonly #outbox: Outbox | undefined;
  #pending = 0;
  #pendingBytes = 0;
  #closing = false;
  #closed: Promise<DeliveryReport> | undefined;
  #outboxWarned = false;
  /** `<receiver>/pem` as messages name it. */
  readonly #pemUrl: string;
  /** Sends, flushes and closes in progress; while any is, the process stays alive. */

  constructor(config: DeliveryConfig) {
    this.#config = config;
    this.#pemUrl = `${withoutCredentials(config.url)}/pem`;
    this.#limiter = new Limiter(config.maxInFlight);
    this.#emitter = new DeliveryEmitter(config.logger);
    if (config.outbox) {
      const timeoutMs = config.attemptTimeoutMs;
      this.#outbox = new Outbox(config.outbox, {
        operation: config.operation,
        pemUrl: this.#pemUrl,
        clock: config.clock,
        random: config.random,
        logger: config.logger,
        limiter: this.#limiter,
        emitter: this.#emitter,
        tally: this.#tally,
        changed: this.#changed,
        post: async (body, id, attempt, signals) => {
          this.#tally.attempts++;
          return (await config.post(body, id, attempt, timeoutMs, [...signals, this.#shutdown.signal])).result;
        },
      });
      this.#outbox.ready.catch((error: unknown) => this.#warnOutbox(error, 'open'));
      // The client's signal stops the drainer too: nothing of this client keeps running after it.
      config.clientSignal?.addEventListener('abort', () => void this.#outbox?.stop(), { once: true });
    }
  }

  get outbox(): OutboxControl | undefined {
    return this.#outbox;
  }

  on<E extends DeliveryEventName>(name: E, listener: DeliveryListener<E>): () => void {
    return this.#emitter.on(name, listener);
  }

  /** Counts and reports a PEM refused before delivery started (bad input). */
  refuse(error: RKError, id?: string): Result<never> {
    return this.#drop(error, id);
  }

  /**
   * Delivers the PEM. `preflight` runs once the PEM holds a place in the queue (the size check);
   * it is told whether it may ask the Receiver (not while the outbox knows the Receiver is down).
   */
  async send(
    pem: OutgoingPem,
    call: CallOptions | undefined,
    preflight: (mayAsk: boolean, shutdown: AbortSignal) => Promise<RKError | undefined>,
  ): Promise<Result<SendAck>> {
    const { operation, queue } = this.#config;
    if (this.#closing) {
      return this.#drop(new RKShutdownError(operation, 'the client is closed; create a new RKClient to send more PEMs'), pem.ID);
    }
    const badDeadline = checkMs(operation, 'timeoutMs', call?.timeoutMs) ?? checkMs(operation, 'totalTimeoutMs', call?.totalTimeoutMs);
    if (badDeadline) return this.#drop(badDeadline, pem.ID);
    if (this.#pending + 1 > queue.maxEntries) return this.#drop(new RKQueueFullError(operation, 'memory', `${queue.maxEntries} PEMs`), pem.ID);
    if (this.#pendingBytes + pem.bytes > queue.maxBytes) return this.#drop(new RKQueueFullError(operation, 'memory', `${queue.maxBytes} bytes`), pem.ID);
    this.#pending++;
    this.#pendingBytes += pem.bytes;
    const release = holdProcess();
    try {
      const refused = await preflight(this.#outbox === undefined || this.#outbox.healthy, this.#shutdown.signal);
      if (refused) return this.#drop(refused, pem.ID);
      if (this.#outbox) {
        const durable = await this.#sendDurable(this.#outbox, pem, call);
        if (durable) return durable;
      }
      return await this.#sendDirect(pem, call);
    } finally {
      this.#pending--;
      this.#pendingBytes -= pem.bytes;
      this.#changed.notify();
      release();
    }
  }

  /** Without an outbox: retries under the budget until delivered, refused or out of time. */
  async #sendDirect(pem: OutgoingPem, call: CallOptions | undefined): Promise<Result<SendAck>> {
    const config = this.#config;
    const callerSignals = [config.clientSignal, call?.signal].filter((s): s is AbortSignal => s !== undefined);
    const outcome = await withRetries<ReceiverAck>({
      operation: config.operation,
      url: config.url,
      policy: config.policy,
      totalTimeoutMs: call?.totalTimeoutMs ?? config.policy.totalTimeoutMs,
      attemptTimeoutMs: call?.timeoutMs ?? config.attemptTimeoutMs,
      clock: config.clock,
      random: config.random,
      budget: config.budget,
      signals: [...callerSignals, this.#shutdown.signal],
      // The PEM's ID makes every resend of it harmless.
      idempotent: () => true,
      attempt: async ({ attempt, timeoutMs, signal }) => {
        let release: () => void;
        try {
          release = await this.#limiter.acquire(signal);
        } catch {
          return { result: failure(new RKAbortError(config.operation, signal.reason)) };
        }
        try {
          this.#tally.attempts++;
          if (attempt > 1) this.#tally.retries++;
          return await config.post(pem.json, pem.ID, attempt, timeoutMs, [signal]);
        } finally {
          release();
        }
      },
      onRetry: ({ attempt, delayMs, error }) => this.#emitter.emit('retry', { ID: pem.ID, attempt, delayMs, error }),
      onBudgetDenied: () => this.#tally.retriesDenied++,
    });
    const { result } = outcome;
    if (result.ok) {
      // An earlier attempt of this very call stored it and only its answer was lost: for the
      // caller that is a delivery, not someone else's duplicate.
      const ack: ReceiverAck = result.value.status === 'duplicate' && outcome.ambiguous ? { ...result.value, status: 'accepted' } : result.value;
      this.#tally.delivered++;
      if (ack.status === 'duplicate') this.#tally.duplicates++;
      this.#emitter.emit('delivered', { ID: pem.ID, status: ack.status, attempts: outcome.attempts, fromOutbox: false });
      return success(ack);
    }
    let error = pemHttpError(result.error, pem.bytes, this.#pemUrl);
    if (error instanceof RKAbortError && this.#shutdown.signal.aborted && !callerSignals.some((s) => s.aborted)) {
      error = new RKShutdownError(
        config.operation,
        'the client was closed before the PEM was delivered and there is no outbox to keep it; ' +
          'the Receiver may or may not have stored it: sending the same PEM again is safe',
      );
    }
    return this.#drop(error, pem.ID);
  }

  /**
   * With an outbox: on disk first, then one attempt when the Receiver is believed up. Resolves
   * `persisted` for every transient failure. Undefined when the outbox cannot be used (the PEM
   * then goes the direct way, with a warning).
   */
  async #sendDurable(outbox: Outbox, pem: OutgoingPem, call: CallOptions | undefined): Promise<Result<SendAck> | undefined> {
    const config = this.#config;
    try {
      await outbox.ready;
    } catch {
      return undefined;
    }
    const reservation = await outbox.admit(pem.bytes);
    if (reservation instanceof RKError) return this.#drop(reservation, pem.ID);
    let written: { name: string; bytes: number };
    try {
      written = await outbox.writeClaimed(pem.ID, pem.json, reservation);
    } catch (error) {
      this.#tally.outboxWriteErrors++;
      this.#warnOutbox(error, 'write');
      return undefined;
    }
    const entry = { name: written.name, ID: pem.ID, bytes: written.bytes };
    try {
      if (!outbox.healthy || this.#closing) return this.#persisted(entry);
      const signals = [config.clientSignal, call?.signal, this.#shutdown.signal].filter((s): s is AbortSignal => s !== undefined);
      let release: () => void;
      try {
        release = await this.#limiter.acquire(AbortSignal.any(signals));
      } catch {
        return this.#persisted(entry);
      }
      let result: Result<ReceiverAck>;
      try {
        // Another send may have found the Receiver down while this one waited for a slot.
        if (!outbox.healthy) return this.#persisted(entry);
        this.#tally.attempts++;
        outbox.attempts.set(entry.name, 1);
        result = (await config.post(pem.json, pem.ID, 1, call?.timeoutMs ?? config.attemptTimeoutMs, signals)).result;
      } finally {
        release();
      }
      if (result.ok) {
        await outbox.acknowledged(entry, result.value, 1, false);
        outbox.drainer.reportSuccess();
        return success(result.value);
      }
      const failed = classifyPemFailure(result.error, pem.bytes, config.clock.now(), this.#pemUrl);
      switch (failed.kind) {
        case 'rejected':
          await outbox.buryRejected(entry, failed.error);
          return failure(failed.error);
        case 'auth':
          outbox.drainer.pause(failed.error, 'credential');
          return this.#persisted(entry);
        case 'route':
          outbox.drainer.pause(failed.error, 'url');
          return this.#persisted(entry);
        case 'aborted':
          return this.#persisted(entry);
        case 'transient':
          outbox.entryFailed(entry.name, failed.retryAfterMs);
          outbox.drainer.reportFailure(failed.retryAfterMs);
          return this.#persisted(entry);
      }
    } finally {
      outbox.claimed.delete(entry.name);
    }
  }

  #persisted(entry: { name: string; ID: string }): Result<SendAck> {
    this.#tally.persisted++;
    this.#emitter.emit('persisted', { ID: entry.ID, file: entry.name });
    return success({ ID: entry.ID, status: 'persisted' });
  }

  #drop(error: RKError, id: string | undefined): Result<never> {
    const reason = dropReasonOf(error);
    this.#tally.drop(reason);
    this.#config.logger.warn(`PEM ${id ?? '(no ID)'} dropped (${reason}): ${error.message}`);
    this.#emitter.emit('drop', { ID: id, reason, error });
    return failure(error);
  }

  /** Once per client: an outbox that cannot be opened, or the first write that failed (counted in stats). */
  #warnOutbox(error: unknown, what: 'open' | 'write'): void {
    if (this.#outboxWarned) return;
    this.#outboxWarned = true;
    const reason = error instanceof Error ? error.message : String(error);
    this.#config.logger.warn(
      what === 'open'
        ? `the outbox in ${this.#outbox?.dir} cannot be used (${reason}); this client sends PEMs without it (retrying in memory only) until it is recreated`
        : `writing to the outbox in ${this.#outbox?.dir} failed (${reason}); that PEM is sent without it (retrying in memory only), ` +
          'later PEMs try the outbox again (stats().outboxWriteErrors counts the failures)',
    );
  }

  stats(): DeliveryStats {
    const t = this.#tally;
    return {
      attempts: t.attempts,
      retries: t.retries,
      retriesDenied: t.retriesDenied,
      delivered: t.delivered,
      duplicates: t.duplicates,
      persisted: t.persisted,
      failed: t.failed,
      dropped: { ...t.dropped },
      outboxWriteErrors: t.outboxWriteErrors,
      pending: this.#pending,
      pendingBytes: this.#pendingBytes,
      inFlight: this.#limiter.active,
      retryBudget: this.#config.budget?.tokens,
      outbox: this.#outbox?.stats(),
      closed: this.#closing,
    };
  }

  /**
   * Waits until no send is pending and the outbox is empty, or until `timeoutMs`. Sends that start
   * during the wait are waited for too. Never rejects.
   */
  async flush(options: { timeoutMs?: number } = {}): Promise<DeliveryReport> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_FLUSH_TIMEOUT_MS;
    const before = this.#counts();
    const release = holdProcess();
    const scope = new AbortController();
    const deadline = this.#config.clock.timeout(timeoutMs, scope.signal);
    const outbox = this.#outbox;
    try {
      if (outbox) {
        await outbox.ready.catch(() => {});
        outbox.drainer.nudge();
      }
      while (!deadline.aborted) {
        if (this.#pending === 0 && (await this.#outboxEmpty())) break;
        const tick = new AbortController();
        const stop = AbortSignal.any([deadline, tick.signal]);
        // Another process may empty the folder without telling us: look again now and then.
        const waits = [this.#changed.wait(stop)];
        if (outbox) waits.push(this.#config.clock.sleep(outbox.options.pollIntervalMs, stop).catch(() => {}));
        await Promise.race(waits);
        tick.abort();
      }
      return await this.#report(before, deadline.aborted);
    } finally {
      scope.abort();
      release();
    }
  }

  async #outboxEmpty(): Promise<boolean> {
    const outbox = this.#outbox;
    if (!outbox) return true;
    if (outbox.knownEntries > 0 && outbox.drainer.holdsLock) return false;
    return (await outbox.size()) === 0;
  }

  #counts(): Counts {
    const t = this.#tally;
    return { delivered: t.delivered, persisted: t.persisted, failed: t.failed };
  }

  async #report(before: Counts, timedOut: boolean): Promise<DeliveryReport> {
    const now = this.#counts();
    const waiting = this.#outbox ? await this.#outbox.size().catch(() => this.#outbox?.knownEntries ?? 0) : 0;
    return {
      delivered: now.delivered - before.delivered,
      persisted: now.persisted - before.persisted,
      failed: now.failed - before.failed,
      pending: this.#pending + waiting,
      timedOut,
    };
  }

  /**
   * Stops accepting PEMs, waits for pending ones until `timeoutMs`, then cancels what is left:
   * in-flight requests are aborted; their PEMs stay in the outbox when there is one, otherwise they
   * fail with RKShutdownError. The same promise for every call.
   */
  close(options: { timeoutMs?: number } = {}): Promise<DeliveryReport> {
    this.#closed ??= this.#close(options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
    return this.#closed;
  }

  async #close(timeoutMs: number): Promise<DeliveryReport> {
    this.#closing = true;
    const release = holdProcess();
    try {
      const before = this.#counts();
      const flushed = await this.flush({ timeoutMs });
      this.#shutdown.abort(new RKShutdownError(this.#config.operation, 'the client is closing'));
      while (this.#pending > 0) await this.#changed.wait();
      await this.#outbox?.stop();
      return { ...(await this.#report(before, flushed.timedOut)), timedOut: flushed.timedOut };
    } finally {
      release();
    }
  }
}
