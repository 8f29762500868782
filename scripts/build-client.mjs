// The client's build (`npm run build`, and so `prepack`): `tsc -b tsconfig.build.json`, which is
// incremental (with nothing changed it reads only dist/tsconfig.build.tsbuildinfo, so a pack
// after the run's build, or a second build, costs about a second instead of a compile of src/,
// and leaves dist/ in place for whatever is reading it), then removes what of dist/ no file of
// src/ produces any more (a source deleted or moved since), so dist/ holds what a clean build
// writes. Run by npm scripts only.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = path.join(ROOT, 'src');
const DIST = path.join(ROOT, 'dist');
const BUILD_INFO = 'tsconfig.build.tsbuildinfo';

const files = (dir) =>
  readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const outcome = spawnSync(process.execPath, [tsc, '-b', path.join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });

if (existsSync(DIST)) {
  // Each src/x.ts compiles to dist/x.js and dist/x.d.ts (tsconfig.build.json: no maps).
  const produced = new Set([BUILD_INFO]);
  for (const file of files(SRC)) {
    if (!file.endsWith('.ts') || file.endsWith('.d.ts')) continue;
    const stem = file.slice(0, -'.ts'.length);
    produced.add(`${stem}.js`).add(`${stem}.d.ts`);
  }
  const stale = files(DIST).filter((file) => !produced.has(file));
  for (const file of stale) rmSync(path.join(DIST, file));
  if (stale.length > 0) console.log(`recordkeeper-client: removed ${stale.length} file(s) of dist/ that no source produces any more`);
}

process.exit(outcome.status ?? 1);
