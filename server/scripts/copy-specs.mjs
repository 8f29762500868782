// prepack: a published recordkeeper-local has no repository around it, so the specs it routes and
// validates by are copied into the package (server/openapi/, git-ignored). At run time the
// server prefers this copy and falls back to the repository's openapi/.
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const from = path.resolve(here, '..', '..', 'openapi');
const to = path.resolve(here, '..', 'openapi');
rmSync(to, { recursive: true, force: true });
mkdirSync(to, { recursive: true });
for (const file of readdirSync(from).filter((f) => f.endsWith('.yaml'))) cpSync(path.join(from, file), path.join(to, file));
console.log(`copied the specs from ${from} to ${to}`);
