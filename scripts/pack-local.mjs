// `npm run pack:local`: packs the local Record Keeper (the `recordkeeper-local` workspace) as a
// tarball a user installs beside recordkeeper-client in their own project.
//
// In this repository the workspace depends on the client as `file:..` (one install links both),
// which means nothing outside it, so `server/package.json` stays private. This script stages the
// built package in a temporary folder with that dependency pinned to the client's version and
// the repository-only parts left out (scripts, devDependencies, source maps of sources it does
// not ship), then runs `npm pack` there.
//
//   node scripts/pack-local.mjs [--destination DIR]   (default: the repository root)
// Prints the tarball's path. Needs a build first (`npm run build:all`).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const server = path.join(root, 'server');
const at = process.argv.indexOf('--destination');
const destination = path.resolve(at > 0 ? process.argv[at + 1] : root);

const built = path.join(server, 'dist', 'server', 'src');
if (!existsSync(path.join(built, 'index.js'))) {
  console.error('pack:local: recordkeeper-local is not built; run `npm run build:all` first');
  process.exit(1);
}

const client = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const manifest = JSON.parse(readFileSync(path.join(server, 'package.json'), 'utf8'));
delete manifest.private;
delete manifest.devDependencies;
delete manifest.scripts;
manifest.dependencies = { ...manifest.dependencies, 'recordkeeper-client': `^${client.version}` };
for (const field of ['repository', 'homepage', 'bugs', 'author']) if (client[field] && !manifest[field]) manifest[field] = client[field];
manifest.files = ['bin', 'dist/server/src/**/*.js', 'dist/server/src/**/*.d.ts', 'openapi', 'README.md', 'LICENSE'];

const stage = mkdtempSync(path.join(tmpdir(), 'rk-pack-local-'));
try {
  cpSync(path.join(server, 'bin'), path.join(stage, 'bin'), { recursive: true });
  cpSync(built, path.join(stage, 'dist', 'server', 'src'), { recursive: true });
  // The specs the server routes and validates by: a packed server has no repository around it.
  mkdirSync(path.join(stage, 'openapi'));
  for (const file of readdirSync(path.join(root, 'openapi')).filter((f) => f.endsWith('.yaml'))) {
    cpSync(path.join(root, 'openapi', file), path.join(stage, 'openapi', file));
  }
  cpSync(path.join(server, 'README.md'), path.join(stage, 'README.md'));
  cpSync(path.join(root, 'LICENSE'), path.join(stage, 'LICENSE'));
  writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  mkdirSync(destination, { recursive: true });
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', destination], { cwd: stage, encoding: 'utf8' });
  const [{ filename }] = JSON.parse(out);
  console.log(path.join(destination, filename));
} finally {
  rmSync(stage, { recursive: true, force: true });
}
