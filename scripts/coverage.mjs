// `npm run coverage` (CI does not: coverage slows every suite): runs `vitest run --coverage` (with
// any arguments given, e.g. a folder), then prints the line, branch and function coverage of src/
// and server/src/ from the json-summary it wrote, even when a test failed (a loaded machine should
// not cost the figures), and exits with vitest's status.
// Usage: node scripts/coverage.mjs [vitest arguments]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const vitest = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--coverage', ...process.argv.slice(2)], { cwd: ROOT, stdio: 'inherit' });
const file = path.join(ROOT, '.tmp/coverage/coverage-summary.json');
if (!existsSync(file)) {
  // vitest said why above (most often @vitest/coverage-v8 missing from an older install).
  process.stderr.write(`\nnpm run coverage: vitest wrote no ${path.relative(ROOT, file)}; if it says a dependency is missing, run npm ci first.\n`);
  process.exit(vitest.status || 1);
}
const summary = JSON.parse(readFileSync(file, 'utf8'));

const areas = { 'src/ (client)': 'src/', 'src/ without src/generated/': 'src/', 'server/src/ (local RK)': 'server/src/' };
const rows = [];
for (const [label, prefix] of Object.entries(areas)) {
  const totals = { lines: [0, 0], branches: [0, 0], functions: [0, 0], files: 0 };
  for (const [name, figures] of Object.entries(summary)) {
    if (name === 'total') continue;
    const relative = path.relative(ROOT, name);
    if (!relative.startsWith(prefix)) continue;
    if (label.includes('without') && relative.startsWith('src/generated/')) continue;
    totals.files++;
    for (const key of ['lines', 'branches', 'functions']) {
      totals[key][0] += figures[key].covered;
      totals[key][1] += figures[key].total;
    }
  }
  const pct = ([covered, total]) => `${total ? ((100 * covered) / total).toFixed(2) : '100.00'} % (${covered}/${total})`;
  rows.push(`${label.padEnd(30)} files ${String(totals.files).padStart(3)}  lines ${pct(totals.lines).padEnd(22)} branches ${pct(totals.branches).padEnd(22)} functions ${pct(totals.functions)}`);
}
console.log(rows.join('\n'));
process.exit(vitest.status ?? 1);
