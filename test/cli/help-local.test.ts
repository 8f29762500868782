import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { main as rkMain } from '../../src/cli/main.js';
import { buildRk, cleanEnv, PEM_ID, rkInProcess, runRk } from './helpers.js';

/**
 * `rk --help` and the README agree; every command's --help; `rk local` start, use, stop. What is
 * about output and exit codes runs in this process (`main(argv, io)`); `rk local` itself (printing
 * its URLs and export lines, SIGTERM) and the launcher run as processes.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let main: string;
beforeAll(async () => {
  main = await buildRk('cli-help');
}, 120_000);

/** The commands `rk --help` lists, from its "Commands:" block. */
function helpCommands(help: string): string[] {
  const block = help.split('\nCommands:\n')[1]!.split('\n\n')[0]!;
  return block.split('\n').map((line) => line.trim().split(/\s{2,}/)[0]!);
}

describe('rk --help', { timeout: 60_000 }, () => {
  it("lists every command; the CLI guide's table lists exactly those, and the README's names only those", async () => {
    const help = await rkInProcess(['--help']);
    expect(help.code).toBe(0);
    const commands = helpCommands(help.stdout);
    expect(commands.length).toBeGreaterThan(10);
    const guide = await readFile(join(ROOT, 'guides', 'cli.md'), 'utf8');
    const table = [...guide.matchAll(/^\| `rk ([^`]+)` \|/gm)].map((m) => m[1]);
    expect(table).toEqual(commands);
    // The README's short table joins commands in a row (`rk tag set` / `get` / `ls`): each it names exists.
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const rows = readme.split('## The CLI in a minute')[1]!.split('\n## ')[0]!.split('\n').filter((line) => line.startsWith('| `rk '));
    const named = rows.flatMap((row) => {
      const cell = row.split(' | ')[0]!;
      const first = /`rk ([^`]+)`/.exec(cell)![1]!;
      const group = first.includes(' ') ? `${first.split(' ')[0]} ` : '';
      return [...cell.matchAll(/`(?:rk )?([^`]+)`/g)].map((m, i) => (i === 0 || m[0].startsWith('`rk ') ? m[1]! : `${group}${m[1]}`));
    });
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((name) => !commands.includes(name))).toEqual([]);
    expect(help.stdout).toContain('Exit codes: 0 done, 1 the service said no, 2 usage error, 3 could not reach the service.');
  });

  it('every command has --help with its usage, the output flags and the environment of its settings', async () => {
    const commands = helpCommands((await rkInProcess(['--help'])).stdout);
    for (const command of commands) {
      const outcome = await rkInProcess([...command.split(' '), '--help']);
      expect(outcome.code, command).toBe(0);
      expect(outcome.stderr, command).toBe('');
      expect(outcome.stdout.startsWith(`rk ${command}: `), command).toBe(true);
      expect(outcome.stdout, command).toContain(`Usage: rk ${command}`);
      expect(outcome.stdout, command).toContain('--json');
    }
    const pems = (await rkInProcess(['pems', '--help'])).stdout;
    expect(pems).toMatch(/--query <url>\s+RK_QUERY/);
    expect(pems).toMatch(/--user-auth <token>\s+RK_USER_AUTH/);
    expect(pems).toMatch(/--puc-auth <token>\s+RK_PUC_AUTH/);
    const send = (await rkInProcess(['send', '--help'])).stdout;
    expect(send).toMatch(/--receiver <url>\s+RK_RECEIVER/);
    expect(send).toMatch(/--emitter <id>\s+RK_EMITTER/);
    expect((await rkInProcess(['doctor', '--help'])).stdout).toMatch(/--graph-builder <url>\s+RK_GRAPH_BUILDER/);
    expect((await rkInProcess(['help', 'tag', 'set'])).stdout).toContain('Usage: rk tag set <ns/name> <pem-id>');
    expect((await rkInProcess(['outbox', '--help'])).stdout).toContain('rk outbox ls');
  });

  it('usage errors exit 2 with the usage on stderr', async () => {
    const bare = await rkInProcess([]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toContain('Commands:');
    const unknown = await rkInProcess(['frobnicate']);
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toContain('rk: error: unknown command "frobnicate"');
    expect(unknown.stderr).toContain('rk --help lists the commands');
    const group = await rkInProcess(['tag']);
    expect(group.code).toBe(2);
    expect(group.stderr).toContain('rk tag set');
    const subcommand = await rkInProcess(['outbox', 'explode']);
    expect(subcommand.code).toBe(2);
    expect(subcommand.stderr).toContain('unknown command "rk outbox explode"');
    const version = await rkInProcess(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

/** Starts `rk local`, resolves once it printed `until`, with the child to stop by its pid. */
function startLocal(args: string[], until: RegExp) {
  const child = spawn(process.execPath, [main, 'local', ...args], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`rk local printed no ${until} within 60 s:\n${stdout}\n${stderr}`)), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      if (until.test(stdout)) {
        clearTimeout(timer);
        resolve(stdout);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    void exited.then((code) => reject(new Error(`rk local exited with ${code}:\n${stdout}\n${stderr}`)));
  });
  return { child, ready, exited, output: () => ({ stdout, stderr }) };
}

describe('rk local', { timeout: 120_000 }, () => {
  it('starts the local Record Keeper, prints the URLs and the export lines, serves rk, stops on SIGTERM', async () => {
    const local = startLocal(['--port', '0'], /Stop with Ctrl\+C/);
    try {
      const printed = await local.ready;
      expect(printed).toMatch(/^Record Keeper \(local\) on PGlite \(in memory\), no credentials required\n/);
      const exports = Object.fromEntries([...printed.matchAll(/^ {2}export (RK_[A-Z_]+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
      expect(Object.keys(exports)).toEqual(['RK_RECEIVER', 'RK_QUERY', 'RK_GRAPH_BUILDER']);
      expect(printed).toContain(`  Receiver:      ${exports.RK_RECEIVER}\n`);
      const sent = await rkInProcess(['send', '--type', 'ingest', '--produces', 'raw.csv'], { env: exports });
      expect(sent.code).toBe(0);
      const id = PEM_ID.exec(sent.stdout)![0];
      expect((await rkInProcess(['tag', 'set', 'demo/first', id], { env: exports })).code).toBe(0);
      expect((await rkInProcess(['pems', '--json'], { env: exports })).stdout).toContain(id);
    } finally {
      local.child.kill('SIGTERM');
    }
    expect(await local.exited).toBe(0);
    expect(local.output().stderr).toContain('SIGTERM: stopping the local Record Keeper...');
    expect(local.output().stderr).toContain('Stopped.');
  });

  // In this process: what is tested is the printed line, the refusals and what is never printed;
  // the process around it (printing, SIGTERM, exit code) is the test above.
  it('--json prints one line with the URLs; a taken port is exit 1 with what to do', async () => {
    let stdout = '';
    let stderr = '';
    let printed: () => void = () => {};
    const line = new Promise<void>((resolve) => (printed = resolve));
    const io = {
      stdout: { write: (text: string) => ((stdout += text), stdout.includes('\n') && printed(), true), isTTY: false },
      stderr: { write: (text: string) => ((stderr += text), true), isTTY: false },
      stdin: Object.assign(Readable.from([]), { isTTY: false }),
      env: cleanEnv(),
    };
    const running = rkMain(['local', '--port', '0', '--json', '--user-token', 'local-secret'], io);
    const ended = running.then((code) => {
      printed();
      return code;
    });
    // rk local stops on SIGTERM: the worker's own SIGTERM handlers stand aside while it gets the signal.
    const others = process.listeners('SIGTERM');
    try {
      await line;
      const json = JSON.parse(stdout.trim());
      expect(json).toMatchObject({ receiver: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/receiver$/), query: expect.any(String), graphBuilder: expect.any(String), credentialsRequired: true });
      const port = /:(\d+)\//.exec(json.receiver)![1]!;
      const taken = await rkInProcess(['local', '--port', port]);
      expect(taken.code).toBe(1);
      expect(taken.stderr).toContain('could not start the local Record Keeper');
      expect(taken.stderr).toContain('pass --port <another>');
      expect((await rkInProcess(['local', '--port', '70000'])).code).toBe(2);
    } finally {
      for (const listener of others) process.off('SIGTERM', listener);
      process.emit('SIGTERM');
      for (const listener of others) process.on('SIGTERM', listener);
    }
    expect(await ended).toBe(0);
    expect(stderr).toContain('Stopped.');
    expect(stdout + stderr).not.toContain('local-secret');
  });

  it('the launcher in a clone that was never built names the one command to run', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'rk-unbuilt-'));
    try {
      await mkdir(join(tmp, 'bin'));
      await cp(join(ROOT, 'bin', 'rk.js'), join(tmp, 'bin', 'rk.js'));
      await writeFile(join(tmp, 'package.json'), JSON.stringify({ name: 'recordkeeper-client', type: 'module' }));
      const outcome = await runRk(join(tmp, 'bin', 'rk.js'), ['--version'], { cwd: tmp });
      expect(outcome.code).toBe(1);
      expect(outcome.stderr).toBe(`rk is not built yet. Build it once, then run rk again:\n  cd ${tmp}/ && npm run build\n`);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('says how to get recordkeeper-local when it is not installed', async () => {
    // The built rk, alone in a folder outside the repository with only the client's own dependencies.
    const tmp = await mkdtemp(join(tmpdir(), 'rk-alone-'));
    try {
      const built = dirname(dirname(main));
      await cp(built, join(tmp, 'dist'), { recursive: true });
      await writeFile(join(tmp, 'package.json'), JSON.stringify({ name: 'alone', type: 'module' }));
      await mkdir(join(tmp, 'node_modules'));
      for (const dependency of ['undici']) await symlink(join(ROOT, 'node_modules', dependency), join(tmp, 'node_modules', dependency));
      const outcome = await runRk(join(tmp, 'dist', 'cli', 'main.js'), ['local'], { cwd: tmp });
      expect(outcome.code).toBe(1);
      expect(outcome.stderr).toContain('rk local needs the recordkeeper-local package');
      expect(outcome.stderr).toContain('npm ci && npm run build:all');
      // Everything else works without it.
      expect((await runRk(join(tmp, 'dist', 'cli', 'main.js'), ['--version'], { cwd: tmp })).code).toBe(0);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

