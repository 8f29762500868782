import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { cacheFolder } from '../../src/cache-folder.js';
// The replica's writer of a cluster dump into a folder, with Node's file calls (the client's source: these are tests).
import { extractCluster } from '../../../src/lineage/replica/pglite.js';

/**
 * For suites whose subject is what storage.ts decides (load a kept copy, or have PGlite make a new
 * cluster), not PGlite's initdb itself: pass `initdbAtMostOnce` as the implementation of a spy on
 * `PGlite.create`. Every cluster the file asks PGlite to make (no `loadDataDir`, and not a data
 * directory that already holds one) starts as a copy of one pristine cluster (`pristineCluster`),
 * loaded into memory or written into the data directory, so it costs a load (about 1 CPU s)
 * instead of an initdb (about 4). The spy still records each call as storage.ts made it, so its
 * decisions are asserted unchanged, and the store it gets is the same pristine cluster initdb
 * makes. pristine-cache.test.ts runs initdb through storage.ts itself.
 *
 * Only test files import this; each has a module graph of its own, so what is made here is made
 * once per file.
 */
const create = PGlite.create.bind(PGlite) as (...args: unknown[]) => Promise<PGlite>;

export async function initdbAtMostOnce(...args: unknown[]): Promise<PGlite> {
  const [dataDir, options] = args as [unknown, PGliteOptions | undefined];
  // Passed on: PGlite.create(options), PGlite's own call for the database its initdb runs in; a
  // load; a data directory that holds a cluster, which is opened, not made.
  if (typeof dataDir !== 'string' || options?.loadDataDir || holdsCluster(dataDir)) return create(...args);
  const cluster = await pristineCluster();
  if (dataDir.startsWith('memory://')) return create(dataDir, { ...options, loadDataDir: new Blob([cluster]) });
  extractCluster(cluster, dataDir);
  return create(dataDir, options);
}

function holdsCluster(dataDir: string): boolean {
  return !dataDir.startsWith('memory://') && existsSync(join(dataDir, 'PG_VERSION'));
}

let pristine: Promise<Uint8Array> | undefined;

/**
 * A pristine cluster (initdb only, pg_trgm available) as PGlite dumps it, once per file: the one
 * this machine's local RK keeps (the cache folder as the file started, before any test changed
 * RK_LOCAL_CACHE), else made here by initdb.
 */
export function pristineCluster(): Promise<Uint8Array> {
  pristine ??= (async () => {
    const kept = keptPristine();
    if (kept) return kept;
    const db = await create('memory://', { extensions: { pg_trgm } });
    try {
      return new Uint8Array(await (await db.dumpDataDir('none')).arrayBuffer());
    } finally {
      await db.close();
    }
  })();
  pristine.catch(() => (pristine = undefined));
  return pristine;
}

const folder = cacheFolder();

function keptPristine(): Uint8Array | undefined {
  if (folder === undefined) return undefined;
  try {
    const manifest = join(import.meta.dirname, '..', '..', '..', 'node_modules', '@electric-sql', 'pglite', 'package.json');
    const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
    const cluster = gunzipSync(readFileSync(join(folder, `pglite-${version}-pg_trgm.tar.gz`)));
    // A cluster's dump opens with its folders, in a ustar archive; anything else is made anew.
    return cluster.subarray(257, 262).toString('latin1') === 'ustar' ? cluster : undefined;
  } catch {
    return undefined;
  }
}
