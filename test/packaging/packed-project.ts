import { execFile } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { RECORD, type InstallRecord } from '../../scripts/readme-install.mjs';
import '../helpers/packed-install-dir.js';

/**
 * A fresh user project with the packed tarball installed, as the README's install section makes
 * one. The tarball is packed from the dist/ the test command has just built (`npm pack` runs no
 * build here, so concurrent suites never see dist/ removed), once per build: the suites that
 * install it share one tarball (packOnce) and one install of it per run (installedOnce). In CI
 * it is the tarball the install step's `npm pack` already made (readmeTarball).
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
  const made = readmeTarball();
  if (made) return made;
  // The build's .tsbuildinfo, rewritten by every build (an incremental one leaves unchanged files be).
  const stamp = Math.floor(statSync(join(ROOT, 'dist', 'tsconfig.build.tsbuildinfo')).mtimeMs);
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

/**
 * The tarball the README's `npm pack` wrote in this checkout, when CI's install step ran the
 * install block here (RK_README_INSTALL, scripts/readme-install.mjs) and dist/ has not been built
 * since: that `npm pack` built dist/ (prepack) and packed it, and a build packs byte for byte as
 * `npm pack --ignore-scripts` does after one (same sha256), so packing again would only repeat it.
 */
function readmeTarball(): string | undefined {
  const dir = process.env.RK_README_INSTALL;
  if (!dir) return undefined;
  const record = JSON.parse(readFileSync(join(dir, RECORD), 'utf8')) as InstallRecord;
  if (record.code !== 0 || record.checkout !== realpathSync(ROOT)) return undefined;
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const tarball = join(ROOT, `recordkeeper-client-${version}.tgz`);
  const built = statSync(join(ROOT, 'dist', 'tsconfig.build.tsbuildinfo')).mtimeMs;
  return existsSync(tarball) && statSync(tarball).mtimeMs >= built ? tarball : undefined;
}

async function tarballIn(dir: string): Promise<string | undefined> {
  const name = (await readdir(dir).catch(() => [] as string[])).find((file) => file.endsWith('.tgz'));
  return name === undefined ? undefined : join(dir, name);
}

/**
 * The tarball installed once per test run, with @types/node@20 for the consumers that use
 * `process`, by the first suite that asks (in any worker): installed in a staging folder, then
 * moved whole by one rename, so a second installer that lost the race uses the winner's. It lives
 * in the run's folder outside the repository (test/helpers/packed-install-dir.ts), removed when
 * the run ends.
 */
async function installedOnce(tarball: string): Promise<string> {
  const home = inject('rkInstallDir');
  const final = join(home, 'installed');
  if (existsSync(join(final, 'node_modules', 'recordkeeper-client', 'package.json'))) return join(final, 'node_modules');
  const staging = await mkdtemp(join(home, 'staging-'));
  await writeFile(join(staging, 'package.json'), JSON.stringify({ name: 'installed-once', version: '1.0.0', private: true, type: 'module' }));
  await runOk('npm', ['install', tarball, '@types/node@20', '--no-audit', '--no-fund', '--prefer-offline'], staging);
  await rename(staging, final).catch(() => rm(staging, { recursive: true, force: true }));
  return join(final, 'node_modules');
}

/**
 * A new user project (`"type": "module"` unless `commonjs`) with the packed package installed:
 * its own folder and package.json, its node_modules the run's one install (installedOnce). With
 * `extra` tarballs it gets an install of its own, npm installing them beside the client's.
 */
export async function packedProject(options: { commonjs?: boolean; extra?: string[] } = {}): Promise<PackedProject> {
  const tmp = await mkdtemp(join(tmpdir(), 'rk-project-'));
  const tarball = await packOnce();
  const dir = join(tmp, 'project');
  await mkdir(dir);
  const manifest = { name: 'project', version: '1.0.0', ...(options.commonjs ? {} : { type: 'module' }), dependencies: { 'recordkeeper-client': `file:${tarball}` } };
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  if (options.extra?.length) {
    await runOk('npm', ['install', tarball, ...options.extra, '--no-audit', '--no-fund', '--prefer-offline'], dir);
  } else {
    await symlink(await installedOnce(tarball), join(dir, 'node_modules'), 'dir');
  }
  return { tmp, tarball, dir, remove: () => rm(tmp, { recursive: true, force: true }) };
}
