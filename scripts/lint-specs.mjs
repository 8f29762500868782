// Lints the three APIs declared in redocly.yaml and fails on warnings as well
// as errors: `redocly lint` exits 0 when there are only warnings, so the exit
// code alone would let new warnings pile up unnoticed.
//
// We ask for --format json and print the problems ourselves because (a) the
// totals are then machine-readable instead of scraped from prose, and (b) a
// problem in the shared openapi/common.yaml is reported once per API that
// references it; listing it once is less confusing.
import { spawn } from 'node:child_process';
import { APIS, REDOCLY_ENV, ROOT, bin } from './apis.mjs';

const args = [
  'lint',
  ...APIS.map((api) => api.alias),
  '--format=json',
  '--max-problems=1000',
  // A typo in redocly.yaml (e.g. a misspelt rule name) must fail the lint
  // rather than silently disabling that rule.
  '--lint-config=error',
];

// With several APIs, redocly prints one pretty-printed JSON document per API
// back to back ("}{"), which JSON.parse rejects; split on top-level objects.
function parseConcatenatedJson(text) {
  const docs = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{') {
      if (depth++ === 0) start = i;
    } else if (ch === '}' && --depth === 0) docs.push(JSON.parse(text.slice(start, i + 1)));
  }
  return docs;
}

function describe(problem) {
  const loc = problem.location?.[0];
  const where = loc
    ? `${loc.source?.ref ?? '?'}:${loc.start ? `${loc.start.line}:${loc.start.col}` : loc.pointer}`
    : '(no location)';
  const severity = problem.severity === 'warn' ? 'warning' : problem.severity;
  return `${where}  ${severity}  ${problem.ruleId}  ${problem.message}`;
}

const child = spawn(bin('redocly'), args, { cwd: ROOT, env: REDOCLY_ENV, stdio: ['ignore', 'pipe', 'inherit'] });
let stdout = '';
child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
child.on('error', (err) => {
  console.error(`could not start redocly: ${err.message}`);
  process.exit(1);
});
child.on('close', (code) => {
  let reports;
  try {
    reports = parseConcatenatedJson(stdout);
  } catch {
    reports = [];
  }
  if (reports.length !== APIS.length) {
    // Crash, bad config or changed output format: never report success then.
    process.stdout.write(stdout);
    console.error(`lint:specs: expected ${APIS.length} JSON reports from redocly, got ${reports.length} (exit ${code}).`);
    process.exit(1);
  }
  const lines = [...new Set(reports.flatMap((r) => r.problems ?? []).map(describe))];
  for (const line of lines) console.log(line);
  const errors = lines.filter((l) => / {2}error {2}/.test(l)).length;
  const warnings = lines.length - errors;
  const ignored = reports.reduce((n, r) => n + (r.totals?.ignored ?? 0), 0);
  const note = ignored > 0 ? ` (${ignored} ignored via .redocly.lint-ignore.yaml)` : '';
  if (lines.length > 0 || code !== 0) {
    console.error(`\nlint:specs failed: ${errors} error(s), ${warnings} warning(s) (distinct)${note}. Warnings fail too.`);
    console.error('Rule docs: https://redocly.com/docs/cli/rules');
    process.exit(1);
  }
  console.log(`lint:specs: ${APIS.map((a) => a.alias).join(', ')} are clean${note}.`);
});
