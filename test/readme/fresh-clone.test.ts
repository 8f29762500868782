import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installBlock, type InstallRecord, QUIET_NPM, readmeCommands, RECORD, runInstallBlock } from '../../scripts/readme-install.mjs';
import { ROOT, run, runOk, type Outcome } from '../packaging/packed-project.js';

/**
 * A newcomer's first minutes, from a fresh clone, with the README's commands as written: the
 * install block (clone, `npm ci`, `npm pack`, install the tarball into a new project), the quick
 * start (`npm run start:local -- --memory`, then quickstart.mjs in the project) and the CLI minute
 * (`npx rk ...` in the clone). Three changes only: the local RK gets `--port 0` and 8082 becomes
 * that port, npm runs offline-first, and the clone is one of two:
 * - with RK_FRESH_CLONE=1, a clone of this working tree (`git clone` of the repository, then its
 *   uncommitted files copied over, so the test checks what is about to be committed), where the
 *   install block runs; slow by nature (npm ci, two builds);
 * - with RK_README_INSTALL=DIR, the checkout this test runs in, where `node
 *   scripts/readme-install.mjs DIR` already ran the install block: CI's install step does that in
 *   its own clean clone, so CI installs as the README says once and this test checks that
 *   install (the record the script left in DIR) instead of cloning and installing a second time.
 * Both read the README's blocks through scripts/readme-install.mjs.
 */
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const commands = (name: string): string[] => readmeCommands(name, README);

const NPM_ENV = { ...QUIET_NPM, npm_config_prefer_offline: 'true' };

function bash(script: string[], cwd: string, env: Record<string, string> = {}): Promise<Outcome> {
  return run('bash', ['-eo', 'pipefail', '-c', script.join('\n')], cwd, { ...NPM_ENV, ...env }, 600_000);
}

/** The files of the working tree a commit would hold now (tracked and new, not ignored), over a clone of HEAD. */
async function overlayWorkingTree(clone: string): Promise<void> {
  const files = (await runOk('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], ROOT)).split('\0').filter(Boolean);
  for (const file of files) {
    const from = join(ROOT, file);
    if (!existsSync(from)) {
      await rm(join(clone, file), { force: true });
      continue;
    }
    await mkdir(dirname(join(clone, file)), { recursive: true });
    await copyFile(from, join(clone, file));
  }
}

/** Where CI's install step ran the install block in this checkout (scripts/readme-install.mjs). */
const INSTALLED = process.env.RK_README_INSTALL || undefined;
const RUN = process.env.RK_FRESH_CLONE === '1' || INSTALLED !== undefined;
const HOW = INSTALLED ? ` (the install block ran in this checkout: ${INSTALLED})` : RUN ? '' : ' (set RK_FRESH_CLONE=1 to run it: it clones, runs npm ci and builds twice, minutes of work; .ci/run runs the install block in its clean clone and sets RK_README_INSTALL instead)';

describe.skipIf(!RUN)(`a fresh clone, as the README says${HOW}`, { timeout: 900_000 }, () => {
  /** The temporary folder this test made (none when CI's install is checked), removed at the end. */
  let tmp: string | undefined;
  let clone: string;
  let project: string;
  let server: ChildProcess | undefined;
  let port: string;

  afterAll(async () => {
    // npm, its shell and the server share a process group of their own: stop them all by its id.
    if (server?.pid !== undefined && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      process.kill(-server.pid, 'SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (server.exitCode === null) process.kill(-server.pid, 'SIGKILL');
    }
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }, 60_000);

  it('installs: clone, npm ci, npm pack (which builds), and the tarball installs and imports in a new project', async () => {
    const block = installBlock(README);
    expect(block.clone).toMatch(/^git clone \S+ *$/);
    if (INSTALLED) {
      const record = JSON.parse(readFileSync(join(INSTALLED, RECORD), 'utf8')) as InstallRecord;
      // The block that ran is the README's as it is now, it ran in this very checkout, and it succeeded.
      expect(record.commands).toEqual(block.rest);
      expect(record.checkout).toBe(realpathSync(ROOT));
      expect(record.code).toBe(0);
      ({ clone, project } = record);
    } else {
      tmp = await mkdtemp(join(tmpdir(), 'rk-fresh-'));
      clone = join(tmp, block.folder);
      await runOk('git', ['clone', '--quiet', ROOT, clone], tmp);
      await overlayWorkingTree(clone);
      const outcome = await runInstallBlock(tmp, { env: NPM_ENV, readme: README });
      expect(outcome.code, outcome.stderr).toBe(0);
      project = outcome.project;
    }
    const packed = await runOk('tar', ['-tzf', join(clone, 'recordkeeper-client-0.1.0.tgz')], project);
    expect(packed).toContain('package/dist/index.js');
    expect(packed).toContain('package/dist/index.d.ts');
    const imported = await run(process.execPath, ['--input-type=module', '-e', "import { RKClient, VERSION } from 'recordkeeper-client'; console.log(typeof RKClient, VERSION);"], project);
    expect(imported.stderr).toBe('');
    expect(imported.stdout).toBe('function 0.1.0\n');
  });

  it('starts the local Record Keeper with npm run start:local -- --memory, and quickstart.mjs sends, tags and reads back', async () => {
    expect(existsSync(join(clone, 'node_modules')), 'the install test ran first').toBe(true);
    const [start] = commands('local-rk');
    expect(start).toBe('npm run start:local -- --memory');
    const env = Object.fromEntries(Object.entries({ ...process.env, ...NPM_ENV }).filter(([key]) => !/^npm_(?!config_)/i.test(key)));
    server = spawn('bash', ['-c', `${start} --port 0`], { cwd: clone, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    port = await new Promise<string>((resolve, reject) => {
      server!.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const found = /Receiver: +http:\/\/127\.0\.0\.1:(\d+)\/receiver/.exec(output)?.[1];
        if (found) resolve(found);
      });
      server!.once('exit', (code) => reject(new Error(`npm run start:local exited with ${code}:\n${output}`)));
    });
    const code = /^```js quickstart\.mjs\n([\s\S]*?)^```$/m.exec(README)![1]!;
    await writeFile(join(project, 'quickstart.mjs'), code.replaceAll('127.0.0.1:8082', `127.0.0.1:${port}`));
    const outcome = await bash(['node quickstart.mjs'], project);
    expect(outcome.stderr).toBe('');
    expect(outcome.stdout).toMatch(/^sent [0-9a-f]{32} accepted\nread back \[ 'dataset-a' \] -> \[ 'model-a' \]\nproduction is [0-9a-f]{32}\n$/);
  });

  it('runs the CLI minute with npx rk in the clone', async () => {
    expect(port, 'the quick start test started the local RK').toBeDefined();
    const lines = commands('cli-minute').map((line) => line.replaceAll('127.0.0.1:8082', `127.0.0.1:${port}`));
    const outcome = await bash(lines, clone, { NO_COLOR: '1' });
    expect(outcome.stderr).not.toMatch(/not built|bug in rk|at .*\.js:\d+/);
    expect(outcome.code, outcome.stdout + outcome.stderr).toBe(0);
    expect(outcome.stdout).toMatch(/Sent train PEM [0-9a-f]{32}: accepted \(tag churn-pipeline\/production\)/);
    expect(outcome.stdout).toContain('model/churn');
    expect(outcome.stdout).toContain('dataset/customers');
  });
});
