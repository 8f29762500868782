/**
 * The one place the replica loads PGlite (an optional peer dependency), with a dynamic import so
 * that importing the client never loads it. A browser bundle swaps this file for
 * `src/browser/pglite.ts` (package.json's `browser` field): a replica on disk needs a file system.
 */
export function loadPGlite(): Promise<unknown> {
  return import('@electric-sql/pglite');
}
