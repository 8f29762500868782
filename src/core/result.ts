import type { RKError } from './errors.js';

/**
 * What every network method resolves to. Methods never reject: a failure is a value the caller
 * must look at, as with the reference client's `(value, message, ok)` triples.
 */
export type Result<T, E extends RKError = RKError> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: E };

export function success<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function failure<E extends RKError>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}
