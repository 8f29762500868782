import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';

/**
 * The one place the replica loads PGlite (an optional peer dependency), with a dynamic import so
 * that importing the client never loads it. A browser bundle swaps this file for
 * `src/browser/pglite.ts` (package.json's `browser` field): a replica on disk needs a file system.
 */
export function loadPGlite(): Promise<unknown> {
  return import('@electric-sql/pglite');
}

/** What of PGlite this file uses: creating a cluster (in a directory or in memory) and dumping one. */
interface PGliteModule {
  PGlite: { create(dataDir: string, options: Record<string, unknown>): Promise<Cluster> };
}
interface Cluster {
  dumpDataDir(compression: 'none'): Promise<Blob>;
  close(): Promise<void>;
}

/**
 * Opens the PGlite cluster in `dir` (`pglite`: what loadPGlite loaded). A new copy (no directory,
 * or an empty one) starts as a copy of a pristine cluster kept on disk instead of running initdb,
 * which costs 2 to 3 CPU s in WebAssembly (writing out a copy costs about half of that): every
 * `rk sync` into a new directory, every test of the replica. The file is the one the local RK keeps
 * its pristine clusters beside (`RK_LOCAL_CACHE`: a folder, or `off` for none; else
 * `$XDG_CACHE_HOME/recordkeeper-local` or `~/.cache/recordkeeper-local`), named for the PGlite
 * version. It is made once (initdb in memory, dumped before any statement, so it holds nothing of
 * any copy), written atomically; a file that cannot be read or loaded is made again, never fatal.
 * The process keeps no dump in memory: a long-lived client holding a replica holds only the copy.
 */
export async function openCluster(pglite: unknown, dir: string, postgresqlconf: readonly string[]): Promise<unknown> {
  const { PGlite } = pglite as PGliteModule;
  const options = { postgresqlconf: [...postgresqlconf] };
  const file = isNew(dir) ? pristineFile() : undefined;
  if (!file) return PGlite.create(dir, options);
  for (const attempt of ['kept', 'made'] as const) {
    const dump = attempt === 'kept' ? await readPristine(file).catch(() => undefined) : await makePristine(PGlite, file);
    if (!dump) continue;
    try {
      // Written here with Node's file system, then opened as the cluster it is: PGlite's own
      // `loadDataDir` writes each of the ~1 000 files through its emulated file system, which
      // costs more than the rest of opening a new copy.
      extractCluster(dump, dir);
      return await PGlite.create(dir, options);
    } catch {
      // A bad dump: the directory is emptied of what the failed load left, then made again or initdb.
      for (const entry of readdirSync(dir)) rmSync(path.join(dir, entry), { recursive: true, force: true });
      if (attempt === 'kept') rmSync(file, { force: true });
    }
  }
  return PGlite.create(dir, options);
}

/**
 * Writes the cluster in `tar` (the ustar archive PGlite's `dumpDataDir` makes: directories and
 * regular files) into `dir`, private to this user. Throws on an archive that is not one, that
 * reaches outside `dir`, or that holds no PG_VERSION (PGlite would run initdb over it instead).
 * Exported for its test.
 */
export function extractCluster(tar: Uint8Array, dir: string): void {
  const root = path.resolve(dir);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const text = (header: Uint8Array, from: number, to: number) => {
    const field = header.subarray(from, to);
    const end = field.indexOf(0);
    return Buffer.from(end < 0 ? field : field.subarray(0, end)).toString('utf8');
  };
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const header = tar.subarray(offset, offset + 512);
    if (header[0] === 0) break;
    if (text(header, 257, 262) !== 'ustar') throw new Error('not a ustar archive');
    const prefix = text(header, 345, 500);
    const name = prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100);
    const size = Number.parseInt(text(header, 124, 136).trim() || '0', 8);
    const target = path.resolve(root, `.${path.posix.sep}${name}`);
    if (!Number.isSafeInteger(size) || size < 0 || offset + 512 + size > tar.length) throw new Error(`a bad size for ${name}`);
    if (target !== root && !target.startsWith(root + path.sep)) throw new Error(`${name} is outside the cluster`);
    const type = String.fromCharCode(header[156] || 48);
    if (type === '5') mkdirSync(target, { recursive: true, mode: 0o700 });
    else if (type === '0') {
      mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
      writeFileSync(target, tar.subarray(offset + 512, offset + 512 + size), { mode: 0o600 });
    } else throw new Error(`${name} is neither a file nor a directory`);
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  if (!existsSync(path.join(root, 'PG_VERSION'))) throw new Error('no PG_VERSION: not a cluster');
}

function isNew(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch (error) {
    return (error as { code?: unknown }).code === 'ENOENT';
  }
}

/** Where the pristine cluster of this PGlite version is kept, or undefined for nowhere. */
function pristineFile(): string | undefined {
  const setting = process.env.RK_LOCAL_CACHE;
  if (setting === 'off') return undefined;
  try {
    const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
    const { version } = JSON.parse(readFileSync(path.join(path.dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
    const folder = setting || path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'recordkeeper-local');
    return path.join(path.resolve(folder), `pglite-${version}.tar.gz`);
  } catch {
    return undefined;
  }
}

async function readPristine(file: string): Promise<Uint8Array> {
  return gunzipSync(await readFile(file));
}

/** initdb in memory, dumped before any statement, and written under a name of its own then renamed. */
async function makePristine(PGlite: PGliteModule['PGlite'], file: string): Promise<Uint8Array | undefined> {
  let dump: Uint8Array;
  try {
    const fresh = await PGlite.create('memory://', {});
    try {
      dump = new Uint8Array(await (await fresh.dumpDataDir('none')).arrayBuffer());
    } finally {
      await fresh.close();
    }
  } catch {
    return undefined;
  }
  const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(partial, gzipSync(dump, { level: 1 }), { mode: 0o600 });
    await rename(partial, file);
  } catch {
    // A cache that cannot be written (read-only home, full disk) costs only the next copy's initdb.
    try {
      rmSync(partial, { force: true });
    } catch {
      // `force` forgives only a missing file: under a regular file (ENOTDIR) there is nothing to remove.
    }
  }
  return dump;
}
