/** The wire's time format: UTC `YYYY-MM-DD HH:MM:SS`, as the reference client writes it. */
export function formatTimestamp(date: Date = new Date()): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** The time a wire timestamp names, or undefined when it is not one (`2026-13-45 99:99:99` is not). */
export function parseTimestamp(text: unknown): Date | undefined {
  if (typeof text !== 'string') return undefined;
  const match = TIMESTAMP.exec(text);
  if (!match) return undefined;
  const date = new Date(`${text.replace(' ', 'T')}Z`);
  // Date rolls impossible fields over (Feb 30th becomes March 2nd): only a round trip is real.
  return Number.isNaN(date.getTime()) || formatTimestamp(date) !== text ? undefined : date;
}
