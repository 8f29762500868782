import { RKInvalidInputError } from '../index.js';

/**
 * Times inside the lineage index are whole seconds since the epoch (UTC), because the wire's
 * timestamps (`YYYY-MM-DD HH:MM:SS`) have one-second resolution. NaN means "not known" (a PEM that
 * is only referred to as a predecessor).
 */

/** What callers may pass as a time: the wire text, an ISO 8601 text, a Date, or epoch milliseconds. */
export type TimeInput = string | Date | number;

const WIRE = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.\d+)?Z?$/;

/** Parses a wire timestamp quickly (no Date allocation); NaN when it is not one. */
export function wireSeconds(text: string): number {
  if (typeof text !== 'string') return Number.NaN;
  const m = WIRE.exec(text);
  if (!m) return Number.NaN;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) / 1000;
}

/** The wire text of a time in seconds (`2026-11-27 22:06:40`), or null when unknown. */
export function formatSeconds(seconds: number): string | null {
  if (!Number.isFinite(seconds)) return null;
  return new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

/** A caller's time as whole seconds; a clear RKInvalidInputError when it is not a time. */
export function toSeconds(operation: string, argument: string, value: TimeInput): number {
  let seconds = Number.NaN;
  if (value instanceof Date) seconds = value.getTime() / 1000;
  else if (typeof value === 'number') seconds = value / 1000;
  else if (typeof value === 'string') {
    seconds = wireSeconds(value.trim());
    if (Number.isNaN(seconds)) seconds = Date.parse(value) / 1000;
  }
  if (!Number.isFinite(seconds)) {
    throw new RKInvalidInputError(
      operation,
      argument,
      `must be a time: "2026-11-27 22:06:40" (UTC), an ISO 8601 text, a Date or epoch milliseconds, got ${JSON.stringify(value)}`,
    );
  }
  return Math.floor(seconds);
}
