import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';

/**
 * For suites whose subject is what storage.ts decides (load a kept copy, or have PGlite make a new
 * cluster), not PGlite's initdb itself: pass `initdbOncePerFile` as the implementation of a spy on
 * `PGlite.create`. The first cluster the file asks for without a dump is made by initdb, as asked,
 * and dumped at once, before anything runs in it; every later one is made by loading that dump
 * into the place asked for, so it costs a load (about 1 CPU s) instead of an initdb (about 4).
 * The spy still records each call as storage.ts made it (no `loadDataDir`), so its decisions are
 * asserted unchanged, and the store it gets is the same pristine cluster initdb makes.
 *
 * Only test files import this; each test file has a module graph of its own, so "once" is once
 * per file.
 */
const create = PGlite.create.bind(PGlite) as (...args: unknown[]) => Promise<PGlite>;
let pristine: Promise<Blob> | undefined;

export async function initdbOncePerFile(...args: unknown[]): Promise<PGlite> {
  const [dataDir, options] = args as [unknown, PGliteOptions | undefined];
  // Passed on: PGlite.create(options), PGlite's own call for the database its initdb runs in; a
  // load; a data directory that holds a cluster, which is opened, not made.
  if (typeof dataDir !== 'string' || options?.loadDataDir || holdsCluster(dataDir)) return create(...args);
  if (pristine) return create(dataDir, { ...options, loadDataDir: await pristine });
  const made = create(dataDir, options);
  pristine = made.then((db) => db.dumpDataDir('none'));
  // A failed initdb is the caller's error; the next cluster asked for runs initdb again.
  pristine.catch(() => (pristine = undefined));
  await pristine.catch(() => undefined);
  return made;
}

function holdsCluster(dataDir: string): boolean {
  return !dataDir.startsWith('memory://') && existsSync(join(dataDir, 'PG_VERSION'));
}
