/** The wire's time format: UTC `YYYY-MM-DD HH:MM:SS`, as the reference client writes it. */
export function formatTimestamp(date: Date = new Date()): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}
