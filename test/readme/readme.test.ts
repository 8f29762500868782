import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRK, type LocalRK } from '../../server/src/index.js';
import { packedProject, ROOT, run, runOk, TSC, type PackedProject } from '../packaging/packed-project.js';

/**
 * The README's code, run as a new user runs it: every fenced block whose info string names a file
 * (```js quickstart.mjs) is written into a fresh project that installed the packed tarball, the
 * TypeScript ones type-checked under the tsconfig `tsc --init` writes, then each is run with node
 * against a local RK. The only change is the port: the README's 8082 becomes the test server's.
 */
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const BLOCKS = [...README.matchAll(/^```(js|ts) ([\w.-]+)\n([\s\S]*?)^```$/gm)].map(([, lang, file, code]) => ({ lang: lang!, file: file!, code: code! }));

describe('the README', { timeout: 120_000 }, () => {
  let project: PackedProject;
  let rk: LocalRK;
  const ran = new Map<string, { code: number; stdout: string; stderr: string }>();

  beforeAll(async () => {
    [project, rk] = await Promise.all([packedProject(), startLocalRK({ memory: true, graphIntervalMs: 60_000 })]);
    const base = new URL(rk.receiverUrl).origin;
    for (const block of BLOCKS) await writeFile(join(project.dir, block.file), block.code.replaceAll('http://127.0.0.1:8082', base));
    await runOk(TSC, ['--init'], project.dir);
  }, 300_000);

  afterAll(async () => {
    await rk?.stop();
    await project?.remove();
  });

  it('has the blocks this test runs', () => {
    expect(BLOCKS.map((b) => b.file)).toEqual(expect.arrayContaining(['quickstart.mjs', 'quickstart.ts', 'quickstart.cjs', 'errors.ts', 'testing.ts']));
  });

  it('installs as the README says: the packed tarball ships LICENSE, CHANGELOG and no source maps', async () => {
    const files = (await runOk('tar', ['-tzf', project.tarball], project.tmp)).split('\n');
    expect(files).toEqual(expect.arrayContaining(['package/LICENSE', 'package/CHANGELOG.md', 'package/README.md']));
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
  });

  it('type-checks every TypeScript block under tsc --init defaults (exactOptionalPropertyTypes and all)', async () => {
    const config = readFileSync(join(project.dir, 'tsconfig.json'), 'utf8');
    expect(config).toMatch(/"exactOptionalPropertyTypes": true/);
    const outcome = await run(TSC, ['-p', '.'], project.dir);
    expect(outcome.stdout + outcome.stderr).toBe('');
    expect(outcome.code).toBe(0);
  });

  for (const block of BLOCKS) {
    const script = block.lang === 'ts' ? block.file.replace(/\.ts$/, '.js') : block.file;
    it(`runs ${block.file} against the local RK without an error`, async () => {
      if (block.lang === 'ts' && !ran.has('tsc')) ran.set('tsc', await run(TSC, ['-p', '.'], project.dir));
      const outcome = await run(process.execPath, [script], project.dir);
      ran.set(block.file, outcome);
      expect(outcome.stderr).toBe('');
      expect(outcome.code).toBe(0);
    });
  }

  it('sends, tags and reads back a PEM in JS, TS and CommonJS', () => {
    expect(ran.get('quickstart.mjs')?.stdout).toMatch(/sent [0-9a-f]{32} accepted\nread back \[ 'dataset-a' \] -> \[ 'model-a' \]\nproduction is [0-9a-f]{32}\n/);
    expect(ran.get('quickstart.ts')?.stdout).toMatch(/read back \[ 'dataset-a' \] -> \[ 'model-a' \] after 10 epochs/);
    expect(ran.get('quickstart.cjs')?.stdout).toMatch(/read back ingest \[ 'dataset-a' \]/);
    expect(ran.get('errors.ts')?.stdout).toMatch(/^\d+ PEMs$/m);
    expect(ran.get('testing.ts')?.stdout).toContain("true [ 'model-a' ]");
  });
});
