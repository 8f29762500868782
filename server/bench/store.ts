/**
 * `node server/dist/server/bench/store.js`: the local RK's own costs (issue 13), beside nothing
 * of the client.
 *
 * 1. PEMs/s into the server (its built command, its own process) on PGlite in memory, PGlite in a
 *    data directory and PostgreSQL 15 (a throwaway cluster this benchmark starts and stops by
 *    pid), at 1 / 8 / 32 in flight, with p50 / p99, beside a node:http floor that only parses the
 *    body and replies. Requests are node:http with a keep-alive agent (lighter than fetch).
 * 2. Scale: 1k / 10k / 100k PEMs (chains of 10, fan-ins of 5, 100 tags in 5 namespaces) seeded
 *    with a bulk path straight into storage (src/seed.ts: set-based INSERTs, not POST /pem), then
 *    each operation timed in process (median of 3): pages, counts, filters, tags, graph
 *    projection (onto the empty graph: in bulk), verify, connection check, lineage walks, the idle
 *    loop's query, a full listing; then 10 000 more PEMs projected onto the graph (in batches).
 * 3. Idle CPU of the Graph Builder loop (1 s interval) at the largest size, and RSS.
 *
 *   node server/dist/server/bench/store.js [--sizes 1000,10000,100000] [--count 600] [--no-postgres]
 *     [--skip-throughput] [--skip-scale] [--explain]
 * Prints markdown. Everything on 127.0.0.1; every process started here is stopped by its pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseStatement } from '../src/cypher.js';
import { GraphBuilder } from '../src/graph.js';
import { Records } from '../src/records.js';
import { migrate } from '../src/schema.js';
import { seedPems } from '../src/seed.js';
import { openStorage, type Storage, type StorageOptions } from '../src/storage.js';
import { createDatabase, postgresUnavailable, startPostgres, type TestPostgres } from './postgres.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const serverBin = path.resolve(here, '..', '..', '..', 'bin', 'recordkeeper-local.js');

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}
const ms = (x: number) => (x < 1 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : Math.round(x).toString());

const agent = new Agent({ keepAlive: true, maxSockets: 64 });
function post(url: URL, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** IDs are 32 lower-case hex digits (the spec's pattern): 8 of the run, 24 of the index. */
const hexId = (run: string, i: number) => run + i.toString(16).padStart(24, '0');
const newRun = () => randomBytes(4).toString('hex');

function pemBody(run: string, i: number): string {
  return JSON.stringify({
    ID: hexId(run, i),
    Type: 'bench',
    Predecessor: i % 10 ? hexId(run, i - 1) : null,
    Emitter: 'bench',
    TimestampClient: '2026-12-01 10:00:00',
    Properties: { i, batch: 'benchmark', note: 'a PEM of a typical size' },
    Version: '2.0.0',
    Tag: 'latest',
    TagNamespace: 'bench',
    UsesArtifacts: [{ Name: `bench-input-${i % 50}`, Properties: { uri: `s3://bench/input-${i % 50}.csv` }, CreatedAt: null }],
    ProducesArtifacts: [{ Name: `${run}-output-${i}`, Properties: { uri: `s3://bench/output-${i}.bin` }, CreatedAt: null }],
  });
}

async function load(url: URL, run: string, count: number, inFlight: number): Promise<{ perSecond: number; p50: number; p99: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let i = next++; i < count; i = next++) {
        const t = performance.now();
        const status = await post(url, pemBody(run, i));
        if (status !== 200) throw new Error(`POST ${url} answered ${status}`);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { perSecond: count / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function startChild(args: string[], ready: RegExp): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const url = ready.exec(output)?.[1];
      if (url) resolve({ child, url });
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${output}`)));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid!, 'SIGTERM');
  await exited;
}

const FLOOR = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const pem = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const text = JSON.stringify({ ID: pem.ID, status: 'accepted' });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  });
});
server.listen(0, '127.0.0.1', () => console.log('Floor: http://127.0.0.1:' + server.address().port));
`;

function rssMiB(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return kb ? Math.round(Number(kb) / 1024) : NaN;
}

/** CPU seconds (user + system) of a process and, with `children`, of its direct children. */
function cpuSeconds(pid: number, children = false): number {
  const tick = 100;
  const of = (p: number) => {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / tick };
    } catch {
      return undefined;
    }
  };
  let total = of(pid)?.cpu ?? 0;
  if (children) {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const stat = of(Number(name));
      if (stat?.ppid === pid) total += stat.cpu;
    }
  }
  return total;
}

async function throughput(count: number, postgres: TestPostgres | undefined): Promise<void> {
  console.log(`\n### PEMs/s into the server (POST /pem, ${count} PEMs per cell, after 200 to warm up)\n`);
  console.log('| server | 1 in flight: /s | p50 ms | p99 ms | 8 in flight: /s | p50 ms | p99 ms | 32 in flight: /s | p50 ms | p99 ms | server RSS MiB after |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const targets: { name: string; args: string[]; cleanup?: () => void }[] = [];
  targets.push({ name: 'node:http floor (parse + reply)', args: ['-e', FLOOR] });
  targets.push({ name: 'local RK, PGlite in memory', args: [serverBin, '--port', '0', '--graph-interval', '3600', '--memory'] });
  const dir = mkdtempSync(path.join(tmpdir(), 'rk-store-bench-'));
  targets.push({ name: 'local RK, PGlite data dir', args: [serverBin, '--port', '0', '--graph-interval', '3600', '--data-dir', dir], cleanup: () => rmSync(dir, { recursive: true, force: true }) });
  if (postgres) {
    const url = await createDatabase(postgres.url, 'rk_bench_throughput');
    targets.push({ name: 'local RK, PostgreSQL 15', args: [serverBin, '--port', '0', '--graph-interval', '3600', '--database-url', url] });
  }
  for (const target of targets) {
    const { child, url } = await startChild(target.args, /(?:Receiver|Floor):\s+(\S+)/);
    try {
      const pemUrl = new URL(`${url.replace(/\/$/, '')}/pem`);
      await load(pemUrl, newRun(), 200, 8);
      const cells: string[] = [];
      for (const inFlight of [1, 8, 32]) {
        const r = await load(pemUrl, newRun(), count, inFlight);
        cells.push(Math.round(r.perSecond).toString(), ms(r.p50), ms(r.p99));
      }
      console.log(`| ${target.name} | ${cells.join(' | ')} | ${rssMiB(child.pid!)} |`);
    } finally {
      await stopChild(child);
      target.cleanup?.();
    }
  }
}

async function timed(work: () => Promise<unknown>, runs = 3): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await work();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

const OPERATIONS = [
  'seed (bulk, straight into storage)',
  'graph projection of all PEMs (flush)',
  'idle loop run (nothing pending)',
  'getPems page 0 (pageSize 100)',
  'getPems last page, OFFSET (cold)',
  'getPems last page, after the page before (cursor)',
  'getPems sorted by TimestampClient desc, last page cold',
  'pems_count',
  'pems_count Type=…',
  'getPems Predecessor=… ',
  'getPems Type=…, page 0',
  'getArtifacts Name contains …, page 0',
  'artifacts_count Name contains …',
  'getTags (500 tags)',
  'full listing, streamed in batches (all PEMs)',
  'graph verify (PEMs, edges, artifacts)',
  'verify artifact connections',
  'lineage upstream of a chain end (10 PEMs, fan-in)',
  'lineage downstream of a chain start',
  'graph projection of all PEMs, CPU ms (this process + PostgreSQL)',
  'graph projection of 10 000 more PEMs (batches onto the projected graph)',
  'the same, CPU ms (this process + PostgreSQL)',
];

async function scale(sizes: number[], backends: { name: string; options: () => Promise<StorageOptions> }[], explain: boolean): Promise<void> {
  for (const backend of backends) {
    const results = new Map<string, string[]>();
    let idleCpu = '';
    for (const size of sizes) {
      const storage: Storage = await openStorage(await backend.options());
      const out = (name: string, value: string) => results.set(name, [...(results.get(name) ?? []), value]);
      try {
        await migrate(storage);
        const records = new Records(storage);
        let t = performance.now();
        for (let from = 0; from < size; from += 10_000) await seedPems(storage, from, Math.min(size, from + 10_000) - 1);
        await storage.query('ANALYZE');
        out(OPERATIONS[0]!, ms(performance.now() - t));
        const graph = new GraphBuilder(storage, { intervalMs: 3_600_000 });
        // CPU time beside wall time: on a shared machine the wall time is mostly waiting for a core.
        const projectionPg = backend.name.includes('PostgreSQL') ? postgresPid : undefined;
        const cpuBefore = process.cpuUsage();
        const pgCpuBefore = projectionPg ? cpuSeconds(projectionPg, true) : 0;
        t = performance.now();
        await graph.flush();
        out(OPERATIONS[1]!, ms(performance.now() - t));
        const cpuUsed = process.cpuUsage(cpuBefore);
        out(OPERATIONS[19]!, ms((cpuUsed.user + cpuUsed.system) / 1000 + (projectionPg ? (cpuSeconds(projectionPg, true) - pgCpuBefore) * 1000 : 0)));
        const idleSql = `SELECT g.pem_seq AS seq, p.id FROM rk_graph_pending g LEFT JOIN rk_pems p ON p.seq = g.pem_seq
         WHERE ($1::int IS NULL OR g.pem_seq <= $1::int) ORDER BY g.pem_seq LIMIT 500`;
        out(OPERATIONS[2]!, ms(await timed(() => storage.query(idleSql, [null]))));
        const last = Math.floor((size - 1) / 100);
        out(OPERATIONS[3]!, ms(await timed(() => new Records(storage).listPems({ filters: {}, pageIndex: 0, pageSize: 100 }))));
        out(OPERATIONS[4]!, ms(await timed(() => new Records(storage).listPems({ filters: {}, pageIndex: last, pageSize: 100 }))));
        await records.listPems({ filters: {}, pageIndex: last - 1, pageSize: 100 });
        out(OPERATIONS[5]!, ms(await timed(() => records.listPems({ filters: {}, pageIndex: last, pageSize: 100 }))));
        out(OPERATIONS[6]!, ms(await timed(() => new Records(storage).listPems({ filters: {}, sortField: 'TimestampClient', sortOrder: 'desc', pageIndex: last, pageSize: 100 }))));
        out(OPERATIONS[7]!, ms(await timed(() => records.countPems({}))));
        out(OPERATIONS[8]!, ms(await timed(() => records.countPems({ Type: 'type-3' }))));
        out(OPERATIONS[9]!, ms(await timed(() => records.listPems({ filters: { Predecessor: 'seed-00000500' } }))));
        out(OPERATIONS[10]!, ms(await timed(() => new Records(storage).listPems({ filters: { Type: 'type-3' }, pageIndex: 0, pageSize: 100 }))));
        out(OPERATIONS[11]!, ms(await timed(() => new Records(storage).listArtifacts({ filters: { Name: 'art-777' }, pageIndex: 0, pageSize: 100 }))));
        out(OPERATIONS[12]!, ms(await timed(() => records.countArtifacts({ Name: 'art-777' }))));
        out(OPERATIONS[13]!, ms(await timed(() => records.listTags())));
        out(
          OPERATIONS[14]!,
          ms(
            await timed(async () => {
              let n = 0;
              for await (const batch of records.streamPems({ filters: {} })) n += batch.length;
              if (n !== size) throw new Error(`streamed ${n} of ${size}`);
            }, 1),
          ),
        );
        out(OPERATIONS[15]!, ms(await timed(() => graph.verify(true, true), 1)));
        out(OPERATIONS[16]!, ms(await timed(() => records.unconnectedArtifacts(), 1)));
        const endOfChain = `seed-${String(Math.min(size - 1, 509)).padStart(8, '0')}`;
        const up = parseStatement(`CALL rk.lineage.upstream('PEM', '${endOfChain}')`);
        out(OPERATIONS[17]!, ms(await timed(() => up.statement.run(storage, up.literals))));
        const down = parseStatement(`CALL rk.lineage.downstream('PEM', 'seed-00000500')`);
        out(OPERATIONS[18]!, ms(await timed(() => down.statement.run(storage, down.literals))));
        // New PEMs onto a projected graph go through the batches, not the bulk path.
        await seedPems(storage, size, size + 9_999);
        const moreCpu = process.cpuUsage();
        const morePg = projectionPg ? cpuSeconds(projectionPg, true) : 0;
        t = performance.now();
        const more = await graph.flush();
        if (more !== 10_000) throw new Error(`the batches projected ${more} of 10000 PEMs`);
        out(OPERATIONS[20]!, ms(performance.now() - t));
        const moreUsed = process.cpuUsage(moreCpu);
        out(OPERATIONS[21]!, ms((moreUsed.user + moreUsed.system) / 1000 + (projectionPg ? (cpuSeconds(projectionPg, true) - morePg) * 1000 : 0)));
        if (size === sizes[sizes.length - 1]) {
          if (explain) await explainAll(storage);
          // The loop at its default 1 s interval on an idle, fully projected store, for 10 s.
          const idle = new GraphBuilder(storage, { intervalMs: 1000 });
          await idle.flush();
          const pgPid = backend.name.includes('PostgreSQL') ? postgresPid : undefined;
          const before = process.cpuUsage();
          const pgBefore = pgPid ? cpuSeconds(pgPid, true) : 0;
          idle.start();
          await new Promise((resolve) => setTimeout(resolve, 10_000));
          await idle.stop();
          const used = process.cpuUsage(before);
          const serverShare = (used.user + used.system) / 1e6 / 10;
          const pgShare = pgPid ? (cpuSeconds(pgPid, true) - pgBefore) / 10 : 0;
          idleCpu =
            `Idle Graph Builder loop (1 s interval) at ${size} PEMs over 10 s: ${(100 * serverShare).toFixed(2)} % of a core in this process` +
            (pgPid ? `, ${(100 * pgShare).toFixed(2)} % in PostgreSQL` : ' (PGlite runs in it)') +
            `; RSS of this process ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB.`;
        }
      } finally {
        await storage.close();
      }
    }
    console.log(`\n### Scale on ${backend.name} (ms, median of 3 unless a single run)\n`);
    console.log(`| operation | ${sizes.map((s) => `${s / 1000}k`).join(' | ')} |`);
    console.log(`| --- | ${sizes.map(() => '---:').join(' | ')} |`);
    for (const name of OPERATIONS) console.log(`| ${name} | ${(results.get(name) ?? []).join(' | ')} |`);
    if (idleCpu) console.log(`\n${idleCpu}`);
  }
}

async function explainAll(storage: Storage): Promise<void> {
  const queries: [string, string, unknown[]][] = [
    ['Type filter', `SELECT seq FROM rk_pems WHERE type COLLATE "C" = $1 ORDER BY seq LIMIT 100`, ['type-3']],
    ['Predecessor filter', `SELECT seq FROM rk_pems WHERE predecessor COLLATE "C" = $1 ORDER BY seq`, ['seed-00000500']],
    ['sort by TimestampClient desc', `SELECT seq FROM rk_pems ORDER BY timestamp_client COLLATE "C" DESC, seq DESC LIMIT 100`, []],
    ['keyset page', `SELECT seq FROM rk_pems WHERE (timestamp_client COLLATE "C", seq) < ($1::text COLLATE "C", $2::int) ORDER BY timestamp_client COLLATE "C" DESC, seq DESC LIMIT 100`, ['2026-01-01 12:00:00', 5000]],
    ['Name contains', `SELECT seq FROM rk_artifacts WHERE name LIKE $1 ESCAPE '\\' ORDER BY seq LIMIT 100`, ['%art-777%']],
    ['pending PEMs', `SELECT pem_seq FROM rk_graph_pending ORDER BY pem_seq LIMIT 500`, []],
    ['graph edge by dst', `SELECT src FROM rk_graph_edges WHERE rel = 'USES' AND dst = $1`, ['art-777']],
    // The statements a lineage walk repeats (src/cypher.ts, src/lineage-binding.ts).
    ['lineage: Predecessor of a PEM', `SELECT dst FROM rk_graph_edges WHERE rel = 'PREDECESSOR' AND src = $1`, ['seed-00000509']],
    ['lineage: uses of PEMs', `SELECT src, dst FROM rk_graph_edges WHERE rel = 'USES' AND src = ANY($1::text[])`, [['seed-00000509', 'seed-00000508']]],
    [
      'lineage: producers of artifacts',
      `SELECT e.dst AS name, e.src AS id, n.data->>'timestamp_client' AS time FROM rk_graph_edges e
       JOIN rk_graph_nodes n ON n.label = 'PEM' AND n.key = e.src WHERE e.rel = 'PRODUCES' AND e.dst = ANY($1::text[])`,
      [['art-505', 'art-506']],
    ],
    [
      'lineage: users of an artifact',
      `SELECT e.src AS id, n.data->>'timestamp_client' AS time FROM rk_graph_edges e
       JOIN rk_graph_nodes n ON n.label = 'PEM' AND n.key = e.src WHERE e.rel = 'USES' AND e.dst = $1 ORDER BY n.seq`,
      ['art-505'],
    ],
    ['lineage: PEM nodes by key', `SELECT key, data, seq FROM rk_graph_nodes WHERE label = 'PEM' AND key = ANY($1::text[])`, [['seed-00000509']]],
  ];
  console.log('\nEXPLAIN at the largest size:\n');
  for (const [name, sql, params] of queries) {
    const rows = await storage.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params);
    console.log(`- ${name}: ${rows.map((r) => r['QUERY PLAN'].trim()).join(' / ')}`);
  }
}

let postgresPid: number | undefined;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '1000,10000,100000' },
      count: { type: 'string', default: '600' },
      'no-postgres': { type: 'boolean' },
      'skip-throughput': { type: 'boolean' },
      'skip-scale': { type: 'boolean' },
      explain: { type: 'boolean' },
    },
  });
  const sizes = values.sizes.split(',').map(Number);
  console.log(`Machine: ${cpus().length} cores, ${cpus()[0]?.model}, Node ${process.version}; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  const unavailable = values['no-postgres'] ? 'skipped (--no-postgres)' : postgresUnavailable();
  const postgres = unavailable ? undefined : await startPostgres();
  postgresPid = postgres?.pid;
  if (unavailable) console.log(`PostgreSQL: ${unavailable}`);
  try {
    if (!values['skip-throughput']) await throughput(Number(values.count), postgres);
    if (!values['skip-scale']) {
      let n = 0;
      const backends: { name: string; options: () => Promise<StorageOptions> }[] = [{ name: 'PGlite (in memory)', options: async () => ({ memory: true }) }];
      if (postgres) backends.push({ name: 'PostgreSQL 15', options: async () => ({ databaseUrl: await createDatabase(postgres.url, `rk_bench_scale_${n++}`) }) });
      await scale(sizes, backends, Boolean(values.explain));
    }
  } finally {
    agent.destroy();
    await postgres?.stop();
  }
}

await main();
