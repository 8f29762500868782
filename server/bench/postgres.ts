import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, chownSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import pg from 'pg';

/**
 * A throwaway PostgreSQL 15 server for the benchmark and the tests (here, in bench/, because the
 * build compiles bench/ and not test/): initdb into a temporary directory, `postgres` on a
 * free loopback port with its socket in that directory, stopped by its pid. PostgreSQL refuses to
 * run as root, so as root the cluster belongs to the `postgres` user and both programs run as it.
 */

export const PG_BIN = process.env.RK_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface TestPostgres {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Why the tests cannot start PostgreSQL here, or undefined when they can. */
export function postgresUnavailable(): string | undefined {
  for (const program of ['initdb', 'postgres']) {
    if (!existsSync(path.join(PG_BIN, program))) return `${path.join(PG_BIN, program)} is missing (apt-get install postgresql-15)`;
  }
  if (userInfo().uid === 0 && postgresUser() === undefined) return 'running as root and there is no "postgres" user to run PostgreSQL as';
  return undefined;
}

function postgresUser(): { uid: number; gid: number } | undefined {
  const result = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (result.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number(result.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function startPostgres(): Promise<TestPostgres> {
  const asUser = userInfo().uid === 0 ? postgresUser() : undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'rk-pg-'));
  const dataDir = path.join(dir, 'data');
  const ids = asUser ? { uid: asUser.uid, gid: asUser.gid } : {};
  if (asUser) chownSync(dir, asUser.uid, asUser.gid);
  const password = 'rk-test';
  const pwfile = path.join(dir, 'pwfile');
  writeFileSync(pwfile, password, { mode: 0o600 });
  if (asUser) chownSync(pwfile, asUser.uid, asUser.gid);
  const init = spawnSync(
    path.join(PG_BIN, 'initdb'),
    ['-D', dataDir, '-U', 'rk', '--pwfile', pwfile, '-A', 'scram-sha-256', '-E', 'UTF8', '--locale', 'C.UTF-8', '--no-sync'],
    { encoding: 'utf8', ...ids, env: { ...process.env, LC_ALL: 'C.UTF-8' } },
  );
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status}): ${init.stderr || init.stdout}`);
  }
  const port = await freePort();
  const child: ChildProcess = spawn(
    path.join(PG_BIN, 'postgres'),
    ['-D', dataDir, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
    { stdio: ['ignore', 'ignore', 'pipe'], ...ids },
  );
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pid = child.pid;
  if (pid === undefined) throw new Error('postgres did not start');

  const url = `postgres://rk:${password}@127.0.0.1:${port}/postgres`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      // SIGINT is PostgreSQL's "fast shutdown": disconnect clients, stop cleanly.
      process.kill(pid, 'SIGINT');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready when it accepts a connection; bounded, and the reason is reported if it never does.
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`postgres exited with ${child.exitCode}: ${log}`);
    }
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      break;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (attempt >= 300) {
        await stop();
        throw new Error(`postgres did not accept connections: ${String(error)}\n${log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return { url, pid, stop };
}

/** A new empty database on the server, so each test server starts from nothing. */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
