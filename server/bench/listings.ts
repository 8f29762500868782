/**
 * `node server/dist/server/bench/listings.js`: how long `/info` and a single read take while full
 * (unpaged) listings run (issue 19 item 3: on PGlite `/receiver/info` took 730 ms behind one
 * listing of 20 000 PEMs and 5 991 ms behind eight).
 *
 * For each storage (PGlite in a data directory, PostgreSQL 15 in a throwaway cluster started and
 * stopped by pid): seed N PEMs straight into storage (src/seed.ts, hex IDs), start the built
 * server in its own process, time `/receiver/info` and `GET /query/pem/{id}` idle (the floor),
 * then start L full listings of `GET /query/pems` at once and time the same two requests one
 * after the other until the listings are done. Prints markdown: p50 / p99 / max of each, the
 * listings' wall time and the load average.
 *
 *   node server/dist/server/bench/listings.js [--pems 20000] [--listings 8] [--no-postgres]
 *     [--cli <path of a built server/src/cli.js>]   (another build, for a before/after run)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { migrate } from '../src/schema.js';
import { seedPems } from '../src/seed.js';
import { openStorage, type StorageOptions } from '../src/storage.js';
import { createDatabase, postgresUnavailable, startPostgres } from './postgres.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    pems: { type: 'string', default: '20000' },
    listings: { type: 'string', default: '8' },
    'no-postgres': { type: 'boolean' },
    cli: { type: 'string' },
  },
});
const PEMS = Number(values.pems);
const LISTINGS = Number(values.listings);
const cli = path.resolve(values.cli ?? path.join(here, '..', 'src', 'cli.js'));

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** GET, reading the whole body; resolves with status, bytes and milliseconds. */
function get(url: string, reuse = true): Promise<{ status: number; bytes: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: reuse ? agent : false }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function startServer(args: string[]): Promise<{ child: ChildProcess; origin: string }> {
  const launcher = `const { main } = await import(${JSON.stringify(pathToFileURL(cli).href)}); await main(process.argv.slice(1));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', launcher, '--', ...args, '--port', '0', '--graph-interval', '3600'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const origin = /Receiver:\s+(http:\/\/[^/\s]+)/.exec(output)?.[1];
      if (origin) resolve({ child, origin });
    });
    child.once('exit', (code) => reject(new Error(`the server exited with ${code}: ${output}`)));
  });
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid!, 'SIGTERM');
  await exited;
}

const hexId = (i: number) => i.toString(16).padStart(32, '0');
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
const fmt = (x: number) => (x < 10 ? x.toFixed(1) : Math.round(x).toString());
const stats = (list: number[]) => {
  const sorted = [...list].sort((a, b) => a - b);
  return `${fmt(pct(sorted, 50))} | ${fmt(pct(sorted, 99))} | ${fmt(sorted[sorted.length - 1] ?? NaN)}`;
};

async function probe(origin: string, until: () => boolean, minimum: number): Promise<{ info: number[]; read: number[] }> {
  const info: number[] = [];
  const read: number[] = [];
  for (let i = 0; info.length < minimum || !until(); i++) {
    const a = await get(`${origin}/receiver/info`);
    if (a.status !== 200) throw new Error(`/info answered ${a.status}`);
    info.push(a.ms);
    const b = await get(`${origin}/query/pem/${hexId(1 + ((i * 7919) % PEMS))}`);
    if (b.status !== 200) throw new Error(`GET /pem answered ${b.status}`);
    read.push(b.ms);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { info, read };
}

async function measure(name: string, storage: StorageOptions, serverArgs: string[]): Promise<string> {
  const store = await openStorage(storage);
  await migrate(store);
  for (let from = 1; from <= PEMS; from += 10_000) await seedPems(store, from, Math.min(PEMS, from + 9_999), { hexIds: true });
  await store.close();
  const { child, origin } = await startServer(serverArgs);
  try {
    const idle = await probe(origin, () => true, 30);
    let running = LISTINGS;
    const started = performance.now();
    const listings = Array.from({ length: LISTINGS }, () =>
      get(`${origin}/query/pems`, false).then((r) => {
        running--;
        if (r.status !== 200) throw new Error(`GET /pems answered ${r.status}`);
        return r;
      }),
    );
    const busy = await probe(origin, () => running === 0, 5);
    const done = await Promise.all(listings);
    const wall = performance.now() - started;
    const mib = (done[0]!.bytes / 1024 / 1024).toFixed(1);
    return [
      `| ${name} | idle | ${stats(idle.info)} | ${stats(idle.read)} | | |`,
      `| ${name} | beside ${LISTINGS} full listings | ${stats(busy.info)} | ${stats(busy.read)} | ${fmt(wall / 1000)} s (${mib} MiB each) | ${busy.info.length} |`,
    ].join('\n');
  } finally {
    await stopServer(child);
  }
}

const rows: string[] = [];
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
console.log(`Reads beside full listings: ${PEMS} PEMs, ${LISTINGS} listings, server ${path.relative(process.cwd(), cli)}; load average at start ${load()}\n`);
const dir = mkdtempSync(path.join(tmpdir(), 'rk-listings-'));
try {
  rows.push(await measure('PGlite (data dir)', { dataDir: dir }, ['--data-dir', dir]));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const unavailable = postgresUnavailable();
if (!values['no-postgres'] && !unavailable) {
  const postgres = await startPostgres();
  try {
    const url = await createDatabase(postgres.url, 'rk_listings');
    rows.push(await measure('PostgreSQL 15', { databaseUrl: url }, ['--database-url', url]));
  } finally {
    await postgres.stop();
  }
} else if (!values['no-postgres']) {
  console.log(`(PostgreSQL skipped: ${unavailable})`);
}
console.log('| storage | while | /receiver/info p50 ms | p99 | max | GET /pem/{id} p50 ms | p99 | max | listings wall time | probes |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
console.log(rows.join('\n'));
console.log(`\nload average at the end ${load()}`);
agent.destroy();
