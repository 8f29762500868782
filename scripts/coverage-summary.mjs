// Prints the line and branch coverage of src/ and server/src/ from the json-summary that
// `vitest run --coverage` wrote (`npm run coverage` runs both; CI does not: coverage slows every
// suite). Usage: node scripts/coverage-summary.mjs [.tmp/coverage/coverage-summary.json]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const file = path.resolve(ROOT, process.argv[2] ?? '.tmp/coverage/coverage-summary.json');
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
