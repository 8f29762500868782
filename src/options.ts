import type { Logger } from './logger.js';

/** Options shared by RKClient, RKQuery and RKAdmin. */
export interface RKOptions {
  /** Deadline of each call in milliseconds, from request to parsed body; every call gets a fresh one. Default 5000. */
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
}

/** Options for one call. */
export interface CallOptions {
  /** Aborts this call; combined with the client's signal and the deadline. */
  signal?: AbortSignal;
  /** Overrides the client's `timeoutMs` for this call. */
  timeoutMs?: number;
}

// The security schemes in openapi/common.yaml declare these names; a unit test keeps them equal.
export const DEFAULT_USER_AUTH_HEADER = 'X-RK-User-Auth';
export const DEFAULT_PUC_AUTH_HEADER = 'X-RK-PUC-Auth';
export const DEFAULT_TIMEOUT_MS = 5000;
