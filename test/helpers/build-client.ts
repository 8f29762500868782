import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * Compiles src/ to plain JavaScript in a folder of its own (never the shared dist/), so a child
 * process can run the real client on Node 20, which cannot load TypeScript. Type errors do not stop
 * the emit: this is a build for running, `npm run typecheck` is the check.
 */
export async function buildClient(name: string): Promise<string> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const outDir = join(root, '.tmp', name);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  await promisify(execFile)(
    process.execPath,
    [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', outDir, '--declaration', 'false', '--declarationMap', 'false', '--sourceMap', 'false', '--noEmitOnError', 'false'],
    { cwd: root },
  ).catch((error: unknown) => {
    // tsc exits non-zero on type errors but still emits; only a missing output is fatal.
    if (!existsSync(join(outDir, 'index.js'))) throw error;
  });
  return join(outDir, 'index.js');
}
