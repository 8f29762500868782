import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, run, runOk, type Outcome } from '../packaging/packed-project.js';

/**
 * A newcomer's first minutes, from a fresh clone, with the README's commands as written: the
 * install block (clone, `npm ci`, `npm pack`, install the tarball into a new project), the quick
 * start (`npm run start:local -- --memory`, then quickstart.mjs in the project) and the CLI minute
 * (`npx rk ...` in the clone). Three changes only: the clone comes from this working tree (`git
 * clone` of the repository, then its uncommitted files copied over, so the test checks what is
 * about to be committed), the local RK gets `--port 0` and 8082 becomes that port, and npm runs
 * offline-first. Slow by nature (npm ci, two builds): it runs when RK_FRESH_CLONE=1 (CI sets it).
 */
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The commands of the README's ```sh <name> block, without their trailing comments. */
function commands(name: string): string[] {
  const body = new RegExp(`^\`\`\`sh ${name}\\n([\\s\\S]*?)^\`\`\`$`, 'm').exec(README)?.[1];
  if (body === undefined) throw new Error(`the README has no \`\`\`sh ${name} block`);
  return body
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line && !line.startsWith('#'));
}

const NPM_ENV = { npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

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

const RUN = process.env.RK_FRESH_CLONE === '1';

describe.skipIf(!RUN)(`a fresh clone, as the README says${RUN ? '' : ' (set RK_FRESH_CLONE=1 to run it: it clones, runs npm ci and builds twice, minutes of work; .ci/run sets it)'}`, { timeout: 900_000 }, () => {
  let tmp: string;
  let clone: string;
  let project: string;
  let server: ChildProcess | undefined;
  let port: string;

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'rk-fresh-'));
    clone = join(tmp, 'recordkeeper-client');
    project = join(tmp, 'my-project');
  });

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
    const [clone_, ...rest] = commands('install');
    expect(clone_).toMatch(/^git clone \S+ *$/);
    await runOk('git', ['clone', '--quiet', ROOT, clone], tmp);
    await overlayWorkingTree(clone);
    const outcome = await bash(['cd recordkeeper-client', ...rest.map((line) => line.replace(/^cd recordkeeper-client && /, ''))], tmp);
    expect(outcome.code, outcome.stderr).toBe(0);
    const packed = await runOk('tar', ['-tzf', join(clone, 'recordkeeper-client-0.1.0.tgz')], tmp);
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
