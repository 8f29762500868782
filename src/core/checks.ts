import { RKInvalidInputError } from './errors.js';
import { isHexId } from '../wire/ids.js';
import { MAX_TIMER_MS } from '../resilience/clock.js';

/** Checks of caller input. Each throws an RKInvalidInputError that says what to pass instead. */

export function requireText(operation: string, argument: string, value: unknown, example: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new RKInvalidInputError(
      operation,
      argument,
      `must be a non-empty string, got ${describe(value)}; pass something like ${JSON.stringify(example)}`,
    );
  }
  return value;
}

export function requireHexId(operation: string, argument: string, value: unknown): string {
  if (!isHexId(value)) {
    throw new RKInvalidInputError(
      operation,
      argument,
      `must be a PEM ID of 32 lowercase hex digits without dashes, got ${describe(value)}; ` +
        'pass the ID of a PEM made by preparePem (pem.ID)',
    );
  }
  return value;
}

export function requireObject(operation: string, argument: string, value: unknown): Record<string, unknown> {
  if (!isPlainObject(value)) {
    throw new RKInvalidInputError(
      operation,
      argument,
      `must be a plain object of JSON values, got ${describe(value)}; pass for example { "filename": "data.csv" }`,
    );
  }
  return value;
}

export function requireStringRecord(operation: string, argument: string, value: unknown): Record<string, string> {
  const record = requireObject(operation, argument, value);
  for (const [key, item] of Object.entries(record)) {
    if (typeof item !== 'string') {
      throw new RKInvalidInputError(
        operation,
        `${argument}.${key}`,
        `must be a string (artifact properties are strings), got ${describe(item)}; convert it, e.g. String(value) or JSON.stringify(value)`,
      );
    }
  }
  return record as Record<string, string>;
}

/** Runs checks that throw and hands back the error instead, for methods that never reject. */
export function checked<T>(check: () => T): T | RKInvalidInputError {
  try {
    return check();
  } catch (error) {
    if (error instanceof RKInvalidInputError) return error;
    throw error;
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value === '' ? 'an empty string' : JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value);
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'Object'}`;
  return `${typeof value} ${String(value)}`;
}

export function whole(operation: string, argument: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RKInvalidInputError(operation, argument, `must be a whole number from ${min} to ${max}, got ${shown(value)}`);
  }
  return value;
}

/** A deadline from a caller: positive milliseconds a timer can hold. The one check of every `*Ms`. */
export function checkMs(operation: string, argument: string, value: unknown): RKInvalidInputError | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMER_MS) {
    return new RKInvalidInputError(operation, argument, `must be a positive number of milliseconds below 2^31, got ${shown(value)}`);
  }
  return undefined;
}

/** checkMs for settings: throws instead of returning. */
export function requireMs(operation: string, argument: string, value: unknown): number {
  const problem = checkMs(operation, argument, value);
  if (problem) throw problem;
  return value as number;
}

/** A number as written, anything else described (never String() of an object, which may throw). */
function shown(value: unknown): string {
  return typeof value === 'number' ? String(value) : describe(value);
}
