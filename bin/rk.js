#!/usr/bin/env node
// The `rk` command. The CLI is TypeScript compiled by `tsc` into dist/cli/; this small launcher
// stays plain JavaScript so that the bin link exists (and explains itself) even before a build.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  console.error('rk is not built yet. In the recordkeeper-client repository run:\n  npm ci && npm run build:all');
  process.exit(1);
}
const { run } = await import(cli.href);
await run();
