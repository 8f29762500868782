import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it, vi } from 'vitest';

/**
 * The pristine PGlite cluster kept on disk (storage.ts, RK_LOCAL_CACHE): a bad file is ignored and
 * written again, and a new process's memory store and an empty data directory start from it
 * rather than from initdb. Each "new process" is a fresh copy of the storage module.
 */
const cache = mkdtempSync(join(tmpdir(), 'rk-pristine-'));
const setting = process.env.RK_LOCAL_CACHE;
process.env.RK_LOCAL_CACHE = cache;

afterAll(() => {
  if (setting === undefined) delete process.env.RK_LOCAL_CACHE;
  else process.env.RK_LOCAL_CACHE = setting;
  rmSync(cache, { recursive: true, force: true });
});

async function freshStorageModule() {
  vi.resetModules();
  return import('../src/storage.js');
}

describe('the pristine cluster kept on disk', { timeout: 120_000 }, () => {
  it('replaces a bad file; memory stores and an empty data directory then start from it and keep what they store', async () => {
    const version = (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8')) as { version: string }).version;
    const file = join(cache, `pglite-${version}-pg_trgm.tar.gz`);
    writeFileSync(file, 'not a dump');
    const create = vi.spyOn(PGlite, 'create');
    try {
      const first = await (await freshStorageModule()).openStorage({ memory: true });
      expect(await first.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      await first.close();
      // Written again: a gzip tarball of a whole cluster, and nothing left under a temporary name.
      expect(gunzipSync(readFileSync(file)).length).toBeGreaterThan(1_000_000);
      expect(readdirSync(cache)).toEqual([file.slice(cache.length + 1)]);

      create.mockClear();
      const { openStorage } = await freshStorageModule();
      const memory = await openStorage({ memory: true });
      expect(create.mock.calls[0]?.[1]?.loadDataDir).toBeInstanceOf(Blob);
      await memory.query('CREATE TABLE t (v text)');
      await memory.close();

      const dataDir = join(cache, 'data');
      mkdirSync(dataDir);
      create.mockClear();
      const disk = await openStorage({ dataDir });
      expect(create.mock.calls[0]?.[1]?.loadDataDir).toBeInstanceOf(Blob);
      // The memory store's table is not in the copy: the file holds the pristine cluster only.
      expect(await disk.query(`SELECT to_regclass('t')::text AS t`)).toEqual([{ t: null }]);
      await disk.query('CREATE TABLE kept (v text)');
      await disk.query(`INSERT INTO kept VALUES ('after the copy')`);
      await disk.close();
      create.mockClear();
      const reopened = await openStorage({ dataDir });
      // A directory that holds a cluster is opened, never overwritten by the copy.
      expect(create.mock.calls[0]?.[1]?.loadDataDir).toBeUndefined();
      expect(await reopened.query('SELECT v FROM kept')).toEqual([{ v: 'after the copy' }]);
      await reopened.close();
    } finally {
      create.mockRestore();
    }
  });

  it('keeps a cluster with the schema applied, by its key: a new store starts from it without applying the schema; a changed key or a bad file makes it again', async () => {
    const version = (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8')) as { version: string }).version;
    const schemaFile = (key: string) => join(cache, `pglite-${version}-pg_trgm-schema-${key}.tar.gz`);
    const schema = (key: string, table: string) => {
      const apply = vi.fn(async (storage: { query(sql: string): Promise<unknown> }) => {
        await storage.query(`CREATE TABLE IF NOT EXISTS ${table} (v text)`);
      });
      return { key, apply };
    };
    const tables = async (storage: { query<R extends object>(sql: string): Promise<R[]> }) =>
      (await storage.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).map((row) => row.t);
    const create = vi.spyOn(PGlite, 'create');
    try {
      // Made once: the schema applied to a new store, and the cluster kept under its key.
      const a = schema('key-a', 'made_by_a');
      const first = await (await freshStorageModule()).openStorage({ memory: true }, a);
      expect(a.apply).toHaveBeenCalledTimes(1);
      await first.query(`INSERT INTO made_by_a VALUES ('a row of the first store')`);
      await first.close();
      expect(gunzipSync(readFileSync(schemaFile('key-a'))).length).toBeGreaterThan(1_000_000);

      // A new process: loaded from the copy, the schema not applied again, no row of the first store.
      const again = schema('key-a', 'made_by_a');
      create.mockClear();
      const { openStorage } = await freshStorageModule();
      const second = await openStorage({ memory: true }, again);
      expect(create.mock.calls[0]?.[1]?.loadDataDir).toBeInstanceOf(Blob);
      expect(again.apply).not.toHaveBeenCalled();
      expect(await tables(second)).toEqual(['made_by_a']);
      expect(await second.query('SELECT v FROM made_by_a')).toEqual([]);
      await second.close();

      // An empty data directory starts from the copy too; one that holds a cluster is opened as it is.
      const dataDir = join(cache, 'schema-data');
      const onDisk = await openStorage({ dataDir }, again);
      expect(again.apply).not.toHaveBeenCalled();
      await onDisk.query(`INSERT INTO made_by_a VALUES ('kept')`);
      await onDisk.close();
      const reopened = await openStorage({ dataDir }, again);
      expect(again.apply).toHaveBeenCalledTimes(1);
      expect(await reopened.query('SELECT v FROM made_by_a')).toEqual([{ v: 'kept' }]);
      await reopened.close();

      // A changed schema has another key, so it never starts from the old copy; and a bad file
      // of its own is made again, never fatal, with nothing left under a temporary name.
      writeFileSync(schemaFile('key-b'), 'not a dump');
      const b = schema('key-b', 'made_by_b');
      const changed = await (await freshStorageModule()).openStorage({ memory: true }, b);
      expect(b.apply).toHaveBeenCalledTimes(1);
      expect(await tables(changed)).toEqual(['made_by_b']);
      await changed.close();
      expect(gunzipSync(readFileSync(schemaFile('key-b'))).length).toBeGreaterThan(1_000_000);
      expect(readdirSync(cache).filter((name) => !name.endsWith('.tar.gz') && name !== 'data' && name !== 'schema-data')).toEqual([]);
    } finally {
      create.mockRestore();
    }
  });

  it("the RK schema's key is a digest of its DDL, the same in every process that has the same schema", async () => {
    vi.resetModules();
    const { RK_SCHEMA } = await import('../src/schema.js');
    vi.resetModules();
    const again = await import('../src/schema.js');
    expect(RK_SCHEMA.key).toMatch(/^[0-9a-f]{16}$/);
    expect(again.RK_SCHEMA.key).toBe(RK_SCHEMA.key);
  });

  it('keeps the bundled specs under a digest of their files: a new process reads them, a bad file is bundled again', async () => {
    const load = async () => {
      vi.resetModules();
      return (await import('../src/spec.js')).loadSpecs();
    };
    const bundled = await load();
    const [name] = readdirSync(cache).filter((entry) => /^specs-[0-9a-f]{32}\.json$/.test(entry));
    expect(name).toBeDefined();
    const file = join(cache, name!);
    writeFileSync(file, '{"files": "not these"');
    const again = await load();
    expect(again).toEqual(bundled);
    const kept = readFileSync(file, 'utf8');
    expect(JSON.parse(kept).documents.receiver.openapi).toBeDefined();
    const read = await load();
    expect(read).toEqual(bundled);
    expect(read.receiver.operations.map((operation) => operation.operationId)).toContain('sendPem');
    expect(readFileSync(file, 'utf8')).toBe(kept);
  });
});
