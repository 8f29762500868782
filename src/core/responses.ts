import { isPlainObject } from './checks.js';
import { RKUnexpectedResponseError, type RKError } from './errors.js';

/**
 * Checks of the 2xx bodies the reference client reads (the "known" replies), from the shapes the
 * generated operations state: an object requires the fields the reference client reads (the
 * spec's `x-rk-known`, else its `required`), no more, so every reply the real RK may give is read;
 * a proxy's HTML page or a truncated answer becomes an RKUnexpectedResponseError instead of a
 * value of the wrong shape. The generated types carry the full shape; nothing here restates a field.
 */

/** A 2xx JSON body's shape, as the generated operations state it. */
export type ResponseShape =
  | { readonly type: 'object'; readonly required: readonly string[] }
  | { readonly type: 'array'; readonly items?: ResponseShape }
  | { readonly type: string };

/** What a reader names of the answer in its errors. */
interface Answered {
  readonly status: number;
}

/** The JSON of a 2xx body; an empty body is undefined (a 204, Content-Length 0). */
export function jsonOf(operation: string, answer: Answered & { readonly text: string }): unknown {
  if (answer.text === '') return undefined;
  try {
    return JSON.parse(answer.text) as unknown;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return new RKUnexpectedResponseError(operation, answer.status, `not valid JSON (${message})`, undefined, error);
  }
}

export function expectShape<T>(operation: string, shape: ResponseShape | null | undefined, data: unknown, response: Answered): T | RKError {
  if (data instanceof RKUnexpectedResponseError) return data;
  if (shape === undefined || shape === null) return data as T;
  const problem = problemOf(shape, data);
  return problem ? unexpected(operation, response.status, problem, data) : (data as T);
}

function problemOf(shape: ResponseShape, data: unknown): string | undefined {
  if (shape.type === 'object' && 'required' in shape) {
    if (!isPlainObject(data)) return 'expected a JSON object';
    const missing = shape.required.filter((key) => !(key in data));
    return missing.length ? `missing ${missing.join(', ')}` : undefined;
  }
  if (shape.type === 'array') {
    if (!Array.isArray(data)) return 'expected a JSON array';
    const items = 'items' in shape ? shape.items : undefined;
    if (!items) return undefined;
    for (const [i, item] of data.entries()) {
      const inner = problemOf(items, item);
      if (inner) return `item ${i}: ${inner}`;
    }
  }
  return undefined;
}

/** Counts arrive as `{"<key>": N}` (the key is the only required field); callers get the number. */
export function expectCount(operation: string, shape: ResponseShape | null | undefined, data: unknown, response: Answered): number | RKError {
  if (data instanceof RKUnexpectedResponseError) return data;
  const key = shape && 'required' in shape ? shape.required[0] : undefined;
  const count = key !== undefined && isPlainObject(data) ? data[key] : undefined;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
    return unexpected(operation, response.status, `expected {"${key}": <count>}`, data);
  }
  return count;
}

export function unexpected(operation: string, status: number, problem: string, data: unknown): RKUnexpectedResponseError {
  const body = typeof data === 'string' ? data : data === undefined ? '' : JSON.stringify(data);
  return new RKUnexpectedResponseError(operation, status, problem, body.slice(0, 2000));
}
