import {
  RKAbortError,
  RKAuthError,
  RKConnectionError,
  RKError,
  RKHttpError,
  RKNotFoundError,
  RKPemTooLargeError,
  RKQueueFullError,
  RKRejectedPemError,
  RKShutdownError,
  RKSizeLimitError,
  RKTimeoutError,
  RKUnexpectedResponseError,
} from '../core/errors.js';
import { parseRetryAfter } from '../resilience/backoff.js';
import type { DropReason } from './events.js';

/** What a failed PEM request means for that PEM. */
export type PemFailure =
  /** The Receiver refused the PEM itself; resending cannot help. */
  | { kind: 'rejected'; error: RKRejectedPemError | RKPemTooLargeError | RKHttpError }
  /** 401 / 403: nothing wrong with the PEM, everything wrong with the credential. */
  | { kind: 'auth'; error: RKAuthError }
  /** 404 / 405: the Receiver URL is wrong; the PEM was not judged. */
  | { kind: 'route'; error: RKNotFoundError }
  /** A caller's or the client's signal stopped it. */
  | { kind: 'aborted'; error: RKAbortError }
  /** Worth another attempt later. */
  | { kind: 'transient'; error: RKError; retryAfterMs: number | undefined };

/**
 * The typed error a sendPem caller gets for an HTTP failure of `POST /pem` at `pemUrl`. The Receiver
 * documents no 404 or 405 for it: either means the URL is wrong, not the PEM.
 */
export function pemHttpError(error: RKError, sizeBytes: number, pemUrl: string): RKError {
  if (
    !(error instanceof RKHttpError) ||
    error instanceof RKRejectedPemError ||
    error instanceof RKAuthError ||
    error instanceof RKPemTooLargeError ||
    error instanceof RKNotFoundError
  ) {
    return error;
  }
  if (error.status === 401 || error.status === 403) return new RKAuthError(error);
  if (error.status === 404 || error.status === 405) return new RKNotFoundError(error, 'POST', pemUrl);
  if (error.status === 413) return new RKPemTooLargeError(error, sizeBytes);
  if (error.status === 400 || error.status === 409 || error.status === 422) return new RKRejectedPemError(error);
  return error;
}

export function classifyPemFailure(error: RKError, sizeBytes: number, nowMs: number, pemUrl: string): PemFailure {
  const typed = pemHttpError(error, sizeBytes, pemUrl);
  if (typed instanceof RKAuthError) return { kind: 'auth', error: typed };
  if (typed instanceof RKNotFoundError) return { kind: 'route', error: typed };
  if (typed instanceof RKAbortError) return { kind: 'aborted', error: typed };
  if (typed instanceof RKHttpError) {
    const status = typed.status;
    // Any other 4xx (405, 410, 415, ...) is as final as a 400, except "try later" ones.
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) return { kind: 'rejected', error: typed };
    return { kind: 'transient', error: typed, retryAfterMs: parseRetryAfter(typed.headers.get('retry-after'), nowMs) };
  }
  // Timeouts, connection failures and a 2xx that is not an acknowledgement (a proxy's page): the
  // PEM may not be stored, so it is kept and tried again.
  return { kind: 'transient', error: typed, retryAfterMs: undefined };
}

export function dropReasonOf(error: RKError): DropReason {
  if (error instanceof RKQueueFullError) return error.queue === 'memory' ? 'queue_full' : 'outbox_full';
  if (error instanceof RKShutdownError) return 'shutdown';
  if (error instanceof RKAbortError) return 'aborted';
  if (error instanceof RKSizeLimitError || error instanceof RKPemTooLargeError) return 'too_large';
  if (error instanceof RKAuthError) return 'auth';
  if (error instanceof RKNotFoundError) return 'not_found';
  if (error instanceof RKRejectedPemError) return 'rejected';
  if (error instanceof RKTimeoutError) return 'timeout';
  if (error instanceof RKConnectionError) return 'connection';
  if (error instanceof RKUnexpectedResponseError) return 'unexpected_response';
  if (error instanceof RKHttpError) return error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429 ? 'rejected' : 'http';
  return 'invalid';
}
