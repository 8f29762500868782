import { existsSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRK, type LocalRK } from '../../server/src/index.js';
import { packedProject, ROOT, run, type PackedProject } from '../packaging/packed-project.js';

/**
 * The runtime matrix: the packed package, installed into a fresh project, sends, tags and reads
 * back a PEM against the local RK on each runtime. the Node running the tests is one (20 in CI, then 22); the
 * others come from their npm packages (`node scripts/fetch-runtimes.mjs`, which .ci/run calls).
 * A runtime not fetched is skipped here and reported as such; CI sets RK_RUNTIMES_REQUIRED=1 so
 * a missing one fails instead.
 */
const DIR = process.env.RK_RUNTIMES_DIR ?? join(ROOT, 'node_modules/.cache/rk-runtimes');
const RUNTIMES = [
  { name: `node${process.versions.node.split('.')[0]}-current`, bin: process.execPath, esm: (f: string) => [f], cjs: true },
  { name: 'node22', bin: join(DIR, 'node22/package/bin/node'), esm: (f: string) => [f], cjs: true },
  { name: 'node24', bin: join(DIR, 'node24/package/bin/node'), esm: (f: string) => [f], cjs: true },
  { name: 'bun', bin: join(DIR, 'bun/package/bin/bun'), esm: (f: string) => ['run', f], cjs: true },
  { name: 'deno', bin: join(DIR, 'deno/package/deno'), esm: (f: string) => ['run', '--allow-net', '--allow-env', '--allow-read', f], cjs: false },
];
const REQUIRED = process.env.RK_RUNTIMES_REQUIRED === '1';

describe('the runtime matrix', { timeout: 60_000 }, () => {
  let project: PackedProject;
  let rk: LocalRK;

  beforeAll(async () => {
    [project, rk] = await Promise.all([packedProject(), startLocalRK({ memory: true, graphIntervalMs: 60_000 })]);
    await copyFile(join(ROOT, 'test/runtimes/smoke.mjs'), join(project.dir, 'smoke.mjs'));
    await copyFile(join(ROOT, 'test/runtimes/smoke.cjs'), join(project.dir, 'smoke.cjs'));
  }, 300_000);

  afterAll(async () => {
    await rk?.stop();
    await project?.remove();
  });

  for (const runtime of RUNTIMES) {
    const present = existsSync(runtime.bin);
    const missing = `${runtime.name} is not installed: run node scripts/fetch-runtimes.mjs (CI does, and sets RK_RUNTIMES_REQUIRED=1 so a missing runtime fails)`;
    it(`${runtime.name}: sends, tags and reads back a PEM`, async (test) => {
      test.skip(!present && !REQUIRED, missing);
      expect(present, `${runtime.bin} is missing: run node scripts/fetch-runtimes.mjs`).toBe(true);
      const base = new URL(rk.receiverUrl).origin;
      const outcome = await run(runtime.bin, runtime.esm('smoke.mjs'), project.dir, { RK_BASE: base, RK_RUNTIME: runtime.name, NO_COLOR: '1' });
      expect(outcome.stderr).toBe('');
      expect(outcome.code).toBe(0);
      const printed = JSON.parse(outcome.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
      expect(printed).toEqual({ VERSION: expect.any(String), status: 'accepted', produces: ['smoke-artifact'], properties: { runtime: runtime.name }, tagged: true });
    });
    if (runtime.cjs) {
      it(`${runtime.name}: require('recordkeeper-client') works`, async (test) => {
        test.skip(!present && !REQUIRED, missing);
        const outcome = await run(runtime.bin, runtime.esm('smoke.cjs'), project.dir);
        expect(outcome.code, outcome.stderr).toBe(0);
        expect(JSON.parse(outcome.stdout.trim())).toEqual({ RKClient: 'function', RKQuery: 'function', MockRKQuery: 'function' });
      });
    }
  }
});
