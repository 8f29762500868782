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
 * Every concrete error the library makes, as a union discriminated by `kind`: a `switch
 * (error.kind)` narrows to the class, so `status` is there for `'auth'` and `timeoutMs` for
 * `'timeout'`. A plain RKHttpError is the member whose kind is `'http'` (its subclasses have their
 * own kinds). `'size_limit'` is either the client's own check (RKSizeLimitError) or the Receiver's
 * 413 (RKPemTooLargeError).
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
 * A result's error as the union above, to switch on `kind`:
 * `const error = asFailure(result.error); if (error.kind === 'auth') error.status;`.
 * Every RKError the library returns is one of the union's classes.
 */
export function asFailure(error: RKError): RKFailure {
  return error as RKFailure;
}
