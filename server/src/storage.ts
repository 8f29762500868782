import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';

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

export async function openStorage(options: StorageOptions): Promise<Storage> {
  if ('databaseUrl' in options) return PostgresStorage.open(options.databaseUrl);
  return PGliteStorage.open('dataDir' in options ? options.dataDir : undefined);
}

class PGliteStorage implements Storage {
  readonly description: string;
  readonly writers = 1;
  readonly bulk: Queryable = new BulkLane(this, 1);
  readonly #db: PGlite;

  private constructor(db: PGlite, description: string) {
    this.#db = db;
    this.description = description;
  }

  static async open(dataDir: string | undefined): Promise<PGliteStorage> {
    if (dataDir === undefined) return new PGliteStorage(await openMemory(), 'PGlite (in memory)');
    const absolute = path.resolve(dataDir);
    mkdirSync(absolute, { recursive: true });
    // relaxedDurability stays false: every statement outside a transaction is written through to
    // the files before its promise resolves. transaction() below syncs after COMMIT itself.
    // An empty directory starts as a copy of the pristine cluster kept on disk, when there is one,
    // instead of running initdb (the same cluster: the dump is taken before any statement).
    const file = readdirSync(absolute).length === 0 ? pristineFile() : undefined;
    const dump = file ? await readPristine(file).catch(() => undefined) : undefined;
    const options = { relaxedDurability: false, extensions: { pg_trgm } };
    if (dump) {
      try {
        return new PGliteStorage(await PGlite.create(absolute, { ...options, loadDataDir: dump }), `PGlite (${absolute})`);
      } catch {
        // A bad dump: initdb below, in the directory emptied again of what the failed load left.
        for (const entry of readdirSync(absolute)) rmSync(path.join(absolute, entry), { recursive: true, force: true });
      }
    }
    return new PGliteStorage(await PGlite.create(absolute, options), `PGlite (${absolute})`);
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

  async close(): Promise<void> {
    if (!this.#db.closed) await this.#db.close();
  }
}

/**
 * A pristine in-memory cluster, dumped once per process. Creating a PGlite database runs initdb
 * inside WebAssembly (2.4 to 6 s on a loaded 2-core machine); loading the dump of a fresh one
 * takes about 0.7 s, so in-memory stores after the second in a process (tests, tools that start
 * several local RKs) start several times faster. The dump is taken at the second in-memory open,
 * not the first: a process that opens one store (the CLI) pays neither the dump (about 0.3 s) nor
 * its memory (about 40 MB). It is taken before any statement, so it holds nothing of any store.
 *
 * The dump is also kept on disk (see pristineFile), so a new process (each test file, each
 * `rk local --memory`) loads it instead of running initdb: 1.5 CPU s instead of 6.5 in a fresh
 * process on this machine. A file that cannot be read or loaded is ignored and written again.
 */
let memoryOpens = 0;
let pristine: Promise<Blob> | undefined;

async function openMemory(): Promise<PGlite> {
  const file = pristineFile();
  if (!pristine && file) pristine = readPristine(file);
  const dump = await pristine?.catch(() => undefined);
  if (dump) {
    try {
      return await PGlite.create('memory://', { extensions: { pg_trgm }, loadDataDir: dump });
    } catch (error) {
      // Only a dump read from disk can be bad; one taken in this process loaded before.
      if (!file || memoryOpens > 0) throw error;
      rmSync(file, { force: true });
      pristine = undefined;
    }
  }
  const db = await PGlite.create('memory://', { extensions: { pg_trgm } });
  if ((++memoryOpens >= 2 || file) && !(await pristine?.catch(() => undefined))) {
    pristine = db.dumpDataDir('none');
    const taken = await pristine.catch(() => undefined);
    if (taken && file) await writePristine(file, taken);
  }
  return db;
}

/**
 * Where the pristine cluster is kept between processes: `RK_LOCAL_CACHE` (a folder, or `off` for
 * nowhere), else `$XDG_CACHE_HOME/recordkeeper-local` or `~/.cache/recordkeeper-local`. One file
 * per PGlite version and extension set, since a dump loads only into the PGlite that made it.
 */
function pristineFile(): string | undefined {
  const setting = process.env.RK_LOCAL_CACHE;
  if (setting === 'off') return undefined;
  try {
    const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
    const { version } = JSON.parse(readFileSync(path.join(path.dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
    const folder = setting || path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'recordkeeper-local');
    return path.join(path.resolve(folder), `pglite-${version}-pg_trgm.tar.gz`);
  } catch {
    return undefined;
  }
}

async function readPristine(file: string): Promise<Blob> {
  return new Blob([gunzipSync(await readFile(file))]);
}

/** Written under a name of its own, then renamed: processes starting together never read half a file. */
async function writePristine(file: string, dump: Blob): Promise<void> {
  const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(partial, gzipSync(Buffer.from(await dump.arrayBuffer()), { level: 1 }), { mode: 0o600 });
    await rename(partial, file);
  } catch {
    // A cache that cannot be written (read-only home, full disk) costs only the next start's initdb.
    rmSync(partial, { force: true });
  }
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
