// @ts-check
// Single source for the spec list, so generate/check/mock/docs cannot drift
// apart. Keep in sync with the `apis` in redocly.yaml (lint and docs address
// specs by those `<name>@v1` aliases).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Resolve from this file, not process.cwd(): `npm run` sets cwd to the package
// root, but tests and ad-hoc `node scripts/x.mjs` calls may not.
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Always the pinned local binaries, never npx (which may fetch another version).
export const bin = (/** @type {string} */ name) => path.join(ROOT, 'node_modules', '.bin', name);

export const APIS = [
  { name: 'receiver', alias: 'receiver@v1', spec: 'openapi/receiver.yaml' },
  { name: 'query', alias: 'query@v1', spec: 'openapi/query.yaml' },
  { name: 'graph-builder', alias: 'graph-builder@v1', spec: 'openapi/graph-builder.yaml' },
];

// For every redocly invocation: no usage telemetry and no npm update check,
// so lint/docs behave the same offline, in CI and on a laptop. An explicit
// setting in the caller's environment still wins.
export const REDOCLY_ENV = {
  REDOCLY_TELEMETRY: 'off',
  REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
  ...process.env,
};

// Resolves with the exit code instead of rejecting, so each caller decides what
// a failure means; stdio is inherited so the tool's own diagnostics reach the user.
/**
 * @param {string} cmd
 * @param {string[]} args
 * @param {import('node:child_process').SpawnOptions} [opts]
 * @returns {Promise<number>}
 */
export function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: 'inherit', ...opts });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(signal ? 128 : (code ?? 1)));
  });
}

// True when the module was started as `node scripts/<file>.mjs` rather than
// imported (check-generated imports generate; tests import prism).
export const isMain = (/** @type {string} */ importMetaUrl) =>
  process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(importMetaUrl);
