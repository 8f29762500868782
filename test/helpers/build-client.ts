import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * The client compiled to plain JavaScript, so a child process can run the real client on Node 20,
 * which cannot load TypeScript: the shared dist/ when its build is newer than every file of src/
 * (`npm test` has just built it, so a run compiles src/ once; the build's .tsbuildinfo is the
 * mark, as an incremental build rewrites only what changed), otherwise src/ compiled into a folder of
 * its own (`.tmp/<name>`), so a test run alone after an edit never runs stale code. Type errors do
 * not stop that emit: this is a build for running, `npm run typecheck` is the check.
 */
export async function buildClient(name: string): Promise<string> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const shared = join(root, 'dist', 'index.js');
  const built = join(root, 'dist', 'tsconfig.build.tsbuildinfo');
  if (existsSync(shared) && existsSync(built) && statSync(built).mtimeMs >= newestSource(join(root, 'src'))) return shared;
  const outDir = join(root, '.tmp', name);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  await promisify(execFile)(
    process.execPath,
    // Not the composite build of dist/: no declarations, and its own .tsbuildinfo in the folder.
    [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', outDir, '--composite', 'false', '--tsBuildInfoFile', join(outDir, '.tsbuildinfo'), '--declaration', 'false', '--declarationMap', 'false', '--sourceMap', 'false', '--noEmitOnError', 'false'],
    { cwd: root },
  ).catch((error: unknown) => {
    // tsc exits non-zero on type errors but still emits; only a missing output is fatal.
    if (!existsSync(join(outDir, 'index.js'))) throw error;
  });
  return join(outDir, 'index.js');
}

/** The newest modification time of the files under `dir`. */
export function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}
