import type { RKError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { retryDelay } from '../../resilience/backoff.js';
import { rest, type Clock } from '../../resilience/clock.js';
import { linkSignals } from '../../resilience/signals.js';
import { Notifier, type DeliveryEmitter } from '../events.js';
import { OutboxLock } from './lock.js';
import type { ResolvedOutboxOptions } from './options.js';

/** What delivering one entry came to, as the drainer schedules by it. */
export type DeliveryOutcome = 'done' | 'transient' | 'paused' | 'stopped';

/**
 * What the drainer is given by the outbox that owns it: the folder and its options, and the few
 * operations it schedules. The outbox delivers and settles each entry; the drainer only decides
 * when, how many at once, and in which order.
 */
export interface DrainTarget {
  dir: string;
  options: ResolvedOutboxOptions;
  clock: Clock;
  random: () => number;
  logger: Logger;
  emitter: DeliveryEmitter;
  /** After taking the lock: clean what a crash left behind. */
  recover(): Promise<void>;
  /** Entries on disk not being sent right now, oldest first. */
  list(): Promise<string[]>;
  /** When the entry's own backoff ends (0: now). */
  retryAt(name: string): number;
  failuresOf(name: string): number;
  deliver(name: string, stop: AbortSignal): Promise<DeliveryOutcome>;
}

/**
 * Sends what the outbox holds, oldest first, a few requests at a time. Only the client holding the
 * folder's lock drains; the others keep trying to take the lock, so a folder whose drainer died is
 * picked up.
 *
 * Each entry has its own backoff, so one PEM the Receiver keeps failing never holds back the
 * younger ones (FIFO where it is free, not head-of-line), and the drainer keeps `concurrency`
 * requests in flight while some fail. A run of failures in a row backs the whole drainer off (at
 * least as long as a Retry-After asks) until a probe succeeds: when the Receiver is down, it is
 * down for every entry alike. The probe is the due entry that has failed least, never the one that keeps failing, and any
 * success ends the backoff. A 401 / 403, or a 404 / 405 for the route itself (a wrong base URL),
 * pauses it until `resume()`; nothing is discarded while paused.
 */
export class Drainer {
  readonly #outbox: DrainTarget;
  readonly #stop = new AbortController();
  readonly #wake = new Notifier();
  #lock: OutboxLock | undefined;
  #loop: Promise<void> | undefined;
  #failures = 0;
  /** Transient failures since the last success, whichever entries they were. */
  #streak = 0;
  #backoffUntil = 0;
  #paused: RKError | undefined;

  constructor(outbox: DrainTarget) {
    this.#outbox = outbox;
  }

  get holdsLock(): boolean {
    return this.#lock !== undefined;
  }

  get paused(): RKError | undefined {
    return this.#paused;
  }

  get consecutiveFailures(): number {
    return this.#failures;
  }

  /** ms until the next probe (0 when not backing off). */
  get backoffMs(): number {
    return Math.max(0, this.#backoffUntil - this.#outbox.clock.now());
  }

  /** True when a send may try the Receiver at once: not paused and not backing off. */
  get healthy(): boolean {
    return this.#paused === undefined && this.backoffMs === 0;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Try now (a flush, a replay, a success elsewhere). Does not clear a pause. */
  nudge(): void {
    this.#wake.notify();
  }

  reportSuccess(): void {
    this.#streak = 0;
    if (this.#failures === 0 && this.#backoffUntil === 0) return;
    this.#failures = 0;
    this.#backoffUntil = 0;
    this.#wake.notify();
  }

  /**
   * A transient failure (here or in a send's first attempt). The entry that failed waits out its
   * own backoff (the outbox keeps it, at least as long as a Retry-After asked); the drainer as a
   * whole backs off only when the Receiver looks down: `#downAfter()` failures in a row with no
   * success between them. Then it waits the longer of its backoff and the Retry-After, and probes.
   * A Receiver that fails a share of requests (a flaky proxy, one bad node, a 429 now and then) is
   * drained at full concurrency: at 36 % failing, 8 in a row happen once in ~5 500 requests, where
   * the 4 of the old rule happened once in ~90 and a lone Retry-After stopped every request.
   * Failures that arrive while already backing off belong to the same outage: they only lengthen
   * the wait when the server asks for more.
   */
  reportFailure(retryAfterMs: number | undefined): void {
    const now = this.#outbox.clock.now();
    this.#streak++;
    if (this.backoffMs === 0) {
      if (this.#streak < this.#downAfter()) return;
      this.#failures++;
      this.#backoffUntil = now + this.#delay(retryAfterMs);
    } else if (retryAfterMs !== undefined) {
      this.#backoffUntil = Math.max(this.#backoffUntil, now + Math.min(retryAfterMs, this.#outbox.options.maxBackoffMs));
    }
  }

  /**
   * Failures in a row that mean "down": two per request kept in flight, at least 8. Each costs one
   * request (its entry then waits on its own), so a Receiver that is down gets at most that many
   * before the drainer probes one at a time.
   */
  #downAfter(): number {
    return Math.max(8, 2 * this.#outbox.options.concurrency);
  }

  pause(error: RKError, fix: 'credential' | 'url'): void {
    if (this.#paused) return;
    this.#paused = error;
    const what = fix === 'url' ? 'fix the Receiver URL' : 'fix the credential';
    this.#outbox.logger.warn(
      `outbox draining paused: ${error.message}. Every PEM is kept in ${this.#outbox.dir}; ` +
        `${what} and call outbox.resume(), or restart the client`,
    );
    this.#outbox.emitter.emit('paused', { error });
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = undefined;
    this.#failures = 0;
    this.#backoffUntil = 0;
    this.#outbox.emitter.emit('resumed', {});
    this.#wake.notify();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    this.#wake.notify();
    await this.#loop;
    await this.#lock?.release();
    this.#lock = undefined;
  }

  #delay(retryAfterMs: number | undefined): number {
    const o = this.#outbox.options;
    return retryDelay(
      Math.max(1, this.#failures),
      { baseDelayMs: o.baseDelayMs, maxDelayMs: o.maxBackoffMs, maxRetryAfterMs: o.maxBackoffMs },
      this.#outbox.random,
      retryAfterMs,
    );
  }

  /** Waits `ms` of clock time, or less when nudged or stopped. */
  async #idle(ms: number): Promise<void> {
    const cut = new AbortController();
    const unlink = linkSignals([this.#stop.signal], (reason) => cut.abort(reason));
    try {
      await Promise.race([rest(this.#outbox.clock, ms, cut.signal), this.#wake.wait(cut.signal)]);
    } finally {
      unlink();
      cut.abort();
    }
  }

  /**
   * The loop survives what the file system throws at it (a lock it may not write, an entry it may
   * not move): it reports the problem once and tries again after the longest backoff.
   */
  async #run(): Promise<void> {
    const stop = this.#stop.signal;
    let reported: string | undefined;
    while (!stop.aborted) {
      try {
        // A problem is reported again only after a pass got through.
        if (await this.#turn()) reported = undefined;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (message !== reported) {
          reported = message;
          this.#outbox.logger.warn(`the outbox drainer of ${this.#outbox.dir} hit a problem and will try again: ${message}`);
        }
        await this.#idle(this.#outbox.options.maxBackoffMs);
      }
    }
  }

  /** One step of the loop: take the lock, wait, or send a pass (then true). */
  async #turn(): Promise<boolean> {
    const outbox = this.#outbox;
    const stop = this.#stop.signal;
    if (!this.#lock) {
      this.#lock = await OutboxLock.acquire(outbox.dir, { staleMs: outbox.options.lockStaleMs });
      if (!this.#lock) {
        await this.#idle(outbox.options.pollIntervalMs);
        return false;
      }
      await outbox.recover();
      return false;
    }
    if (!(await this.#lock.held())) {
      outbox.logger.warn(`the outbox lock in ${outbox.dir} was taken over; this client stops draining it`);
      this.#lock = undefined;
      return false;
    }
    if (this.#paused) {
      await this.#wake.wait(stop);
      return false;
    }
    const wait = this.backoffMs;
    if (wait > 0) {
      await this.#idle(wait);
      return false;
    }
    const names = await outbox.list();
    const now = outbox.clock.now();
    const due = names.filter((name) => outbox.retryAt(name) <= now);
    if (due.length === 0) {
      // Entries may be waiting out their own backoff: look again when the first one is due.
      const next = Math.min(...names.map((name) => outbox.retryAt(name)));
      await this.#idle(Math.max(1, Math.min(outbox.options.pollIntervalMs, next - now)));
      return false;
    }
    await this.#pass(due);
    return true;
  }

  /**
   * Sends the due entries, oldest first, until the drainer backs off. After a failure the first is
   * a probe: the due entry that has failed least, so a PEM that keeps failing is not the probe.
   */
  async #pass(due: string[]): Promise<void> {
    const outbox = this.#outbox;
    const stop = this.#stop.signal;
    const names = this.#failures > 0 ? probeFirst(due, (name) => outbox.failuresOf(name)) : due;
    let next = 0;
    let halt = false;
    const one = async (): Promise<void> => {
      // A failure reported since this pass began (here, or by a send's first attempt) means wait,
      // unless a success since then showed the Receiver is up.
      if (this.backoffMs > 0 || this.#paused) {
        halt = true;
        return;
      }
      const name = names[next++];
      if (name === undefined) return;
      const outcome = await outbox.deliver(name, stop);
      // A transient failure backs off that entry only; the drainer halts when it backs off as a whole.
      if (outcome === 'paused' || outcome === 'stopped') halt = true;
    };
    // After a failure, one probe before opening up again.
    if (this.#failures > 0) {
      await one();
      if (halt || stop.aborted) return;
    }
    const worker = async () => {
      while (!halt && !stop.aborted && !this.#paused && next < names.length) await one();
    };
    await Promise.all(Array.from({ length: outbox.options.concurrency }, worker));
  }
}

/** The entry that has failed least goes first (oldest among equals); the rest keep their order. */
function probeFirst(due: readonly string[], failuresOf: (name: string) => number): string[] {
  let best = 0;
  for (let i = 1; i < due.length; i++) if (failuresOf(due[i]!) < failuresOf(due[best]!)) best = i;
  return [due[best]!, ...due.slice(0, best), ...due.slice(best + 1)];
}
