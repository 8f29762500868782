import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { makePem } from './helpers/harness.js';
import { initdbAtMostOnce } from './helpers/one-initdb.js';

/**
 * What the on-disk caches (cache-folder.ts, storage.ts, spec.ts) do when they cannot help: no cache
 * folder (RK_LOCAL_CACHE=off), one that cannot be written, a kept file that cannot be read or
 * loaded, a schema that fails. Each costs at most the time the cache would have saved, never a
 * failed start or a wrong store. Each "new process" is a fresh copy of the server's modules.
 * What is asserted is what storage.ts decides (load a copy, or have PGlite make a cluster): the
 * clusters it has PGlite make are loaded from one pristine cluster (helpers/one-initdb.ts), the
 * same initdb would make; pristine-cache.test.ts runs initdb itself.
 */
const scratch = mkdtempSync(join(tmpdir(), 'rk-cache-fallbacks-'));
const saved = { cache: process.env.RK_LOCAL_CACHE, xdg: process.env.XDG_CACHE_HOME };

function restore(name: 'RK_LOCAL_CACHE' | 'XDG_CACHE_HOME', value: string | undefined) {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

afterEach(() => {
  restore('RK_LOCAL_CACHE', saved.cache);
  restore('XDG_CACHE_HOME', saved.xdg);
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

let create: MockInstance<typeof PGlite.create>;
beforeEach(() => {
  create = vi.spyOn(PGlite, 'create').mockImplementation(initdbAtMostOnce as typeof PGlite.create);
});
afterEach(() => {
  create.mockRestore();
});

async function fresh<T>(module: string): Promise<T> {
  vi.resetModules();
  return (await import(module)) as T;
}

/**
 * The stores' own PGlite.create calls (PGlite.create also calls itself for initdb, with options
 * only), as whether each started from a loaded cluster.
 */
function loads(): boolean[] {
  return create.mock.calls.filter((call) => typeof call[0] === 'string').map((call) => call[1]?.loadDataDir instanceof Blob);
}

/** Every PGlite the stores made, settled: the ones that opened must be closed by now. */
async function openedDatabases(): Promise<PGlite[]> {
  const made = create.mock.results.filter((_, i) => typeof create.mock.calls[i]?.[0] === 'string');
  const settled = await Promise.allSettled(made.map((result) => result.value as Promise<PGlite>));
  return settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
}

/** A local RK in memory of a fresh process stores a PEM and the Query service reads it back. */
async function storesAndReadsAPem(): Promise<void> {
  const { startLocalRK } = await fresh<typeof import('../src/index.js')>('../src/index.js');
  const rk = await startLocalRK({ memory: true, graphIntervalMs: 60_000 });
  try {
    const pem = makePem();
    const ack = await fetch(`${rk.receiverUrl}/pem`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(pem) });
    expect(ack.status).toBe(200);
    expect(await ack.json()).toEqual({ ID: pem.ID, status: 'accepted' });
    const stored = await fetch(`${rk.queryUrl}/pem/${pem.ID}`);
    expect(stored.status).toBe(200);
    expect(await stored.json()).toMatchObject({ ID: pem.ID, Type: pem.Type, Emitter: pem.Emitter, Properties: pem.Properties });
  } finally {
    await rk.stop();
  }
}

type StorageModule = typeof import('../src/storage.js');
const pgliteVersion = (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8')) as { version: string }).version;
const tableSchema = (key: string, table: string) => ({
  key,
  apply: vi.fn(async (storage: { query(sql: string): Promise<unknown> }) => {
    await storage.query(`CREATE TABLE IF NOT EXISTS ${table} (v text)`);
  }),
});

describe('the caches when they cannot help', { timeout: 120_000 }, () => {
  it('RK_LOCAL_CACHE=off: a local RK starts, stores and reads a PEM, and writes no cache anywhere; its second store starts from a copy made in the process', async () => {
    const home = join(scratch, 'xdg-off');
    mkdirSync(home);
    process.env.XDG_CACHE_HOME = home;
    process.env.RK_LOCAL_CACHE = 'off';
    await storesAndReadsAPem();
    // Without `off` the default folder would be under XDG_CACHE_HOME.
    expect(readdirSync(home)).toEqual([]);

    // The storage module of that same process: its first store ran initdb, a second one too and
    // keeps its dump, the third loads that dump (no file: nothing is read or written).
    const { openStorage } = await import('../src/storage.js');
    create.mockClear();
    const second = await openStorage({ memory: true });
    expect(loads()).toEqual([false]);
    await second.query('CREATE TABLE only_in_second (v text)');
    await second.close();
    const third = await openStorage({ memory: true });
    expect(loads()).toEqual([false, true]);
    expect(await third.query(`SELECT to_regclass('only_in_second')::text AS t`)).toEqual([{ t: null }]);
    await third.close();
    expect(readdirSync(home)).toEqual([]);
  });

  it('a cache folder that cannot be written (a path under a regular file, so also as root): a local RK starts and works', async () => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, 'not a folder');
    process.env.RK_LOCAL_CACHE = join(file, 'cache');
    await storesAndReadsAPem();
    expect(readFileSync(file, 'utf8')).toBe('not a folder');
    expect(readdirSync(scratch).filter((name) => name.startsWith('a-file'))).toEqual(['a-file']);
  });

  it('a schema whose apply fails: the store is closed and the open rejects with that error, nothing is kept for it', async () => {
    const cache = join(scratch, 'failing-schema');
    process.env.RK_LOCAL_CACHE = cache;
    const { openStorage } = await fresh<StorageModule>('../src/storage.js');
    const failure = new Error('the DDL is wrong');
    const schema = { key: 'failing', apply: vi.fn(async () => Promise.reject(failure)) };
    await expect(openStorage({ memory: true }, schema)).rejects.toBe(failure);
    await expect(openStorage({ dataDir: join(cache, 'data') }, schema)).rejects.toBe(failure);
    expect(schema.apply).toHaveBeenCalledTimes(2);
    const opened = await openedDatabases();
    expect(opened.length).toBe(2);
    for (const db of opened) expect(db.closed).toBe(true);
    expect(existsSync(join(cache, `pglite-${pgliteVersion}-pg_trgm-schema-failing.tar.gz`))).toBe(false);
  });

  it('a copy made in this process that fails to load is the open\'s error, not discarded: the next open loads it', async () => {
    process.env.RK_LOCAL_CACHE = join(scratch, 'taken');
    const { openStorage } = await fresh<StorageModule>('../src/storage.js');
    const schema = tableSchema('taken', 'made_once');
    // Made here: initdb, then the schema applied; both copies taken in this process.
    await (await openStorage({ memory: true }, schema)).close();
    const failure = new Error('out of memory while loading');
    create.mockClear();
    create.mockImplementationOnce(async () => Promise.reject(failure));
    await expect(openStorage({ memory: true }, schema)).rejects.toBe(failure);
    create.mockImplementationOnce(async () => Promise.reject(failure));
    await expect(openStorage({ memory: true })).rejects.toBe(failure);
    for (const kind of ['pg_trgm', 'pg_trgm-schema-taken']) expect(existsSync(join(scratch, 'taken', `pglite-${pgliteVersion}-${kind}.tar.gz`))).toBe(true);
    const again = await openStorage({ memory: true }, schema);
    expect(loads()).toEqual([true, true, true]);
    expect(schema.apply).toHaveBeenCalledTimes(1);
    expect(await again.query('SELECT count(*)::int AS n FROM made_once')).toEqual([{ n: 0 }]);
    await again.close();
  });

  it('a schema key that is not a file name is refused with a clear error, before any database is made', async () => {
    process.env.RK_LOCAL_CACHE = join(scratch, 'bad-key');
    const { openStorage } = await fresh<StorageModule>('../src/storage.js');
    const schema = tableSchema('../escape', 'never');
    const message = /a store schema's key names a file: letters, digits, - and _, got "\.\.\/escape"/;
    await expect(openStorage({ memory: true }, schema)).rejects.toThrow(message);
    await expect(openStorage({ dataDir: join(scratch, 'bad-key-data') }, schema)).rejects.toThrow(message);
    expect(create).not.toHaveBeenCalled();
    expect(schema.apply).not.toHaveBeenCalled();
  });

  it('kept clusters that read but fail to load are removed and made again (schema copy, then pristine, then initdb); the stores work', async () => {
    const cache = join(scratch, 'bad-dumps');
    mkdirSync(cache);
    process.env.RK_LOCAL_CACHE = cache;
    const pristine = join(cache, `pglite-${pgliteVersion}-pg_trgm.tar.gz`);
    const schemaFile = join(cache, `pglite-${pgliteVersion}-pg_trgm-schema-loads-not.tar.gz`);
    // Valid gzip, so the file is read; not a cluster, so PGlite cannot load it. Gzipped twice:
    // PGlite gunzips what it cannot untar, and leaves a rejection unhandled when that fails too.
    const notACluster = gzipSync(gzipSync(Buffer.from('this is not a tarball of a cluster'.repeat(100))));
    writeFileSync(pristine, notACluster);
    writeFileSync(schemaFile, notACluster);

    // An empty data directory: the schema's copy fails, then the pristine one, then initdb.
    const { openStorage } = await fresh<StorageModule>('../src/storage.js');
    const schema = tableSchema('loads-not', 'made_here');
    const dataDir = join(cache, 'data');
    const disk = await openStorage({ dataDir }, schema);
    expect(loads()).toEqual([true, true, false]);
    expect(schema.apply).toHaveBeenCalledTimes(1);
    expect(existsSync(schemaFile)).toBe(false);
    expect(existsSync(pristine)).toBe(false);
    await disk.query(`INSERT INTO made_here VALUES ('on disk')`);
    await disk.close();
    const reopened = await openStorage({ dataDir }, schema);
    expect(await reopened.query('SELECT v FROM made_here')).toEqual([{ v: 'on disk' }]);
    await reopened.close();

    // A new process, memory: the same bad files, removed, the stores made and their copies written again.
    writeFileSync(pristine, notACluster);
    writeFileSync(schemaFile, notACluster);
    create.mockClear();
    const memory = await (await fresh<StorageModule>('../src/storage.js')).openStorage({ memory: true }, schema);
    expect(loads()).toEqual([true, true, false]);
    await memory.query(`INSERT INTO made_here VALUES ('in memory')`);
    expect(await memory.query('SELECT v FROM made_here')).toEqual([{ v: 'in memory' }]);
    await memory.close();
    for (const kept of [pristine, schemaFile]) expect(gunzipSync(readFileSync(kept)).length).toBeGreaterThan(1_000_000);
    for (const db of await openedDatabases()) expect(db.closed).toBe(true);
  });
});

describe('the bundled specs when their cache cannot help', { timeout: 120_000 }, () => {
  type SpecModule = typeof import('../src/spec.js');
  const specsFiles = (cache: string) => readdirSync(cache).filter((entry) => /^specs-[0-9a-f]{32}\.json$/.test(entry));

  it('a kept-specs file that is not a file, or valid JSON of the wrong shape, is bundled again and the specs load', async () => {
    const cache = join(scratch, 'specs');
    process.env.RK_LOCAL_CACHE = cache;
    const bundled = await (await fresh<SpecModule>('../src/spec.js')).loadSpecs();
    const [name] = specsFiles(cache);
    const file = join(cache, name!);
    const kept = readFileSync(file, 'utf8');

    // Valid JSON for these files, but a service missing: bundled again and written anew.
    const { files, documents } = JSON.parse(kept) as { files: string; documents: Record<string, unknown> };
    writeFileSync(file, JSON.stringify({ files, documents: { receiver: documents.receiver } }));
    expect(await (await fresh<SpecModule>('../src/spec.js')).loadSpecs()).toEqual(bundled);
    expect(readFileSync(file, 'utf8')).toBe(kept);

    // A folder where the file should be: cannot be read nor replaced, and costs only the bundling.
    rmSync(file);
    mkdirSync(file);
    const again = await (await fresh<SpecModule>('../src/spec.js')).loadSpecs();
    expect(again).toEqual(bundled);
    expect(again.receiver.operations.map((operation) => operation.operationId)).toContain('sendPem');
    expect(readdirSync(cache)).toEqual([name]);
  });

  it('a spec folder that cannot be read is refused naming the file; a failed bundle is forgotten, so the next load tries again', async () => {
    process.env.RK_LOCAL_CACHE = join(scratch, 'specs-failing');
    const { loadSpecs } = await fresh<SpecModule>('../src/spec.js');
    const missing = join(scratch, 'no-such-folder');
    await expect(loadSpecs(missing)).rejects.toThrow(join(missing, 'receiver.yaml'));

    // receiver.yaml refers to a file in a subfolder, which the digest of the folder's files does
    // not cover: it is missing at the first load and there at the second, the folder's files unchanged.
    const specDir = join(scratch, 'spec-folder');
    mkdirSync(join(specDir, 'later'), { recursive: true });
    const openapi = join(import.meta.dirname, '..', '..', 'openapi');
    for (const name of ['common.yaml', 'query.yaml', 'graph-builder.yaml']) copyFileSync(join(openapi, name), join(specDir, name));
    const receiver = readFileSync(join(openapi, 'receiver.yaml'), 'utf8');
    expect(receiver).toContain(`'./common.yaml#/components/parameters/IdempotencyKey'`);
    writeFileSync(join(specDir, 'receiver.yaml'), receiver.replace(`'./common.yaml#/components/parameters/IdempotencyKey'`, `'./later/common.yaml#/components/parameters/IdempotencyKey'`));
    await expect(loadSpecs(specDir)).rejects.toThrow(`${join(specDir, 'receiver.yaml')} could not be read`);
    copyFileSync(join(openapi, 'common.yaml'), join(specDir, 'later', 'common.yaml'));
    const specs = await loadSpecs(specDir);
    expect(specs.receiver.operations.map((operation) => operation.operationId)).toContain('sendPem');
  });
});

