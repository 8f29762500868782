import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRK, type LocalRK } from '../../server/src/index.js';
import { packedProject, ROOT, run, runOk, type Outcome, type PackedProject } from '../packaging/packed-project.js';
import { tscInProcess } from '../packaging/typescript-in-process.js';

/**
 * The README's and the guides' code, run as a new user runs it: every fenced block whose info
 * string names a file (```js quickstart.mjs) is written into a fresh project that installed the
 * packed tarball, the TypeScript ones type-checked under the tsconfig the runtimes guide has
 * `tsc --init` write, then each is run with node against a local RK, in document order (README
 * first, then the guides by name). The only change is the port: 8082 becomes the test server's.
 */
const DOCUMENTS = ['README.md', ...readdirSync(join(ROOT, 'guides')).filter((f) => f.endsWith('.md')).sort().map((f) => `guides/${f}`)];
const BLOCKS = DOCUMENTS.flatMap((document) =>
  [...readFileSync(join(ROOT, document), 'utf8').matchAll(/^```(js|ts) ([\w.-]+)\n([\s\S]*?)^```$/gm)].map(([, lang, file, code]) => ({ document, lang: lang!, file: file!, code: code! })),
);
/** The command the runtimes guide gives for a tsconfig whose output Node 20 and 22 run. */
const TSC_INIT = 'npx tsc --init --target es2022 --lib es2022,esnext.disposable,dom';

describe('the README and the guides', { timeout: 120_000 }, () => {
  let project: PackedProject;
  let rk: LocalRK;
  const ran = new Map<string, { code: number; stdout: string; stderr: string }>();
  /**
   * `tsc -p .` in the project, once: the type check reads its diagnostics, the TypeScript blocks run
   * its output. tsc's command lines run in this process (test/packaging/typescript-in-process.ts):
   * one load of the compiler for this and the guide's `tsc --init`.
   */
  let compiled: Outcome | undefined;
  const compile = (): Outcome => (compiled ??= tscInProcess(['-p', '.'], project.dir));

  beforeAll(async () => {
    [project, rk] = await Promise.all([packedProject(), startLocalRK({ memory: true, graphIntervalMs: 60_000 })]);
    const base = new URL(rk.receiverUrl).origin;
    for (const block of BLOCKS) await writeFile(join(project.dir, block.file), block.code.replaceAll('http://127.0.0.1:8082', base));
    const init = tscInProcess(TSC_INIT.split(' ').slice(2), project.dir);
    if (init.code !== 0 || !init.stdout.includes('Created a new tsconfig.json')) throw new Error(`${TSC_INIT} failed:\n${init.stdout}`);
  }, 300_000);

  afterAll(async () => {
    await rk?.stop();
    await project?.remove();
  });

  it('has the blocks this test runs, each file named once, and the tsconfig command the guide gives', () => {
    const files = BLOCKS.map((b) => b.file);
    expect(files).toEqual(expect.arrayContaining(['quickstart.mjs', 'quickstart.ts', 'quickstart.cjs', 'errors.ts', 'testing.ts', 'dispose.ts', 'lineage.ts', 'outbox.ts']));
    expect(new Set(files).size).toBe(files.length);
    expect(readFileSync(join(ROOT, 'guides/runtimes.md'), 'utf8')).toContain(TSC_INIT);
  });

  it('installs as the README says: the packed tarball ships LICENSE, CHANGELOG and no source maps', async () => {
    const files = (await runOk('tar', ['-tzf', project.tarball], project.tmp)).split('\n');
    expect(files).toEqual(expect.arrayContaining(['package/LICENSE', 'package/CHANGELOG.md', 'package/README.md']));
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
  });

  it("type-checks every TypeScript block under the guide's tsc --init (exactOptionalPropertyTypes and all, no @types/node)", async () => {
    const config = readFileSync(join(project.dir, 'tsconfig.json'), 'utf8');
    expect(config).toMatch(/"exactOptionalPropertyTypes": true/);
    expect(config).toMatch(/"target": "es2022"/);
    expect(config).toMatch(/"types": \[\]/);
    const outcome = compile();
    expect(outcome.stdout + outcome.stderr).toBe('');
    expect(outcome.code).toBe(0);
  });

  for (const block of BLOCKS) {
    const script = block.lang === 'ts' ? block.file.replace(/\.ts$/, '.js') : block.file;
    it(`runs ${block.file} (${block.document}) against the local RK without an error`, async () => {
      if (block.lang === 'ts') compile();
      const outcome = await run(process.execPath, [script], project.dir);
      ran.set(block.file, outcome);
      expect(outcome.stderr).toBe('');
      expect(outcome.code).toBe(0);
    });
  }

  it('sends, tags and reads back a PEM in JS, TS and CommonJS; narrows errors by kind; closes with await using; explains lineage; asks an engine; calls an operation by its operationId', () => {
    expect(ran.get('quickstart.mjs')?.stdout).toMatch(/sent [0-9a-f]{32} accepted\nread back \[ 'dataset-a' \] -> \[ 'model-a' \]\nproduction is [0-9a-f]{32}\n/);
    expect(ran.get('quickstart.ts')?.stdout).toMatch(/read back \[ 'dataset-a' \] -> \[ 'model-a' \] after 10 epochs/);
    expect(ran.get('quickstart.cjs')?.stdout).toMatch(/read back ingest \[ 'dataset-a' \]/);
    expect(ran.get('errors.ts')?.stdout).toMatch(/^\d+ PEMs$/m);
    expect(ran.get('testing.ts')?.stdout).toContain("true [ 'model-a' ]");
    expect(ran.get('dispose.ts')?.stdout).toBe('1 1\n');
    expect(ran.get('outbox.ts')?.stdout).toBe('accepted\n');
    expect(ran.get('lineage.ts')?.stdout).toContain("[ 'train uses dataset-a' ]\n[ 'dataset-a' ] [ 'unbound-use' ]\nflowchart LR true\n");
    expect(ran.get('engines.ts')?.stdout).toBe("[ 'train' ]\n");
    expect(ran.get('call.ts')?.stdout).toBe('train\n');
  });
});
