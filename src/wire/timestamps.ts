/** The wire's time format: UTC `YYYY-MM-DD HH:MM:SS`, as the reference client writes it. */
export function formatTimestamp(date: Date = new Date()): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/**
 * Whether `text` is a wire timestamp of a real time (`2026-02-30 00:00:00` is not), by arithmetic:
 * `Date` would roll impossible fields over (Feb 30th becomes March 2nd), and sendPem checks one per
 * PEM.
 */
export function isTimestamp(text: unknown): text is string {
  if (typeof text !== 'string' || text.length !== 19) return false;
  const match = TIMESTAMP.exec(text);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return day <= (month === 2 ? (leap ? 29 : 28) : DAYS_IN_MONTH[month - 1]!);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The time a wire timestamp names, or undefined when it is not one (`2026-13-45 99:99:99` is not). */
export function parseTimestamp(text: unknown): Date | undefined {
  return isTimestamp(text) ? new Date(`${text.replace(' ', 'T')}Z`) : undefined;
}
