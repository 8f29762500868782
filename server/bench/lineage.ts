/**
 * `npm run bench:lineage`: RKLineage on stores shaped like pipelines, loaded into the local
 * Record Keeper. Prints index load time and PEMs/s, memory per PEM, refresh() after 1 000 new PEMs,
 * and upstream / explain at 5 and 20 hops (median and p99, warm). Figures only; nothing asserts.
 *
 * The store: P pipelines, each a chain of rounds ingest -> train -> evaluate -> deploy (Predecessor
 * chains across rounds), every train warm-starting from the pipeline's previous model (retraining:
 * one model Name, many versions), fan-in (train also uses a shared feature set and, every fifth
 * round, the next pipeline's data set), fan-out (the shared feature set feeds every train), and a
 * `production` tag moved by every deploy. PEMs are seeded straight into the server's tables (the
 * same rows the Receiver writes, one multi-row INSERT per batch), because seeding 100 000 PEMs over
 * HTTP would measure the Receiver, not the lineage; the 1 000 PEMs for refresh() go through
 * RKClient.sendPem like any PEM.
 *
 * The server runs in this process (to seed through its storage), so its work and garbage share the
 * heap: memory per PEM is measured on a second index built from the same PEMs fetched once more,
 * as the JS heap after GC with that index minus before it (the fetched PEMs alive in both) plus
 * the index's typed-array bytes (off the heap, counted exactly). PGlite in memory unless RK_DATABASE_URL names a PostgreSQL.
 *
 *   node --expose-gc server/dist/server/bench/lineage.js [--sizes 10000,100000] [--samples 200] [--json]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LineageIndex, Pem, RKClient, RKLineage, RKQuery, walkUpstream } from 'recordkeeper-client';
import { startLocalRK, type LocalRK } from '../src/index.js';
import { createDatabase, postgresUnavailable, startPostgres, type TestPostgres } from './postgres.js';
import { hex, ROUND, ROUNDS_PER_PIPELINE, seed, synthetic, T0, wire } from './lineage-store.js';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000' },
    samples: { type: 'string', default: '200' },
    json: { type: 'boolean', default: false },
    /** Same-second chains for the binding figures (0 to skip). */
    bursts: { type: 'string', default: '100,1000,2000,10000' },
    /** Engines timed from a cold client in its own process (empty to skip). */
    engines: { type: 'string', default: 'memory,server,replica' },
    'engine-samples': { type: 'string', default: '20' },
    /** Run the store on a throwaway PostgreSQL 15 (when RK_DATABASE_URL is not set). */
    postgres: { type: 'boolean', default: false },
    /** Only the engines' cold-client figures (skip the in-process index: load, memory, refresh, walks). */
    'engines-only': { type: 'boolean', default: false },
  },
});
const SIZES = args.sizes.split(',').filter(Boolean).map((s) => Number(s.trim()));
const BURSTS = args.bursts.split(',').map((s) => Number(s.trim())).filter((n) => n > 0);
const ENGINES = args.engines.split(',').map((s) => s.trim()).filter(Boolean);
const ENGINE_SAMPLES = Number(args['engine-samples']);
const CLIENT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lineage-client.js');
let postgres: TestPostgres | undefined;
let databases = 0;
const SAMPLES = Number(args.samples);
const gc = (globalThis as { gc?: () => void }).gc;

function quantiles(values: number[]): { median: number; p99: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
  return { median: at(0.5), p99: at(0.99) };
}

function heap(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

/**
 * Binding in a same-second burst: a chain of n PEMs stamped in one second, each using and
 * producing the same Name (a checkpoint), bound one hop upstream from every 1/200th link; and a
 * 10-hop walk from the chain's end. Per use, against the n = smallest run as the floor.
 */
function bursts(): Array<{ n: number; perUseUs: number; walk10Ms: number }> {
  const rows: Array<{ n: number; perUseUs: number; walk10Ms: number }> = [];
  for (const n of BURSTS) {
    const index = new LineageIndex();
    const id = (k: number) => hex(k, 0xb0000000 + n);
    for (let k = 0; k < n; k++) {
      index.add({ ID: id(k), Type: 'step', Emitter: 'burst', Predecessor: k ? id(k - 1) : null, TimestampClient: wire(T0), UsesArtifacts: ['ckpt'], ProducesArtifacts: ['ckpt'] });
    }
    const sample = Array.from({ length: Math.min(n, 200) }, (_, i) => id(Math.floor((i * n) / Math.min(n, 200))));
    walkUpstream(index, sample[0]!, { maxHops: 1, via: ['artifacts'] }); // builds the per-version cache
    const started = performance.now();
    for (const pem of sample) walkUpstream(index, pem, { maxHops: 1, via: ['artifacts'] });
    const perUseUs = ((performance.now() - started) * 1000) / sample.length;
    const walkStarted = performance.now();
    walkUpstream(index, id(n - 1), { maxHops: 10 });
    rows.push({ n, perUseUs, walk10Ms: performance.now() - walkStarted });
  }
  return rows;
}

/** What the replica's first sync of the store took, from its own process. */
type ReplicaSync = { pems: number; seconds: number; pemsPerSecond: number; diskMiB: number; bytesPerPem: number; maxRssMiB: number };

/**
 * One cold client per engine, in its own process: first answer, peak RSS, question latencies.
 * Asynchronous: the local RK answering it runs in this process (a synchronous child would block it).
 */
async function engineFigures(queryUrl: string, targets: { deploys: string[]; sources: Array<[string, string]> }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'rk-lineage-bench-'));
  try {
    const file = path.join(dir, 'targets.json');
    writeFileSync(file, JSON.stringify(targets));
    // Its stderr (each phase's figures as it ends) passes straight through; its stdout is the JSON.
    const client = (...argv: string[]) =>
      new Promise<unknown>((resolve, reject) => {
        const child = spawn(process.execPath, [CLIENT, queryUrl, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
        let stdout = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve(JSON.parse(stdout)) : reject(new Error(`lineage-client ${argv[0]} exited with ${code}`))));
      });
    const replicaDir = path.join(dir, 'replica');
    const figures = [];
    for (const engine of ENGINES) {
      // The replica is synced in a process of its own first, then opened cold like the others.
      const sync = engine === 'replica' ? ((await client('replica-sync', file, replicaDir)) as ReplicaSync) : undefined;
      if (sync && !args.json) printSync(sync);
      const answer = (await client(engine, file, replicaDir)) as {
        engine: string;
        firstAnswerMs: number;
        firstAnswerRssMiB: number;
        maxRssMiB: number;
        figures: Record<string, { p50: number; p99: number; partial: number; requests?: number; rounds?: number; pems?: number }>;
        sync?: ReplicaSync;
      };
      if (sync) answer.sync = sync;
      figures.push(answer);
      if (!args.json) printEngine(answer);
    }
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function databaseUrl(): Promise<string | undefined> {
  if (process.env.RK_DATABASE_URL) return process.env.RK_DATABASE_URL;
  if (!args.postgres) return undefined;
  if (!postgres) {
    const why = postgresUnavailable();
    if (why) throw new Error(`--postgres: ${why}`);
    postgres = await startPostgres();
  }
  return createDatabase(postgres.url, `lineage_bench_${++databases}`);
}

async function run(size: number) {
  const url = await databaseUrl();
  const rk = await startLocalRK({ ...(url ? { databaseUrl: url } : { memory: true }), graphIntervalMs: 3_600_000 });
  try {
    const [existing] = await rk.storage.query<{ n: number }>(`SELECT count(*)::int AS n FROM rk_pems`);
    if (existing && existing.n > 0) throw new Error(`the database holds ${existing.n} PEMs: give the benchmark an empty one (createdb), it seeds its own`);
    const pipelines = Math.max(1, Math.round(size / (ROUND * ROUNDS_PER_PIPELINE)));
    const salt = 0xbe000000 + size;
    const seedSeconds = await seed(rk, size, pipelines, salt);
    if (!args.json) console.log(`\n${size} PEMs (${pipelines} pipelines) on ${rk.storage.description}; seeded in ${seedSeconds.toFixed(1)} s`);
    // Engines first, on the store as seeded: the latest deploys, and paths / impact from a raw export two rounds before one.
    const engineTargets = { deploys: [] as string[], sources: [] as Array<[string, string]> };
    for (let i = size - 1; i >= 0 && engineTargets.deploys.length < ENGINE_SAMPLES; i--) {
      const r = synthetic(i, pipelines, salt);
      if (r.type !== 'deploy') continue;
      engineTargets.deploys.push(r.id);
      const ingest = i - 3 * pipelines - 2 * ROUND * pipelines;
      if (ingest >= 0) engineTargets.sources.push([synthetic(ingest, pipelines, salt).uses[0]!, r.id]);
    }
    const engines = ENGINES.length ? await engineFigures(rk.queryUrl, engineTargets) : [];
    if (args['engines-only']) return { size, storage: rk.storage.description, pipelines, seedSeconds, engines };

    const query = new RKQuery(rk.queryUrl, { timeoutMs: 600_000 });
    const lineage = new RKLineage(query, { pageSize: 5000, concurrency: 4 });
    const loaded = await lineage.load();
    if (!loaded.ok) throw loaded.error;

    // refresh() after 1 000 new PEMs sent through the Receiver: the next rounds of the pipelines.
    const client = new RKClient(rk.receiverUrl, 'bench', { timeoutMs: 60_000 });
    const sendStarted = performance.now();
    const newer: Pem[] = [];
    for (let k = 0; k < 1000; k++) {
      const r = synthetic(size + k, pipelines, salt);
      newer.push(Pem.from({ ID: r.id, Type: r.type, Predecessor: r.predecessor, Emitter: r.emitter, TimestampClient: r.time, Properties: {}, Version: '2.0.0', Tag: r.tag, TagNamespace: r.namespace, UsesArtifacts: r.uses.map((Name) => ({ Name, Properties: {}, CreatedAt: null })), ProducesArtifacts: r.produces.map((Name) => ({ Name, Properties: {}, CreatedAt: null })) }));
    }
    const sent = await Promise.all(newer.map((pem) => client.sendPem(pem)));
    const failed = sent.filter((s) => !s.ok).length;
    const sendSeconds = (performance.now() - sendStarted) / 1000;
    await client.close();
    const refreshed = await lineage.refresh();
    if (!refreshed.ok) throw refreshed.error;

    // Targets: the latest deploy of pipelines spread over the store.
    const deploys: string[] = [];
    for (let i = size + 999; i >= 0 && deploys.length < SAMPLES; i--) {
      const r = synthetic(i, pipelines, salt);
      if (r.type === 'deploy' && lineage.index.has(r.id)) deploys.push(r.id);
    }
    const walks: Record<string, { median: number; p99: number; nodes: number }> = {};
    for (const hops of [5, 20]) {
      for (const kind of ['upstream', 'explain'] as const) {
        const options = { maxHops: hops, maxNodes: 1_000_000 };
        const one = (id: string) => (kind === 'upstream' ? lineage.upstream(id, options).nodes.length : lineage.explain(id, options).lineage.nodes.length);
        for (const id of deploys.slice(0, 20)) one(id); // warm
        const times: number[] = [];
        const nodes: number[] = [];
        for (const id of deploys) {
          const t = performance.now();
          nodes.push(one(id));
          times.push(performance.now() - t);
        }
        walks[`${kind} ${hops} hops`] = { ...quantiles(times), nodes: quantiles(nodes).median };
      }
    }
    // After the walks (so their timings do not pay for its garbage): the client's own share of loading: the same PEMs, fetched once, indexed from memory.
    const all = await query.getPems({ sortField: 'TimestampReceived', sortOrder: 'asc' });
    if (!all.ok) throw all.error;
    const beforeIndex = heap();
    const buildStarted = performance.now();
    const measured = new LineageIndex();
    measured.addAll(all.value);
    const buildSeconds = (performance.now() - buildStarted) / 1000;
    // Memory: heap after GC with the index minus before it (the PEMs themselves stay referenced
    // in both), plus its typed arrays, which live off the heap.
    const indexHeap = heap() - beforeIndex;
    const measuredStats = measured.stats();
    const bytesPerPem = (indexHeap + measuredStats.columnBytes) / measuredStats.pems;

    return {
      size,
      storage: rk.storage.description,
      pipelines,
      seedSeconds,
      load: { seconds: loaded.value.durationMs / 1000, pemsPerSecond: loaded.value.added / (loaded.value.durationMs / 1000), pages: loaded.value.pages, indexOnlyPemsPerSecond: all.value.length / buildSeconds },
      memory: { bytesPerPem, heapDeltaBytes: indexHeap, columnBytes: measuredStats.columnBytes, artifacts: measuredStats.artifacts, pems: measuredStats.pems },
      refresh: { sendSeconds, sendFailed: failed, ms: refreshed.value.durationMs, added: refreshed.value.added, pages: refreshed.value.pages },
      walks,
      engines,
    };
  } finally {
    await rk.stop();
  }
}

if (!gc) console.warn('run with node --expose-gc for memory figures after GC (npm run bench:lineage does)');
if (BURSTS.length) {
  const rows = bursts();
  const floor = rows[0]!;
  console.log(`\nBinding in a same-second burst (a chain of n PEMs in one second sharing one Name):`);
  for (const row of rows) {
    console.log(`  n = ${String(row.n).padEnd(6)} ${row.perUseUs.toFixed(1).padStart(8)} us per use (${(row.perUseUs / floor.perUseUs).toFixed(2)}x n = ${floor.n})   10-hop walk from the end ${row.walk10Ms.toFixed(2)} ms`);
  }
}
const results = [];
for (const size of SIZES) {
  const result = await run(size);
  results.push(result);
  if (!args.json && result.load) printIndex(result as Parameters<typeof printIndex>[0]);
}
if (args.json) console.log(JSON.stringify(results, null, 2));
await postgres?.stop();

function printSync(sync: ReplicaSync): void {
  console.log(`  replica sync: ${sync.pems} PEMs in ${sync.seconds.toFixed(1)} s, ${Math.round(sync.pemsPerSecond)} PEMs/s, ${sync.diskMiB.toFixed(1)} MiB on disk (${Math.round(sync.bytesPerPem)} B/PEM), peak RSS ${sync.maxRssMiB.toFixed(0)} MiB`);
}

function printEngine(engine: { engine: string; firstAnswerMs: number; firstAnswerRssMiB: number; maxRssMiB: number; figures: Record<string, { p50: number; p99: number; partial: number; requests?: number; rounds?: number; pems?: number }> }): void {
  console.log(`  engine ${engine.engine}: first answer (20-hop explain) from a cold client ${engine.firstAnswerMs.toFixed(0)} ms, client peak RSS ${engine.firstAnswerRssMiB.toFixed(0)} MiB then, ${engine.maxRssMiB.toFixed(0)} MiB after every question`);
  for (const [name, f] of Object.entries(engine.figures)) {
    const traffic = f.requests === undefined ? '' : `; ${f.requests.toFixed(1)} requests, ${f.rounds!.toFixed(1)} rounds, ${Math.round(f.pems!)} PEMs read per answer`;
    console.log(`    ${name.padEnd(16)} p50 ${f.p50.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms${f.partial ? ` (${f.partial} partial)` : ''}${traffic}`);
  }
}

function printIndex(result: Required<Awaited<ReturnType<typeof run>>>): void {
  console.log(`  artifacts   ${result.memory.artifacts} Names`);
  console.log(`  load        ${result.load.seconds.toFixed(2)} s, ${Math.round(result.load.pemsPerSecond)} PEMs/s (${result.load.pages} pages of 5000, 4 in flight); indexing alone ${Math.round(result.load.indexOnlyPemsPerSecond)} PEMs/s`);
  console.log(`  memory      ${Math.round(result.memory.bytesPerPem)} B/PEM (heap after GC +${(result.memory.heapDeltaBytes / 1048576).toFixed(1)} MiB, typed arrays ${(result.memory.columnBytes / 1048576).toFixed(1)} MiB)`);
  console.log(`  refresh     ${result.refresh.ms.toFixed(0)} ms for ${result.refresh.added} new PEMs (${result.refresh.pages} pages; sending them took ${result.refresh.sendSeconds.toFixed(1)} s, ${result.refresh.sendFailed} failed)`);
  for (const [name, walk] of Object.entries(result.walks)) {
    console.log(`  ${name.padEnd(18)} median ${walk.median.toFixed(2)} ms, p99 ${walk.p99.toFixed(2)} ms (median ${walk.nodes} nodes, ${SAMPLES} targets, warm)`);
  }
}
