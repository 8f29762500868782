import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { cacheFolder } from '../../src/cache-folder.js';

/**
 * For suites whose subject is what storage.ts decides (load a kept copy, or have PGlite make a new
 * cluster), not PGlite's initdb itself: pass `initdbAtMostOnce` as the implementation of a spy on
 * `PGlite.create`. Every cluster the file asks PGlite to make (no `loadDataDir`, and not a data
 * directory that already holds one) is made by loading one pristine cluster into the place asked
 * for, so it costs a load (about 1 CPU s) instead of an initdb (about 4). That cluster is the one
 * this machine's local RK keeps (the cache folder as the file started, before any test changed
 * RK_LOCAL_CACHE) when it is there and loads; else the first cluster asked for is made by initdb,
 * as asked, and dumped at once, before anything runs in it. The spy still records each call as
 * storage.ts made it, so its decisions are asserted unchanged, and the store it gets is the same
 * pristine cluster initdb makes. pristine-cache.test.ts runs initdb through storage.ts itself.
 *
 * Only test files import this; each has a module graph of its own, so "at most once" is per file.
 */
const create = PGlite.create.bind(PGlite) as (...args: unknown[]) => Promise<PGlite>;
let machineCopy = keptPristineFile();
let pristine: Promise<Blob> | undefined;

export async function initdbAtMostOnce(...args: unknown[]): Promise<PGlite> {
  const [dataDir, options] = args as [unknown, PGliteOptions | undefined];
  // Passed on: PGlite.create(options), PGlite's own call for the database its initdb runs in; a
  // load; a data directory that holds a cluster, which is opened, not made.
  if (typeof dataDir !== 'string' || options?.loadDataDir || holdsCluster(dataDir)) return create(...args);
  if (!pristine && machineCopy) {
    const file = machineCopy;
    machineCopy = undefined;
    try {
      const copy = new Blob([gunzipSync(readFileSync(file))]);
      const db = await create(dataDir, { ...options, loadDataDir: copy });
      pristine = Promise.resolve(copy);
      return db;
    } catch {
      // Not a cluster this PGlite loads: made by initdb below, as if there were no copy.
    }
  }
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

/** The pristine cluster file storage.ts keeps for this PGlite version and its extensions, when there is one. */
function keptPristineFile(): string | undefined {
  const folder = cacheFolder();
  if (folder === undefined) return undefined;
  const manifest = join(import.meta.dirname, '..', '..', '..', 'node_modules', '@electric-sql', 'pglite', 'package.json');
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  const file = join(folder, `pglite-${version}-pg_trgm.tar.gz`);
  return existsSync(file) ? file : undefined;
}
