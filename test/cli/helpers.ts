import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buildClient } from '../helpers/build-client.js';

/**
 * Runs the built `rk` as a child process. The command is compiled from src/ into a folder of its
 * own (`.tmp/<name>/cli/main.js`, with tsconfig.build.json) rather than run from dist/, because
 * the packaging test rebuilds dist/ while other suites run.
 */
export async function buildRk(name: string): Promise<string> {
  const index = await buildClient(name);
  return join(index, '..', 'cli', 'main.js');
}

export interface RkOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RkRun {
  env?: Record<string, string | undefined>;
  input?: string;
  cwd?: string;
  timeoutMs?: number;
}

/** The environment without any RK_ or colour settings of the machine running the tests. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(RK_|NO_COLOR|FORCE_COLOR|npm_)/.test(key)) continue;
    env[key] = value;
  }
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export function runRk(main: string, args: string[], options: RkRun = {}): Promise<RkOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], { env: cleanEnv(options.env), cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rk ${args.join(' ')} did not finish within ${options.timeoutMs ?? 30_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/**
 * `rk` in this process, through `main(argv, io)`: the same output and exit code as the command,
 * without starting Node for it. For what is about the command's output and exit code, which is
 * most of it; runRk (a child process) stays for what is about the process (a terminal, signals,
 * the launcher).
 */
export async function rkInProcess(args: string[], options: RkRun = {}): Promise<RkOutcome> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (text: string) => (stdout += text), isTTY: false },
    stderr: { write: (text: string) => (stderr += text), isTTY: false },
    stdin: Object.assign(Readable.from([options.input ?? '']), { isTTY: false }),
    env: cleanEnv(options.env),
  };
  const before = process.cwd();
  if (options.cwd) process.chdir(options.cwd);
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`rk ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`)), timeoutMs);
    });
    // Loaded here, not at the top: a file that only spawns rk (tty.test.ts) never loads the client.
    const { main: rkMain } = await import('../../src/cli/main.js');
    const code = await Promise.race([rkMain(args, io), expired]);
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
    if (options.cwd) process.chdir(before);
  }
}

/** A PEM ID printed in text: 32 hex digits. */
export const PEM_ID = /[0-9a-f]{32}/;
