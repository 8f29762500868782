import { rmSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * The folder where the server keeps what it can make again but would rather not make at every
 * start (storage.ts: PGlite clusters; spec.ts: the bundled specs): `RK_LOCAL_CACHE` (a folder, or
 * `off` for nowhere), else `$XDG_CACHE_HOME/recordkeeper-local` or `~/.cache/recordkeeper-local`.
 * Imported by storage.ts and spec.ts only (and by the tests' helpers/one-initdb.ts, which starts
 * test clusters from the pristine one kept here).
 */
export function cacheFolder(): string | undefined {
  const setting = process.env.RK_LOCAL_CACHE;
  if (setting === 'off') return undefined;
  return path.resolve(setting || path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'recordkeeper-local'));
}

/**
 * Written under a name of its own, then renamed: processes starting together never read half a
 * file. A cache that cannot be written (read-only home, full disk) costs only the next start.
 */
export async function writeCacheFile(file: string, content: Uint8Array | string): Promise<void> {
  const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(partial, content, { mode: 0o600 });
    await rename(partial, file);
  } catch {
    try {
      rmSync(partial, { force: true });
    } catch {
      // `force` forgives only a missing file: under a regular file (ENOTDIR) there is nothing to remove.
    }
  }
}
