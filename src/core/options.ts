import type { Clock } from '../resilience/clock.js';
import type { RetryBudgetOptions } from '../resilience/budget.js';
import type { Logger } from './logger.js';

/**
 * Every option type of the library, in one place: the facades, settings and delivery import them
 * from here, so no feature folder is needed to describe what a client accepts.
 */

/** How calls are retried. Every field is optional; the defaults are the ones below. */
export interface RetryOptions {
  /** Attempts per call, the first included. Default 5; 1 turns retries off. */
  maxAttempts?: number | undefined;
  /** Backoff before the first retry, doubled for each further one. Default 500. */
  baseDelayMs?: number | undefined;
  /** Longest backoff. Default 30 000. */
  maxDelayMs?: number | undefined;
  /** A `Retry-After` is a floor for the next wait, but never more than this. Default 60 000. */
  maxRetryAfterMs?: number | undefined;
  /**
   * The whole call, every attempt and wait included. Default 30 000. Each attempt has its own
   * deadline (`timeoutMs`), cut short when less time is left.
   */
  totalTimeoutMs?: number | undefined;
  /** The client-wide retry budget; `false` turns it off. Default `{ capacity: 20, refillPerSuccess: 1 }`. */
  budget?: RetryBudgetOptions | false | undefined;
}

/** Bounds of what sendPem holds in memory: PEMs accepted and not yet settled. */
export interface QueueOptions {
  /** Default 10 000. */
  maxEntries?: number | undefined;
  /** Bytes of PEM JSON. Default 32 MiB. */
  maxBytes?: number | undefined;
}

/** The durable outbox (opt-in). Bounds are checked when a PEM arrives. */
export interface OutboxOptions {
  /** The folder; created when missing. One drainer per folder, however many clients use it. */
  dir: string;
  /** Most entries held. Default 100 000. */
  maxEntries?: number | undefined;
  /** Most bytes held. Default 256 MiB. */
  maxBytes?: number | undefined;
  /** Entries older than this move to dead/ (reason `expired`) instead of being sent. Default 7 days. */
  maxAgeMs?: number | undefined;
  /**
   * When full: refuse the new PEM (`reject`, default) or drop the oldest entries to make room
   * (`drop-oldest`, counted and reported). An entry being sent at that moment is never dropped: it
   * may already be stored, so the oldest entry not in flight goes instead.
   */
  onFull?: 'reject' | 'drop-oldest' | undefined;
  /**
   * Requests the drainer keeps in flight, within the client's `maxInFlight` (it shares those slots
   * with new sends). Default 4: a backlog drains no faster at 8 (draining is bound by reading and
   * removing entries, not by requests in flight; BENCHMARKS.md, "What durability costs"), and half
   * of the default 8 slots stay free for new PEMs' first attempts.
   */
  concurrency?: number | undefined;
  /**
   * The drainer's longest wait between probes while the Receiver is down, and the longest
   * Retry-After an entry waits for. Default 300 000 (5 minutes). An entry that fails while others
   * get through waits at most 8 x `retry.baseDelayMs` (at least 1 s), unless this is shorter.
   */
  maxBackoffMs?: number | undefined;
  /** How often an idle drainer looks for entries written by other processes. Default 1000. */
  pollIntervalMs?: number | undefined;
  /** fsync each entry and the folder before resolving. Default true; false survives a process crash but not a power loss. */
  fsync?: boolean | undefined;
  /** A lock held from another host counts as abandoned after this long without a heartbeat. Default 60 000. */
  lockStaleMs?: number | undefined;
}



/** Options shared by RKClient, RKQuery and RKAdmin. */
export interface RKOptions {
  /**
   * Deadline of each request in milliseconds, from request to parsed body; every request gets a
   * fresh one. Default 5000; sendPem's attempts default to 10000. With retries, the whole call is
   * bounded by `retry.totalTimeoutMs`.
   */
  timeoutMs?: number | undefined;
  /**
   * Turn off TLS certificate verification for this client only (self-signed test servers).
   * Off by default; never changes the process-wide setting.
   */
  insecure?: boolean | undefined;
  /** A personal credential from the RK Dashboard. Sent instead of `pucAuth` when both are set. */
  userAuth?: string | undefined;
  /** A PUC credential from an RK admin, for machine code in production. */
  pucAuth?: string | undefined;
  /** Header that carries `userAuth`. Default `X-RK-User-Auth`, as the specs declare. */
  userAuthHeader?: string | undefined;
  /** Header that carries `pucAuth`. Default `X-RK-PUC-Auth`, as the specs declare. */
  pucAuthHeader?: string | undefined;
  /** Default `recordkeeper-client-<version>`, like the reference client. */
  userAgent?: string | undefined;
  /** A fetch implementation to use instead of the global one (tests, proxies, instrumentation). */
  fetch?: typeof globalThis.fetch | undefined;
  /** Receives warnings; defaults to console.warn. */
  logger?: Logger | undefined;
  /**
   * One line per request (method, URL without credentials, status, duration) and per retry, through
   * `logger.debug`. Default: on when the environment has RK_LOG=debug; `false` turns it off.
   */
  debug?: boolean | undefined;
  /** Aborts every call of this client when it fires. */
  signal?: AbortSignal | undefined;
  /**
   * How failed requests are retried (`false`: one attempt). sendPem, and the GETs and read-only graph
   * queries of RKQuery and RKAdmin, retry transient failures by default; state-changing POSTs only
   * when the request provably never left (connection refused, DNS) or the call carries an
   * `idempotencyKey`.
   */
  retry?: RetryOptions | false | undefined;
  /** sendPem requests in flight at once per client. Default 8. */
  maxInFlight?: number | undefined;
  /** Bounds of the PEMs sendPem has accepted and not yet settled. Default 10 000 PEMs or 32 MiB. */
  queue?: QueueOptions | undefined;
  /**
   * With `@opentelemetry/api` present and a span active, preparePem stamps the W3C `traceparent`
   * of that span into the PEM's Properties (`Properties.traceparent`), so the PEMs of a trace can
   * be found (`pemsOfTrace`, `rk explain --trace`). Default false.
   */
  traceContext?: boolean | undefined;
  /** Keep every PEM on disk until the Receiver acknowledges it (opt-in): `{ dir: './rk-outbox' }`. */
  outbox?: OutboxOptions | undefined;
  /** Time source for retries, deadlines, flush, close and the outbox (tests). Default real time, every timer unref'd. */
  clock?: Clock | undefined;
  /** Jitter source returning [0, 1) (tests). Default Math.random. */
  random?: (() => number) | undefined;
}

/** Options for one call. */
export interface CallOptions {
  /** Aborts this call; combined with the client's signal and the deadline. */
  signal?: AbortSignal | undefined;
  /** Overrides the client's `timeoutMs` for this call (each request of it, when it is retried). */
  timeoutMs?: number | undefined;
  /** Overrides `retry.totalTimeoutMs` for this call: every attempt and wait included. */
  totalTimeoutMs?: number | undefined;
  /**
   * Sent as the `Idempotency-Key` header. It lets RKQuery and RKAdmin retry a state-changing POST;
   * reuse the key only for the same request.
   */
  idempotencyKey?: string | undefined;
}

