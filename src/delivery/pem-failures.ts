import { RKAbortError, RKConnectionError, RKError, RKQueueFullError, RKShutdownError, RKSizeLimitError, RKTimeoutError, RKUnexpectedResponseError } from '../core/errors.js';
import { RKAuthError, RKHttpError, RKNotFoundError, RKPemTooLargeError, RKRejectedError } from '../core/http-errors.js';
import { parseRetryAfter } from '../resilience/backoff.js';
import type { DropReason } from './events.js';

/**
 * What a failed `POST /pem` means for that PEM: one switch, used by the direct send, the outbox's
 * first attempt and its drainer alike. The error classes come from the one status map
 * (core/http-errors.ts), the same for every service.
 */
export type PemFailure =
  /** The Receiver refused the PEM itself; resending cannot help. */
  | { kind: 'rejected'; error: RKRejectedError | RKPemTooLargeError }
  /** 401 / 403: nothing wrong with the PEM, everything wrong with the credential. */
  | { kind: 'auth'; error: RKAuthError }
  /** 404 / 405: the Receiver URL is wrong; the PEM was not judged. */
  | { kind: 'route'; error: RKNotFoundError }
  /** A caller's or the client's signal stopped it. */
  | { kind: 'aborted'; error: RKAbortError }
  /** Worth another attempt later. */
  | { kind: 'transient'; error: RKError; retryAfterMs: number | undefined };

export function classifyPemFailure(error: RKError, nowMs: number): PemFailure {
  if (error instanceof RKAuthError) return { kind: 'auth', error };
  if (error instanceof RKNotFoundError) return { kind: 'route', error };
  if (error instanceof RKRejectedError || error instanceof RKPemTooLargeError) return { kind: 'rejected', error };
  if (error instanceof RKAbortError) return { kind: 'aborted', error };
  if (error instanceof RKHttpError) return { kind: 'transient', error, retryAfterMs: parseRetryAfter(error.headers.get('retry-after'), nowMs) };
  // Timeouts, connection failures and a 2xx that is not an acknowledgement (a proxy's page): the
  // PEM may not be stored, so it is kept and tried again.
  return { kind: 'transient', error, retryAfterMs: undefined };
}

export function dropReasonOf(error: RKError): DropReason {
  if (error instanceof RKQueueFullError) return error.queue === 'memory' ? 'queue_full' : 'outbox_full';
  if (error instanceof RKShutdownError) return 'shutdown';
  if (error instanceof RKAbortError) return 'aborted';
  if (error instanceof RKSizeLimitError || error instanceof RKPemTooLargeError) return 'too_large';
  if (error instanceof RKAuthError) return 'auth';
  if (error instanceof RKNotFoundError) return 'not_found';
  if (error instanceof RKRejectedError) return 'rejected';
  if (error instanceof RKTimeoutError) return 'timeout';
  if (error instanceof RKConnectionError) return 'connection';
  if (error instanceof RKUnexpectedResponseError) return 'unexpected_response';
  if (error instanceof RKHttpError) return 'http';
  return 'invalid';
}
