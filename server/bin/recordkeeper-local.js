#!/usr/bin/env node
// The `recordkeeper-local` command. The server is TypeScript compiled by `tsc` into dist/; this
// small launcher stays plain JavaScript so that the bin link exists (and explains itself) even
// before the first build.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/server/src/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  console.error(
    'recordkeeper-local is not built yet. From the repository root run:\n' +
      '  npm install && npm run build --workspace recordkeeper-local',
  );
  process.exit(1);
}
const { main } = await import(cli.href);
await main(process.argv.slice(2));
