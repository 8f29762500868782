// CI guard: fails when src/generated/ is not what `npm run generate` would
// write from the current specs. Regenerates with the very same generateInto()
// into a scratch dir and compares bytes; openapi-typescript's own --check is
// not used because it only compares one file at a time, and ignores -o (and so
// checks nothing useful) when a multi-API redocly.yaml is picked up.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ROOT, isMain } from './apis.mjs';
import { GENERATED_DIR, generateInto } from './generate.mjs';

const readOrNull = (file) => fs.readFile(file, 'utf8').catch(() => null);

// 1-based number of the first differing line, to point at the drift.
function firstDiffLine(a, b) {
  const al = a.split('\n');
  const bl = b.split('\n');
  const i = al.findIndex((line, n) => line !== bl[n]);
  return (i === -1 ? al.length : i) + 1;
}

/** Returns human-readable problems; an empty list means up to date. */
export async function checkGenerated() {
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'rk-check-generated-'));
  try {
    const expected = await generateInto(scratch);
    const rel = (f) => path.relative(ROOT, path.join(GENERATED_DIR, f));
    const problems = [];
    for (const file of expected) {
      const want = await fs.readFile(path.join(scratch, file), 'utf8');
      const have = await readOrNull(path.join(GENERATED_DIR, file));
      if (have === null) problems.push(`${rel(file)}: missing`);
      else if (have !== want) problems.push(`${rel(file)}: differs (first at line ${firstDiffLine(have, want)})`);
    }
    const present = await fs.readdir(GENERATED_DIR).catch(() => []);
    for (const file of present.filter((f) => !expected.includes(f))) {
      problems.push(`${rel(file)}: not produced by the generator (stale or hand-written)`);
    }
    return problems;
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) {
  checkGenerated().then(
    (problems) => {
      if (problems.length === 0) {
        console.log('src/generated/ is up to date.');
        return;
      }
      console.error(`src/generated/ is out of date:\n  ${problems.join('\n  ')}`);
      console.error('Run `npm run generate` and commit the result.');
      process.exit(1);
    },
    (err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
