/**
 * `node server/dist/server/bench/startup.js [--runs 5]`: start-up time of the local RK (issue 13),
 * from the call of `startLocalRK()` to its ready promise, each run in a fresh Node process (module
 * import excluded, timed apart), in memory and in a new data directory; then the same steps one by
 * one (spec bundling, Ajv compile, PGlite or PostgreSQL open, schema DDL) to show what dominates.
 * Medians of the runs. Prints markdown; every process is stopped by its pid (they exit by themselves).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = fileURLToPath(import.meta.url);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => (x < 100 ? x.toFixed(1) : Math.round(x).toString());

/** In the child: one start, or the steps one by one, printed as one JSON line. */
async function child(mode: string, dataDir: string | undefined): Promise<void> {
  const t0 = performance.now();
  const { startLocalRK } = await import('../src/server.js');
  const imported = performance.now() - t0;
  const storage = dataDir ? { dataDir } : { memory: true as const };
  const out: Record<string, number> = { import: imported };
  if (mode === 'total') {
    const t = performance.now();
    const rk = await startLocalRK({ ...storage, port: 0 });
    out.total = performance.now() - t;
    await rk.stop();
    // More starts in the same process: what tests and tools starting several local RKs pay (an
    // in-memory store loads the pristine dump from the third on, see storage.ts).
    for (const nth of ['second', 'third']) {
      const again = performance.now();
      const next = await startLocalRK({ ...storage, ...(dataDir ? { dataDir: `${dataDir}-${nth}` } : {}), port: 0 });
      out[nth] = performance.now() - again;
      await next.stop();
      if (dataDir) rmSync(`${dataDir}-${nth}`, { recursive: true, force: true });
    }
  } else {
    const { loadSpecs } = await import('../src/spec.js');
    const { SchemaValidator } = await import('../src/validation.js');
    const { SERVICES } = await import('../src/spec.js');
    const { openStorage } = await import('../src/storage.js');
    const { migrate } = await import('../src/schema.js');
    let t = performance.now();
    const specs = await loadSpecs();
    out['spec bundling (@redocly/openapi-core)'] = performance.now() - t;
    t = performance.now();
    const validator = new SchemaValidator();
    for (const service of SERVICES) {
      for (const operation of specs[service].operations) {
        operation.parameters.forEach((p) => validator.compile(p.schema));
        const schema = operation.requestBody?.content['application/json']?.schema;
        if (schema) validator.compile(schema);
      }
    }
    out['Ajv compile of every request schema'] = performance.now() - t;
    t = performance.now();
    const db = await openStorage(storage);
    out['storage open (PGlite init)'] = performance.now() - t;
    t = performance.now();
    await migrate(db);
    out['schema DDL (migrate)'] = performance.now() - t;
    await db.close();
  }
  console.log(JSON.stringify(out));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, child: { type: 'string' }, 'data-dir': { type: 'string' } } });
  if (values.child) return child(values.child, values['data-dir']);
  const runs = Number(values.runs);
  console.log(`load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}, ${runs} fresh processes per cell, median ms\n`);
  for (const mode of ['total', 'steps']) {
    const rows = new Map<string, Record<string, number[]>>();
    for (const where of ['memory', 'data dir']) {
      for (let i = 0; i < runs; i++) {
        const dir = where === 'data dir' ? mkdtempSync(path.join(tmpdir(), 'rk-startup-')) : undefined;
        try {
          const r = spawnSync(process.execPath, [here, '--child', mode, ...(dir ? ['--data-dir', dir] : [])], { encoding: 'utf8' });
          if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
          const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
          for (const [k, v] of Object.entries(result)) {
            const row = rows.get(k) ?? {};
            (row[where] ??= []).push(v);
            rows.set(k, row);
          }
        } finally {
          if (dir) rmSync(dir, { recursive: true, force: true });
        }
      }
    }
    console.log(mode === 'total' ? '| startLocalRK, fresh process | memory | new data dir |' : '| the same steps one by one | memory | new data dir |');
    console.log('| --- | ---: | ---: |');
    for (const [k, row] of rows) {
      const name =
        k === 'total'
          ? 'call to ready'
          : k === 'second' || k === 'third'
            ? `a ${k} start in the same process`
            : k === 'import'
              ? 'import of the module (before the call)'
              : k;
      console.log(`| ${name} | ${ms(median(row.memory ?? [NaN]))} | ${ms(median(row['data dir'] ?? [NaN]))} |`);
    }
    console.log('');
  }
}

await main();
