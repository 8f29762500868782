import type { RKError } from './errors.js';
import type { RKFailure } from './result.js';

export type { RKFailure } from './result.js';

/**
 * An RKError as the union of the error classes. Every `Result`'s `error` is already that union, so
 * results need no call; this remains for an RKError met elsewhere (a delivery event's `error`, a
 * `catch` of a lineage iterator) and for code written against 0.1.0.
 */
export function asFailure(error: RKError): RKFailure {
  return error as RKFailure;
}
