// The client's dist/ for what needs it built (the local server compiles against it): runs
// `npm run build` at the repository root unless dist/ is newer than every file of src/ and the
// tsconfig files, so a fresh clone builds it and a second build in a row costs nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const built = path.join(ROOT, 'dist', 'index.js');

function newest(dir) {
  let time = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) time = Math.max(time, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return time;
}

const inputs = Math.max(newest(path.join(ROOT, 'src')), ...['tsconfig.json', 'tsconfig.build.json'].map((f) => statSync(path.join(ROOT, f)).mtimeMs));
if (existsSync(built) && statSync(built).mtimeMs >= inputs) {
  console.log('recordkeeper-client: dist/ is up to date');
} else {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const outcome = spawnSync(npm, ['run', 'build'], { cwd: ROOT, stdio: 'inherit', shell: process.platform === 'win32' });
  process.exit(outcome.status ?? 1);
}
