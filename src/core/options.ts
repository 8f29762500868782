import type { Clock } from '../resilience/clock.js';
import type { QueueOptions } from '../delivery/delivery.js';
import type { OutboxOptions } from '../delivery/outbox/outbox.js';
import type { RetryOptions } from './retry-policy.js';
import type { Logger } from './logger.js';

/** Options shared by RKClient, RKQuery and RKAdmin. */
export interface RKOptions {
  /**
   * Deadline of each request in milliseconds, from request to parsed body; every request gets a
   * fresh one. Default 5000; sendPem's attempts default to 10000. With retries, the whole call is
   * bounded by `retry.totalTimeoutMs`.
   */
  timeoutMs?: number;
  /**
   * Turn off TLS certificate verification for this client only (self-signed test servers).
   * Off by default; never changes the process-wide setting.
   */
  insecure?: boolean;
  /** A personal credential from the RK Dashboard. Sent instead of `pucAuth` when both are set. */
  userAuth?: string;
  /** A PUC credential from an RK admin, for machine code in production. */
  pucAuth?: string;
  /** Header that carries `userAuth`. Default `X-RK-User-Auth`, as the specs declare. */
  userAuthHeader?: string;
  /** Header that carries `pucAuth`. Default `X-RK-PUC-Auth`, as the specs declare. */
  pucAuthHeader?: string;
  /** Default `recordkeeper-client-<version>`, like the reference client. */
  userAgent?: string;
  /** A fetch implementation to use instead of the global one (tests, proxies, instrumentation). */
  fetch?: typeof globalThis.fetch;
  /** Receives warnings; defaults to console.warn. */
  logger?: Logger;
  /** Aborts every call of this client when it fires. */
  signal?: AbortSignal;
  /**
   * How failed requests are retried (`false`: one attempt). sendPem, and the GETs and read-only graph
   * queries of RKQuery and RKAdmin, retry transient failures by default; state-changing POSTs only
   * when the request provably never left (connection refused, DNS) or the call carries an
   * `idempotencyKey`.
   */
  retry?: RetryOptions | false;
  /** sendPem requests in flight at once per client. Default 8. */
  maxInFlight?: number;
  /** Bounds of the PEMs sendPem has accepted and not yet settled. Default 10 000 PEMs or 32 MiB. */
  queue?: QueueOptions;
  /** Keep every PEM on disk until the Receiver acknowledges it (opt-in): `{ dir: './rk-outbox' }`. */
  outbox?: OutboxOptions;
  /** Time source for retries, deadlines, flush, close and the outbox (tests). Default real time, every timer unref'd. */
  clock?: Clock;
  /** Jitter source returning [0, 1) (tests). Default Math.random. */
  random?: () => number;
}

/** Options for one call. */
export interface CallOptions {
  /** Aborts this call; combined with the client's signal and the deadline. */
  signal?: AbortSignal;
  /** Overrides the client's `timeoutMs` for this call (each request of it, when it is retried). */
  timeoutMs?: number;
  /** Overrides `retry.totalTimeoutMs` for this call: every attempt and wait included. */
  totalTimeoutMs?: number;
  /**
   * Sent as the `Idempotency-Key` header. It lets RKQuery and RKAdmin retry a state-changing POST;
   * reuse the key only for the same request.
   */
  idempotencyKey?: string;
}

// The security schemes in openapi/common.yaml declare these names; a unit test keeps them equal.
export const DEFAULT_USER_AUTH_HEADER = 'X-RK-User-Auth';
export const DEFAULT_PUC_AUTH_HEADER = 'X-RK-PUC-Auth';
export const DEFAULT_TIMEOUT_MS = 5000;
