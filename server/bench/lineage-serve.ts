/**
 * A local RK on a throwaway PostgreSQL holding the lineage benchmark's store, kept up for
 * profiling one client at a time: prints the Query URL and the targets file, then waits for
 * SIGINT/SIGTERM (it stops PostgreSQL on the way out).
 *
 *   node server/dist/server/bench/lineage-serve.js --size 100000 --out <dir>
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalRK } from '../src/index.js';
import { seed, synthetic, ROUND, ROUNDS_PER_PIPELINE } from './lineage-store.js';
import { createDatabase, startPostgres } from './postgres.js';

const { values: args } = parseArgs({ options: { size: { type: 'string', default: '100000' }, out: { type: 'string', default: '.' } } });
const size = Number(args.size);
const postgres = await startPostgres();
const databaseUrl = await createDatabase(postgres.url, 'lineage_serve');
const rk = await startLocalRK({ databaseUrl, graphIntervalMs: 3_600_000 });
const pipelines = Math.max(1, Math.round(size / (ROUND * ROUNDS_PER_PIPELINE)));
const salt = 0xbe000000 + size;
const seconds = await seed(rk, size, pipelines, salt);
const targets = { deploys: [] as string[], sources: [] as Array<[string, string]> };
for (let i = size - 1; i >= 0 && targets.deploys.length < 20; i--) {
  const r = synthetic(i, pipelines, salt);
  if (r.type !== 'deploy') continue;
  targets.deploys.push(r.id);
  const ingest = i - 3 * pipelines - 2 * ROUND * pipelines;
  if (ingest >= 0) targets.sources.push([synthetic(ingest, pipelines, salt).uses[0]!, r.id]);
}
const file = path.resolve(args.out!, 'targets.json');
writeFileSync(file, JSON.stringify(targets));
console.log(JSON.stringify({ queryUrl: rk.queryUrl, databaseUrl, targets: file, seedSeconds: seconds }));
const stop = async () => {
  await rk.stop();
  await postgres.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
