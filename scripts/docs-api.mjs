// @ts-check
// The TypeScript reference (TypeDoc with typedoc.config.mjs, into docs/api), built once per set of
// inputs: the docs test (test/packaging/docs.test.ts) builds it and asserts that every public
// export is documented, and `npm run docs` (scripts/docs.mjs) then reuses those pages instead of
// running TypeDoc a second time, as long as nothing TypeDoc reads has changed since. Imported by
// scripts/docs.mjs and the docs test only.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, bin } from './apis.mjs';

export const API_OUT = path.join(ROOT, 'docs', 'api');

// Written after a successful build; holds the digest of the inputs the pages were built from.
const STAMP = path.join(API_OUT, '.built-from');

/** What TypeDoc reads besides node_modules: the sources, its options, the landing page, the compiler settings. */
function inputFiles() {
  const sources = readdirSync(path.join(ROOT, 'src'), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
  const settings = ['typedoc.config.mjs', 'guides/typescript-api.md', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'node_modules/typedoc/package.json'];
  return [...sources, ...settings.map((file) => path.join(ROOT, file))].sort();
}

/** A digest of every input's path and bytes: equal digests mean TypeDoc would write the same pages. */
export function apiInputsDigest() {
  const hash = createHash('sha256');
  for (const file of inputFiles()) {
    hash.update(path.relative(ROOT, file)).update('\0');
    hash.update(existsSync(file) ? readFileSync(file) : '(missing)').update('\0');
  }
  return hash.digest('hex');
}

/** True when docs/api holds the pages of a successful build from the current inputs. */
export function apiReferenceIsCurrent() {
  return existsSync(path.join(API_OUT, 'index.html')) && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === apiInputsDigest();
}

/**
 * Runs TypeDoc into docs/api; validation warnings (an undocumented public export, a broken link)
 * are errors. `checkTypes: false` skips TypeDoc's own type check of src/: for a caller that runs
 * after the build has type-checked the same program (tsconfig.build.json), as `npm test` does.
 * Resolves with the exit code and the output, which is also echoed when `echo` is set.
 * @param {{ checkTypes?: boolean, echo?: boolean }} [options]
 * @returns {Promise<{ code: number, output: string }>}
 */
export function buildApiReference({ checkTypes = true, echo = false } = {}) {
  const digest = apiInputsDigest();
  const args = ['--options', path.join(ROOT, 'typedoc.config.mjs'), '--treatValidationWarningsAsErrors', ...(checkTypes ? [] : ['--skipErrorChecking'])];
  return new Promise((resolve, reject) => {
    const child = spawn(bin('typedoc'), args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (/** @type {Buffer} */ chunk) => {
      output += chunk;
      if (echo) process.stdout.write(chunk);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const status = signal ? 128 : (code ?? 1);
      // Stamped with the digest taken before the run, so an edit made during it is not covered.
      if (status === 0) writeFileSync(STAMP, digest);
      resolve({ code: status, output });
    });
  });
}
