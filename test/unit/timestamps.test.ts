import { describe, expect, it } from 'vitest';
import { formatTimestamp, isTimestamp, parseTimestamp } from '../../src/wire/timestamps.js';

/** An independent oracle: a wire timestamp is real when Date reads it back unchanged. */
function roundTrips(value: unknown): boolean {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(value)) return false;
  const date = new Date(`${value.replace(' ', 'T')}Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 19).replace('T', ' ') === value;
}

describe('wire timestamps', () => {
  it('isTimestamp tells real times from impossible and malformed ones, as a Date round trip does; parseTimestamp gives the time', () => {
    const cases = [
      '2026-12-01 11:27:30', '2024-02-29 00:00:00', '2000-02-29 23:59:59', '0000-01-01 00:00:00', '9999-12-31 23:59:59',
      '2026-02-29 00:00:00', '1900-02-29 12:00:00', '2026-04-31 00:00:00', '2026-13-01 00:00:00', '2026-00-10 00:00:00',
      '2026-01-00 00:00:00', '2026-01-01 24:00:00', '2026-01-01 23:60:00', '2026-01-01 23:59:60', '2026-1-01 00:00:00',
      '2026-01-01T00:00:00', '2026-01-01 00:00:00Z', ' 2026-01-01 00:00:00', '', 20260101, null, undefined,
    ];
    for (const value of cases) {
      expect([value, isTimestamp(value)]).toEqual([value, roundTrips(value)]);
      expect([value, parseTimestamp(value)?.toISOString()]).toEqual([value, roundTrips(value) ? new Date(`${String(value).replace(' ', 'T')}Z`).toISOString() : undefined]);
    }
    expect(cases.filter(roundTrips)).toHaveLength(5);
  });

  it('agrees with the round trip on every day of four years around a leap day, at odd times', () => {
    for (let day = Date.UTC(2023, 0, 1); day < Date.UTC(2027, 0, 1); day += 86_400_000 + 3_723_000) {
      const text = formatTimestamp(new Date(day));
      expect(isTimestamp(text)).toBe(true);
      // Day 31 of this month: real only in the months that have it.
      const thirtyFirst = `${text.slice(0, 8)}31${text.slice(10)}`;
      expect(isTimestamp(thirtyFirst)).toBe(roundTrips(thirtyFirst));
    }
  });
});
