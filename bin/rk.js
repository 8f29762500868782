#!/usr/bin/env node
// The `rk` command. The CLI is TypeScript compiled by `tsc` into dist/cli/; this small launcher
// stays plain JavaScript so that the bin link exists (and explains itself) even before a build.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  // Only a clone reaches this (the packed tarball ships dist/, its prepack builds it): `npm ci`
  // installs but does not compile, so name the one command that does, and where to run it.
  const root = fileURLToPath(new URL('..', import.meta.url));
  console.error(`rk is not built yet. Build it once, then run rk again:\n  cd ${root} && npm run build`);
  process.exit(1);
}
const { run } = await import(cli.href);
await run();
