import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { cacheFolder, writeCacheFile } from './cache-folder.js';

/**
 * One small interface over the two databases the server runs on: PGlite (PostgreSQL compiled to
 * WebAssembly, in a directory or in memory) and a PostgreSQL server through `pg`. Both receive the
 * same SQL text with `$n` parameters; nothing above this file knows which one it talks to.
 */

export interface Queryable {
  query<Row extends object>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
}

export interface Storage extends Queryable {
  /** Where the data lives, for logs: `PGlite (memory)`, `PGlite (./.rk-data)`, `PostgreSQL (host:port/db)`. */
  readonly description: string;
  /**
   * How many write transactions can usefully run at once: 1 for PGlite (one connection, one
   * statement at a time), the pool size for PostgreSQL. Group commit starts a new group only when
   * fewer are being written.
   */
  readonly writers: number;
  /**
   * Runs `work` in one transaction: committed (and, for PGlite, written through to its files)
   * before the returned promise resolves, rolled back when `work` throws.
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * The lane for the statements of long reads (each batch of a full listing): they run behind the
   * other requests' statements, never hold every connection, and give the event loop a turn
   * before each one (see BulkLane).
   */
  readonly bulk: Queryable;
  close(): Promise<void>;
}

/**
 * Long reads that must not starve short ones (issue 19: on PGlite, eight full listings of 20 000
 * PEMs held `/info`, which needs no database, for 6 s). PGlite runs a statement synchronously in
 * this thread, and its queue hands the connection from one finished statement to the next in the
 * same microtask chain, so batches of several listings could run back to back without letting
 * the event loop read a new request. Through this lane a batch statement first waits for the
 * event loop's next check phase (setImmediate: the requests that arrived meanwhile are read and
 * their statements queued first), and at most `slots` batch statements run at once, a slot
 * coming back a turn after its statement ended (PGlite 1: one batch statement per turn of the
 * event loop, so another request waits for at most one; PostgreSQL: the pool size less two, so
 * short requests always find a connection). Listings still progress, taking turns.
 */
export class BulkLane implements Queryable {
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(
    private readonly target: Queryable,
    readonly slots: number,
  ) {}

  async query<Row extends object>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.#running >= this.slots) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#running++;
    try {
      return await this.target.query<Row>(sql, params);
    } finally {
      // The slot comes back on the event loop's next turn, not now: on PGlite a statement and what
      // follows it run to completion in microtasks, so a slot freed at once would let every
      // waiting listing run its batch in the same turn, ahead of the requests that arrived.
      setImmediate(() => {
        this.#running--;
        this.#waiting.shift()?.();
      });
    }
  }
}

export type StorageOptions = { memory: true } | { dataDir: string } | { databaseUrl: string };

/**
 * What every store is brought to before use (the RK schema: schema.ts). `apply` is idempotent and
 * runs on every store but one started from a cached copy: a new PGlite store (in memory, or an
 * empty data directory) starts from the cluster `apply` made once, kept under `key`, instead of
 * running the DDL again (about 1 CPU s of a 3.5 s start in a fresh process).
 */
export interface StoreSchema {
  /** Names the cached copy; it must change whenever what `apply` creates changes (a digest of the DDL). */
  readonly key: string;
  apply(storage: Storage): Promise<void>;
}

export async function openStorage(options: StorageOptions, schema?: StoreSchema): Promise<Storage> {
  if ('databaseUrl' in options) {
    const storage = await PostgresStorage.open(options.databaseUrl);
    return schema ? applied(storage, schema) : storage;
  }
  if ('dataDir' in options) return PGliteStorage.open(options.dataDir, schema);
  return schema ? openSchemaMemory(schema) : new PGliteStorage(await openMemory(), MEMORY);
}

/** `schema` applied to `storage`, which is closed when that fails. */
async function applied(storage: Storage, schema: StoreSchema): Promise<Storage> {
  try {
    await schema.apply(storage);
    return storage;
  } catch (error) {
    await storage.close();
    throw error;
  }
}

const MEMORY = 'PGlite (in memory)';

class PGliteStorage implements Storage {
  readonly description: string;
  readonly writers = 1;
  readonly bulk: Queryable = new BulkLane(this, 1);
  readonly #db: PGlite;

  constructor(db: PGlite, description: string) {
    this.#db = db;
    this.description = description;
  }

  static async open(dataDir: string, schema: StoreSchema | undefined): Promise<Storage> {
    const absolute = path.resolve(dataDir);
    mkdirSync(absolute, { recursive: true });
    const description = `PGlite (${absolute})`;
    // relaxedDurability stays false: every statement outside a transaction is written through to
    // the files before its promise resolves. transaction() below syncs after COMMIT itself.
    const options = { relaxedDurability: false, extensions: { pg_trgm } };
    // An empty directory starts as a copy of a cluster kept on disk, when there is one: the
    // schema's (nothing left to apply), else the pristine one (initdb skipped, the schema applied).
    // A directory that holds a cluster is opened as it is, never overwritten.
    if (readdirSync(absolute).length === 0) {
      const kinds = [...(schema ? [{ copies: schemaCopies(schema.key), apply: undefined }] : []), { copies: pristineCopies(), apply: schema }];
      for (const { copies, apply } of kinds) {
        const dump = await copies.dump();
        if (!dump) continue;
        try {
          const storage = new PGliteStorage(await PGlite.create(absolute, { ...options, loadDataDir: dump }), description);
          return apply ? applied(storage, apply) : storage;
        } catch {
          // A bad dump: the next kind, or initdb, in the directory emptied again of what the failed load left.
          copies.discard();
          for (const entry of readdirSync(absolute)) rmSync(path.join(absolute, entry), { recursive: true, force: true });
        }
      }
    }
    const storage = new PGliteStorage(await PGlite.create(absolute, options), description);
    return schema ? applied(storage, schema) : storage;
  }

  async query<Row extends object>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    const result = await this.#db.query<Row>(sql, [...params]);
    return result.rows;
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const result = await this.#db.transaction(async (tx) =>
      work({
        async query<Row extends object>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
          return (await tx.query<Row>(sql, [...params])).rows;
        },
      }),
    );
    // PGlite's transaction() does not write the committed state through to the file system by
    // itself (unlike query()), so an acknowledged write could still be only in memory.
    await this.#db.syncToFs();
    return result;
  }

  /** The cluster as a tarball (after a checkpoint, so a copy starts without replaying the WAL). */
  async dump(): Promise<Blob> {
    await this.#db.query('CHECKPOINT');
    return this.#db.dumpDataDir('none');
  }

  async close(): Promise<void> {
    if (!this.#db.closed) await this.#db.close();
  }
}

/**
 * One kind of cluster (pristine, or a schema applied) kept as a dump in this process and in a file
 * (cache-folder.ts). A dump loads only into the PGlite version and extension set that made it, so
 * both are in the file's name.
 */
class ClusterCopies {
  /** Opens of a store of this kind in this process that made their cluster rather than loaded it. */
  made = 0;
  #dump: Promise<Blob> | undefined;
  #taken = false;

  constructor(readonly file: string | undefined) {}

  /** The dump: taken in this process, else read from the file; undefined when neither has one. */
  async dump(): Promise<Blob | undefined> {
    if (!this.#dump && this.file) this.#dump = readCluster(this.file);
    return this.#dump?.catch(() => undefined);
  }

  /**
   * Whether a dump that failed to load came from the file (then the file is removed and the store
   * made anew); a dump taken in this process loaded before, so its failure is the caller's error.
   */
  discard(): boolean {
    if (this.#taken) return false;
    if (this.file) rmSync(this.file, { force: true });
    this.#dump = undefined;
    return true;
  }

  /**
   * After a store of this kind was made: keeps its dump when there is a file to write it to (the
   * next process loads it), or at the second such store of a process without one (a process that
   * opens one store, the CLI, pays neither the dump, about 0.3 s, nor its memory, about 40 MB).
   */
  async keep(take: () => Promise<Blob>): Promise<void> {
    if ((++this.made < 2 && !this.file) || (await this.dump())) return;
    this.#dump = take();
    this.#taken = true;
    const taken = await this.#dump.catch(() => undefined);
    if (taken && this.file) await writeCluster(this.file, taken);
  }
}

/**
 * A pristine in-memory cluster (initdb only). Creating a PGlite database runs initdb inside
 * WebAssembly (2.4 to 6 s on a loaded 2-core machine); loading the dump of a fresh one takes about
 * 0.7 s, so in-memory stores after the second in a process (tests, tools that start several local
 * RKs) start several times faster. It is dumped before any statement, so it holds nothing of any
 * store. Kept on disk too (cache-folder.ts), so a new process (each test file, each
 * `rk local --memory`) loads it instead of running initdb: 1.5 CPU s instead of 6.5 in a fresh
 * process on this machine. A file that cannot be read or loaded is ignored and written again.
 */
function pristineCopies(): ClusterCopies {
  return copiesIn(cacheFile('pg_trgm'));
}

/** By file (or none: RK_LOCAL_CACHE=off), so a process that changes the setting uses the new place. */
const kept = new Map<string, ClusterCopies>();
function copiesIn(file: string | undefined, kind = ''): ClusterCopies {
  const name = file ?? `no file: ${kind}`;
  let copies = kept.get(name);
  if (!copies) kept.set(name, (copies = new ClusterCopies(file)));
  return copies;
}

async function openMemory(): Promise<PGlite> {
  const copies = pristineCopies();
  const dump = await copies.dump();
  if (dump) {
    try {
      return await PGlite.create('memory://', { extensions: { pg_trgm }, loadDataDir: dump });
    } catch (error) {
      if (!copies.discard()) throw error;
    }
  }
  const db = await PGlite.create('memory://', { extensions: { pg_trgm } });
  await copies.keep(() => db.dumpDataDir('none'));
  return db;
}

/**
 * In-memory clusters with a schema applied, by the schema's key: the same safety as the pristine
 * one (atomic file, a bad file is made again), one file per key, so a changed schema never starts
 * from an old copy.
 */
function schemaCopies(key: string): ClusterCopies {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(key)) throw new Error(`a store schema's key names a file: letters, digits, - and _, got ${JSON.stringify(key)}`);
  return copiesIn(cacheFile(`pg_trgm-schema-${key}`), `schema ${key}`);
}

async function openSchemaMemory(schema: StoreSchema): Promise<Storage> {
  const copies = schemaCopies(schema.key);
  const dump = await copies.dump();
  if (dump) {
    try {
      return new PGliteStorage(await PGlite.create('memory://', { extensions: { pg_trgm }, loadDataDir: dump }), MEMORY);
    } catch (error) {
      if (!copies.discard()) throw error;
    }
  }
  const storage = new PGliteStorage(await openMemory(), MEMORY);
  await applied(storage, schema);
  await copies.keep(() => storage.dump());
  return storage;
}

/** The file of one kind of cluster in the cache folder, named for the PGlite version and `kind` (extensions, schema key). */
function cacheFile(kind: string): string | undefined {
  const folder = cacheFolder();
  if (folder === undefined) return undefined;
  try {
    const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
    const { version } = JSON.parse(readFileSync(path.join(path.dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
    return path.join(folder, `pglite-${version}-${kind}.tar.gz`);
  } catch {
    return undefined;
  }
}

async function readCluster(file: string): Promise<Blob> {
  return new Blob([gunzipSync(await readFile(file))]);
}

async function writeCluster(file: string, dump: Blob): Promise<void> {
  await writeCacheFile(file, gzipSync(Buffer.from(await dump.arrayBuffer()), { level: 1 }));
}

const POOL_SIZE = 8;

class PostgresStorage implements Storage {
  readonly description: string;
  readonly writers = POOL_SIZE;
  readonly bulk: Queryable = new BulkLane(this, POOL_SIZE - 2);
  readonly #pool: pg.Pool;

  private constructor(pool: pg.Pool, description: string) {
    this.#pool = pool;
    this.description = description;
  }

  static async open(databaseUrl: string): Promise<PostgresStorage> {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: POOL_SIZE });
    // Connection errors of idle clients must not crash the process; the next query reports them.
    pool.on('error', () => undefined);
    const client = await pool.connect();
    client.release();
    const url = new URL(databaseUrl);
    return new PostgresStorage(pool, `PostgreSQL (${url.hostname || 'socket'}:${url.port || 5432}${url.pathname})`);
  }

  async query<Row extends object>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    const result = await this.#pool.query(prepared(sql, params));
    return result.rows as Row[];
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work({
        async query<Row extends object>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
          return (await client.query(prepared(sql, params))).rows as Row[];
        },
      });
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}

/**
 * A statement with parameters runs as a named prepared statement: `pg` prepares it once per
 * connection and PostgreSQL reuses the plan, instead of parsing and planning every insert
 * (issue 13: 0.34 ms planning of 1.4 ms per PEM). Statements without parameters (DDL, counts)
 * stay unnamed. The name is a digest of the text, so equal text shares one prepared statement.
 */
const names = new Map<string, string>();
function prepared(sql: string, params: readonly unknown[]): pg.QueryConfig {
  if (!params.length) return { text: sql };
  let name = names.get(sql);
  if (name === undefined) {
    name = `rk_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
    if (names.size < 10_000) names.set(sql, name);
  }
  return { name, text: sql, values: [...params] };
}
