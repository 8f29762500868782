import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A fresh user project with the packed tarball installed, as the README's install section makes
 * one. The tarball is packed from the dist/ the test command has just built (`npm pack` runs no
 * build here, so concurrent suites never see dist/ removed), once per build: the suites that
 * install it share one tarball (packOnce).
 */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command without npm's own `npm_*` variables, which would point the project's npm at this repo. */
export function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}, timeoutMs = 120_000): Promise<Outcome> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env: { ...inherited, ...env }, maxBuffer: 32 * 1024 * 1024, timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export async function runOk(command: string, args: string[], cwd: string, env?: Record<string, string>): Promise<string> {
  const outcome = await run(command, args, cwd, env);
  if (outcome.code !== 0) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited with ${outcome.code}\n${outcome.stdout}\n${outcome.stderr}`);
  return outcome.stdout;
}

export interface PackedProject {
  /** The temporary folder holding the tarball and the project. */
  tmp: string;
  tarball: string;
  dir: string;
  remove(): Promise<void>;
}

/**
 * The tarball of the current dist/, packed by the first suite that asks (in any worker) and reused
 * by the others: it sits in .tmp/pack/<build time>/, moved there whole by one rename, so a
 * second packer that lost the race simply uses the winner's.
 */
export async function packOnce(): Promise<string> {
  const stamp = Math.floor(statSync(join(ROOT, 'dist', 'index.js')).mtimeMs);
  const home = join(ROOT, '.tmp', 'pack');
  const final = join(home, String(stamp));
  const existing = await tarballIn(final);
  if (existing) return existing;
  await mkdir(home, { recursive: true });
  const staging = await mkdtemp(join(home, 'staging-'));
  await runOk('npm', ['pack', '--ignore-scripts', '--pack-destination', staging], ROOT);
  await rename(staging, final).catch(() => rm(staging, { recursive: true, force: true }));
  return (await tarballIn(final))!;
}

async function tarballIn(dir: string): Promise<string | undefined> {
  const name = (await readdir(dir).catch(() => [] as string[])).find((file) => file.endsWith('.tgz'));
  return name === undefined ? undefined : join(dir, name);
}

/** Installs the packed package into a new project (`"type": "module"` unless `commonjs`). */
export async function packedProject(options: { commonjs?: boolean; extra?: string[] } = {}): Promise<PackedProject> {
  const tmp = await mkdtemp(join(tmpdir(), 'rk-project-'));
  const tarball = await packOnce();
  const dir = join(tmp, 'project');
  await mkdir(dir);
  await runOk('npm', ['init', '-y'], dir);
  if (!options.commonjs) await runOk('npm', ['pkg', 'set', 'type=module'], dir);
  await runOk('npm', ['install', tarball, ...(options.extra ?? []), '--no-audit', '--no-fund', '--prefer-offline'], dir);
  return { tmp, tarball, dir, remove: () => rm(tmp, { recursive: true, force: true }) };
}
