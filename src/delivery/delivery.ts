import { withRetries } from '../core/call.js';
import { checked, checkMs, requireMs, snapshotOptions } from '../core/checks.js';
import { RKAbortError, RKError, RKQueueFullError, RKShutdownError } from '../core/errors.js';
import type { CallOptions } from '../core/options.js';
import type { ReceiverAck } from '../core/replies.js';
import { failure, success, type Result } from '../core/result.js';
import type { Settings } from '../core/settings.js';
import { holdProcess } from '../resilience/keep-alive.js';
import { Limiter } from '../resilience/limiter.js';
import { DeliveryEmitter, Notifier, type DeliveryEventName, type DeliveryListener, type DropReason } from './events.js';
import type { ResolvedOutboxOptions } from './outbox/options.js';
import { Outbox, type OutboxControl, type OutboxStats } from './outbox/lazy.js'; // loaded on first use: no node:fs in the core
import { dropReasonOf } from './pem-failures.js';
import { Tally } from './tally.js';
import { holdPendingSend } from './exit-warning.js';

/**
 * How PEMs travel once sendPem has checked them: the bounded queue, the in-flight limit, the direct
 * send with retries, and the hand-over to the outbox (which owns the durable send). Who may import:
 * client.ts (RKClient) and testing/ (the mock, which is an RKClient over an in-memory Receiver).
 */

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

/** What `rk.stats()` returns: this client's delivery counters. */
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

/** One POST /pem of exactly the PEM's bytes, with the attempt's number, deadline and signals. */
export type PostPem = (pem: OutgoingPem, attempt: number, timeoutMs: number, signals: readonly AbortSignal[]) => Promise<Result<ReceiverAck>>;

export interface DeliveryConfig {
  operation: string;
  /** The Receiver's base URL as messages show it. */
  url: string;
  /** The client's settings: clock, randomness, logger, retry policy and budget, signal. */
  settings: Settings;
  attemptTimeoutMs: number;
  maxInFlight: number;
  queue: { maxEntries: number; maxBytes: number };
  outbox: ResolvedOutboxOptions | undefined;
  post: PostPem;
  /** Method and path of the send, for the OpenTelemetry span of a direct send (core/telemetry.ts). */
  traced?: { method: string; path: string } | undefined;
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
  /** Sends, flushes and closes in progress; while any is, the process stays alive. */

  constructor(config: DeliveryConfig) {
    this.#config = config;
    const { settings } = config;
    this.#limiter = new Limiter(config.maxInFlight);
    this.#emitter = new DeliveryEmitter(settings.logger);
    if (config.outbox) {
      const timeoutMs = config.attemptTimeoutMs;
      this.#outbox = new Outbox(config.outbox, {
        operation: config.operation,
        clock: settings.clock,
        random: settings.random,
        logger: settings.logger,
        limiter: this.#limiter,
        emitter: this.#emitter,
        tally: this.#tally,
        changed: this.#changed,
        post: (json, ID, attempt, signals) => {
          this.#tally.attempts++;
          return config.post({ ID, json, bytes: 0 }, attempt, timeoutMs, [...signals, this.#shutdown.signal]);
        },
      });
      this.#outbox.ready.catch((error: unknown) => this.#warnOutbox(error, 'open'));
      // The client's signal stops the drainer too: nothing of this client keeps running after it.
      settings.signal?.addEventListener('abort', () => void this.#outbox?.stop(), { once: true });
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
   * It answers at once: nothing waits for it.
   */
  async send(
    pem: OutgoingPem,
    call: CallOptions | undefined,
    preflight: (mayAsk: boolean, shutdown: AbortSignal) => RKError | undefined,
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
    const release = holdPendingSend(); // also warns if the process exits before this send settles
    try {
      const refused = preflight(this.#outbox === undefined || this.#outbox.healthy, this.#shutdown.signal);
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
    const { settings } = config;
    const callerSignals = [settings.signal, call?.signal].filter((s): s is AbortSignal => s instanceof AbortSignal);
    const outcome = await withRetries<ReceiverAck>({
      operation: config.operation,
      url: config.url,
      policy: settings.retry,
      totalTimeoutMs: call?.totalTimeoutMs ?? settings.retry.totalTimeoutMs,
      attemptTimeoutMs: call?.timeoutMs ?? config.attemptTimeoutMs,
      clock: settings.clock,
      random: settings.random,
      budget: settings.budget,
      signals: [...callerSignals, this.#shutdown.signal],
      // The PEM's ID makes every resend of it harmless.
      idempotent: true,
      // Waiting for one of the in-flight slots is queueing, not a failure of the Receiver: it is
      // bounded by the queue (maxEntries, maxBytes), the caller's signal and close(), never by
      // totalTimeoutMs, whose clock starts with the first request and stops while queued again.
      admit: (signals) => this.#limiter.acquire(signals),
      attempt: ({ attempt, timeoutMs, signals }) => {
        this.#tally.attempts++;
        if (attempt > 1) this.#tally.retries++;
        return config.post(pem, attempt, timeoutMs, signals);
      },
      onRetry: ({ attempt, delayMs, error }) => {
        if (this.#emitter.listening('retry')) this.#emitter.emit('retry', { ID: pem.ID, attempt, delayMs, error });
      },
      debug: settings.debug,
      onBudgetDenied: () => this.#tally.retriesDenied++,
      trace: config.traced && { operation: config.operation, method: config.traced.method, path: config.traced.path, url: config.url, pemId: pem.ID },
    });
    const { result } = outcome;
    if (result.ok) {
      // An earlier attempt of this very call stored it and only its answer was lost: for the
      // caller that is a delivery, not someone else's duplicate.
      const ack: ReceiverAck = result.value.status === 'duplicate' && outcome.ambiguous ? { ...result.value, status: 'accepted' } : result.value;
      this.#tally.delivered++;
      if (ack.status === 'duplicate') this.#tally.duplicates++;
      if (this.#emitter.listening('delivered')) {
        this.#emitter.emit('delivered', { ID: pem.ID, status: ack.status, attempts: outcome.attempts, fromOutbox: false });
      }
      return success(ack);
    }
    let error = result.error;
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
   * With an outbox, which owns the durable send: `persisted` for anything it will try again.
   * Undefined when the outbox cannot be used (the PEM then goes the direct way, with a warning).
   */
  async #sendDurable(outbox: Outbox, pem: OutgoingPem, call: CallOptions | undefined): Promise<Result<SendAck> | undefined> {
    const signals = [this.#config.settings.signal, call?.signal, this.#shutdown.signal].filter((s): s is AbortSignal => s instanceof AbortSignal);
    const outcome = await outbox.send(pem, { signals, closing: this.#closing }, (error) => {
      this.#tally.outboxWriteErrors++;
      this.#warnOutbox(error, 'write');
    });
    if (outcome === undefined) return undefined;
    switch (outcome.state) {
      case 'delivered':
        return success(outcome.ack);
      case 'persisted':
        return this.#persisted({ name: outcome.name, ID: pem.ID });
      case 'refused':
        return outcome.counted ? failure(outcome.error) : this.#drop(outcome.error, pem.ID);
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
    // An outage loses what nobody keeps: say how to keep it (the line is all a fire-and-forget caller sees).
    const keep = (reason === 'connection' || reason === 'timeout' || reason === 'http') && !this.#outbox
      ? '; to keep PEMs through an outage, use an outbox ({ outbox: { dir } })'
      : '';
    this.#config.settings.logger.warn(`PEM ${id ?? '(no ID)'} dropped (${reason}): ${error.message}${keep}`);
    this.#emitter.emit('drop', { ID: id, reason, error });
    return failure(error);
  }

  /** Once per client: an outbox that cannot be opened, or the first write that failed (counted in stats). */
  #warnOutbox(error: unknown, what: 'open' | 'write'): void {
    if (this.#outboxWarned) return;
    this.#outboxWarned = true;
    const reason = error instanceof Error ? error.message : String(error);
    this.#config.settings.logger.warn(
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
      retryBudget: this.#config.settings.budget?.tokens,
      outbox: this.#outbox?.stats(),
      closed: this.#closing,
    };
  }

  /**
   * Waits until no send is pending and the outbox is empty, or until `timeoutMs`. Sends that start
   * during the wait are waited for too. Never rejects.
   */
  async flush(options: { timeoutMs?: number } = {}): Promise<DeliveryReport> {
    const timeoutMs = this.#timeoutOption('Flushing', options, DEFAULT_FLUSH_TIMEOUT_MS);
    const before = this.#counts();
    const release = holdProcess();
    const scope = new AbortController();
    const deadline = this.#config.settings.clock.timeout(timeoutMs, scope.signal);
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
        if (outbox) waits.push(this.#config.settings.clock.sleep(outbox.options.pollIntervalMs, stop).catch(() => {}));
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
    this.#closed ??= this.#close(this.#timeoutOption('Closing', options, DEFAULT_CLOSE_TIMEOUT_MS));
    return this.#closed;
  }

  /**
   * flush's and close's `{ timeoutMs }`: they never reject, so a bad argument is reported to the
   * logger as an RKInvalidInputError naming it, and the default deadline is used.
   */
  #timeoutOption(operation: string, options: unknown, fallback: number): number {
    const read = checked(() => {
      const o = snapshotOptions(operation, 'options', options);
      // 0: do not wait (close at once, flush only what has settled).
      if (o.timeoutMs === 0) return 0;
      return requireMs(operation, 'options.timeoutMs', o.timeoutMs ?? fallback);
    }, operation, 'options');
    if (typeof read === 'number') return read;
    this.#config.settings.logger.warn(`${read.message}; waiting the default ${fallback} ms instead`);
    return fallback;
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
