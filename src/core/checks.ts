import { withoutUserinfo } from './url-text.js';
import { RKInvalidInputError } from './errors.js';
import { isHexId } from '../wire/ids.js';
import { MAX_TIMER_MS } from '../resilience/clock.js';
import type { CallOptions } from './options.js';

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

/**
 * Runs checks that throw and hands back the error instead, for methods that never reject. Input
 * that throws while it is read (a getter, a Proxy) is an invalid input too; its own error's text is
 * not repeated, as it may carry anything.
 */
export function checked<T>(check: () => T, operation = 'Checking input', argument = 'arguments'): T | RKInvalidInputError {
  try {
    return check();
  } catch (error) {
    if (error instanceof RKInvalidInputError) return error;
    return unreadable(operation, argument, error);
  }
}

/** Runs `check`; anything but an RKInvalidInputError it throws becomes one naming `argument`. */
export function guarded<T>(operation: string, argument: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof RKInvalidInputError) throw error;
    throw unreadable(operation, argument, error);
  }
}

function unreadable(operation: string, argument: string, error: unknown): RKInvalidInputError {
  const kind = error instanceof Error ? safe(() => error.constructor.name, 'Error') : typeof error;
  return new RKInvalidInputError(operation, argument, `could not be read (reading it threw ${kind}); pass plain values, without getters or proxies that throw`);
}

function safe<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/**
 * An options object as a plain snapshot: its own enumerable properties read once, each read
 * guarded, so later checks never meet a getter or a Proxy that throws or changes its answer.
 * `nested` names properties that are option objects themselves and are snapshotted too (their
 * own `nested` after a dot: `retry.budget`). Values that are not plain objects are kept as given.
 */
export function snapshotOptions(
  operation: string,
  argument: string,
  value: unknown,
  nested: readonly string[] = [],
): Record<string, unknown> {
  return guarded(operation, argument, () => {
    if (!isPlainObject(value)) {
      throw new RKInvalidInputError(operation, argument, `must be a plain object, got ${describe(value)}`);
    }
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const item = value[key];
      const deeper = nested.filter((n) => n.startsWith(`${key}.`)).map((n) => n.slice(key.length + 1));
      copy[key] = nested.includes(key) && isPlainObject(item) ? snapshotOptions(operation, `${argument === 'options' ? '' : `${argument}.`}${key}`, item, deeper) : item;
    }
    return copy;
  });
}

/** A header value sent as given (an idempotency key): refused without echoing it when a header cannot carry it. */
function headerSafe(operation: string, argument: string, value: unknown): string {
  if (typeof value !== 'string' || value === '' || /[^\t\x20-\x7e\x80-\xff]/.test(value) || value !== value.trim()) {
    throw new RKInvalidInputError(operation, argument, 'must be a non-empty string that an HTTP header can carry (no line breaks, control characters or surrounding spaces)');
  }
  return value;
}

/**
 * The last argument of a network method, checked and copied: undefined, or an object with at
 * most `signal` (an AbortSignal), `timeoutMs`, `totalTimeoutMs` and `idempotencyKey`.
 */
export function readCallOptions(operation: string, call: unknown): CallOptions | undefined {
  if (call === undefined) return undefined;
  const o = snapshotOptions(operation, 'call', call);
  const copy: CallOptions = {};
  if (o.signal !== undefined) {
    if (!(o.signal instanceof AbortSignal)) {
      throw new RKInvalidInputError(operation, 'signal', `must be an AbortSignal (for example new AbortController().signal), got ${describe(o.signal)}`);
    }
    copy.signal = o.signal;
  }
  for (const key of ['timeoutMs', 'totalTimeoutMs'] as const) {
    const problem = checkMs(operation, key, o[key]);
    if (problem) throw problem;
    if (o[key] !== undefined) copy[key] = o[key] as number;
  }
  if (o.idempotencyKey !== undefined) copy.idempotencyKey = headerSafe(operation, 'idempotencyKey', o.idempotencyKey);
  return copy;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  // A Proxy's getPrototypeOf may throw: then it is no plain object.
  const proto = safe(() => Object.getPrototypeOf(value) as unknown, undefined);
  return proto === Object.prototype || proto === null;
}

export function describe(value: unknown): string {
  return safe(() => describeValue(value), 'a value that cannot be read');
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') {
    if (value === '') return 'an empty string';
    // A URL's user:password@ is never repeated, wherever the URL was passed.
    const shown = withoutUserinfo(value);
    return JSON.stringify(shown.length > 60 ? `${shown.slice(0, 60)}...` : shown);
  }
  if (typeof value === 'object') return Object.getPrototypeOf(value) === null ? 'an object without prototype' : `an instance of ${value.constructor?.name ?? 'Object'}`;
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
