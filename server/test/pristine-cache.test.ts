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
});
