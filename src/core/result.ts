import type {
  RKAbortError,
  RKConnectionError,
  RKError,
  RKInvalidInputError,
  RKQueueFullError,
  RKShutdownError,
  RKSizeLimitError,
  RKTimeoutError,
  RKUnexpectedResponseError,
} from './errors.js';
import type { RKAuthError, RKHttpError, RKNotFoundError, RKPemTooLargeError, RKRejectedError } from './http-errors.js';

/**
 * Every concrete error the library makes, as a union discriminated by `kind`, so the natural code
 * compiles: `if (!r.ok && r.error.kind === 'http') r.error.status`, and a `switch (error.kind)`
 * gives `status` for `'auth'` and `timeoutMs` for `'timeout'`. A plain RKHttpError is the member
 * whose kind is `'http'` (its subclasses have kinds of their own). `'size_limit'` is either the
 * client's own check (RKSizeLimitError) or the Receiver's 413 (RKPemTooLargeError).
 */
export type RKFailure =
  | (RKHttpError & { readonly kind: 'http' })
  | RKAuthError
  | RKNotFoundError
  | RKRejectedError
  | RKPemTooLargeError
  | RKConnectionError
  | RKTimeoutError
  | RKAbortError
  | RKInvalidInputError
  | RKSizeLimitError
  | RKUnexpectedResponseError
  | RKQueueFullError
  | RKShutdownError;

/**
 * What every network method resolves to. Methods never reject: a failure is a value the caller
 * must look at, as with the reference client's `(value, message, ok)` triples. `error` is the
 * union of the error classes, narrowed by `kind`.
 */
export type Result<T, E extends RKError = RKFailure> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: E };

export function success<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

/**
 * The failed result. The library only ever makes the concrete classes of RKFailure (RKError is
 * abstract and each subclass fixes its kind), so any RKError it holds is one of them: this is the
 * one place that says so to the compiler.
 */
export function failure(error: RKError): { readonly ok: false; readonly error: RKFailure } {
  return { ok: false, error: error as RKFailure };
}
