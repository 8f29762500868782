/**
 * The client side of `npm run bench:lineage`'s engine figures, in its own process so its peak RSS
 * is the client's alone (the benchmark's process also runs the local RK). A cold client: it
 * connects, opens the engine, and times its first answer, then each question over the targets.
 * Prints one JSON object on stdout at the end, and each phase's figures on stderr as soon as it is
 * done (the benchmark passes stderr through), so a run stopped midway keeps what it measured.
 *
 *   node server/dist/server/bench/lineage-client.js <query-url> <memory|server|replica> <targets.json> [<replica dir>]
 *   node server/dist/server/bench/lineage-client.js <query-url> replica-sync <targets.json> <replica dir>
 *
 * `replica-sync` copies the store into the directory (sync rate, size on disk, its own peak RSS);
 * `replica` then opens that copy cold (an incremental sync finding nothing new) and answers.
 */
import { readFileSync } from 'node:fs';
import { bytesUnder } from './disk-size.js';
import { ReplicaEngine, RKLineage, RKQuery, type LineageEngine, type Result } from 'recordkeeper-client';

const [queryUrl, engineName, targetsFile, replicaDir] = process.argv.slice(2);
const targets = JSON.parse(readFileSync(targetsFile!, 'utf8')) as { deploys: string[]; sources: Array<[string, string]> };

function ok<T>(result: Result<T>): T {
  if (!result.ok) throw result.error;
  return result.value;
}

function quantiles(values: number[]): { p50: number; p99: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

if (engineName === 'replica-sync') {
  const replica = ok(await ReplicaEngine.open({ dir: replicaDir!, source: new RKQuery(queryUrl!, { timeoutMs: 600_000, retry: { totalTimeoutMs: 600_000 } }) }));
  const report = replica.lastSync!;
  await replica.close();
  const bytes = bytesUnder(replicaDir!);
  console.log(JSON.stringify({ pems: report.size, seconds: report.durationMs / 1000, pemsPerSecond: report.size / (report.durationMs / 1000), diskMiB: bytes / 1048576, bytesPerPem: bytes / report.size, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
  process.exit(0);
}

const started = performance.now();
const lineage = new RKLineage(new RKQuery(queryUrl!, { timeoutMs: 600_000, retry: { totalTimeoutMs: 600_000 } }), engineName === 'replica' ? { replica: { dir: replicaDir! } } : { engine: engineName as 'memory' | 'server' });
const engine: LineageEngine = ok(await lineage.openEngine());
const openSync = (engine as { lastSync?: { read: number; added: number; pages: number; durationMs: number } | null }).lastSync;
if (openSync) console.error(`    [${engineName}] opened in ${(performance.now() - started).toFixed(0)} ms (its sync read ${openSync.read} PEMs in ${openSync.pages} pages, added ${openSync.added}, ${openSync.durationMs.toFixed(0)} ms), peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
ok(await engine.explain({ pem: targets.deploys[0]! }, { maxHops: 20 }));
const firstAnswerMs = performance.now() - started;
// The target is for one 20-hop explain from a cold client: its peak RSS, before the other questions.
const firstAnswerRssMiB = process.resourceUsage().maxRSS / 1024;
console.error(`    [${engineName}] first answer (20-hop explain) from a cold client ${firstAnswerMs.toFixed(0)} ms, peak RSS ${firstAnswerRssMiB.toFixed(0)} MiB`);
/** The server engine's requests and rounds per answer (absent for the other engines). */
const traffic = () => (engine as { lastAnswer?: { requests: number; rounds: number; pems: number } }).lastAnswer;

const figures: Record<string, { p50: number; p99: number; partial: number; requests?: number; rounds?: number; pems?: number }> = {};
async function time(name: string, ask: (i: number) => Promise<Result<unknown>>, count: number): Promise<void> {
  const times: number[] = [];
  let partial = 0;
  const sums = { requests: 0, rounds: 0, pems: 0 };
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    const answer = ok(await ask(i)) as { partial?: true; lineage?: { partial?: true } };
    times.push(performance.now() - t);
    if (answer.partial || answer.lineage?.partial) partial++;
    const seen = traffic();
    if (seen) for (const key of ['requests', 'rounds', 'pems'] as const) sums[key] += seen[key];
  }
  figures[name] = { ...quantiles(times), partial, ...(traffic() ? { requests: sums.requests / count, rounds: sums.rounds / count, pems: sums.pems / count } : {}) };
  const f = figures[name]!;
  console.error(`    [${engineName}] ${name.padEnd(16)} p50 ${f.p50.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms${partial ? ` (${partial} partial)` : ''}, ${count} targets, ${(times.reduce((a, b) => a + b, 0) / 1000).toFixed(1)} s in all, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}
const n = targets.deploys.length;
for (const hops of [5, 20]) {
  await time(`explain ${hops} hops`, (i) => engine.explain({ pem: targets.deploys[i]! }, { maxHops: hops, maxNodes: 100_000 }), n);
  await time(`upstream ${hops} hops`, (i) => engine.upstream({ pem: targets.deploys[i]! }, { maxHops: hops, maxNodes: 100_000 }), n);
}
await time('paths', (i) => engine.paths({ name: targets.sources[i]![0] }, { pem: targets.sources[i]![1] }, { maxHops: 12 }), targets.sources.length);
await time('impact', (i) => engine.impact({ name: targets.sources[i]![0] }, { maxHops: 8 }), targets.sources.length);
await engine.close();
console.log(JSON.stringify({ engine: engineName, firstAnswerMs, firstAnswerRssMiB, maxRssMiB: process.resourceUsage().maxRSS / 1024, figures }));
