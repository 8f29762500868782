import { isPlainObject } from './checks.js';
import { RKUnexpectedResponseError, type RKError } from './errors.js';

/**
 * Light checks of 2xx bodies: enough that a proxy's HTML page or a truncated answer becomes an
 * RKUnexpectedResponseError instead of a value of the wrong shape. The spec-generated types carry
 * the full shape.
 */

export function expectObject<T>(
  operation: string,
  data: unknown,
  response: Response,
  required: readonly (keyof T & string)[],
): T | RKError {
  if (!isPlainObject(data)) return unexpected(operation, response.status, 'expected a JSON object', data);
  const missing = required.filter((key) => !(key in data));
  if (missing.length) return unexpected(operation, response.status, `missing ${missing.join(', ')}`, data);
  return data as T;
}

export function expectArray<T>(operation: string, data: unknown, response: Response): T[] | RKError {
  if (!Array.isArray(data)) return unexpected(operation, response.status, 'expected a JSON array', data);
  return data as T[];
}

/** Counts arrive as `{"<key>": N}`; callers get the number. */
export function expectCount(operation: string, data: unknown, response: Response, key: string): number | RKError {
  const count = isPlainObject(data) ? data[key] : undefined;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
    return unexpected(operation, response.status, `expected {"${key}": <count>}`, data);
  }
  return count;
}

export function unexpected(operation: string, status: number, problem: string, data: unknown): RKUnexpectedResponseError {
  const body = typeof data === 'string' ? data : data === undefined ? '' : JSON.stringify(data);
  return new RKUnexpectedResponseError(operation, status, problem, body.slice(0, 2000));
}
