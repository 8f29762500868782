// @ts-check
// The TypeScript code samples of the Redoc pages: every operation gets an `x-codeSamples` entry
// with the facade call that makes it, generated at docs-build time from the `sample` strings of
// src/facade-operations.ts (the one table of which method makes each operationId), so no sample
// is ever written twice. The specs in openapi/ stay as they are: the samples go into bundled
// copies that build-docs reads. docs.mjs calls specsWithSamples() with one line; a unit test
// counts the samples against the operations.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bundle, createConfig } from '@redocly/openapi-core';
import { build } from 'esbuild';
import { APIS, ROOT } from './apis.mjs';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** The table's key for each API (facade-operations.ts groups by service in camelCase). */
const TABLE_KEY = { receiver: 'receiver', query: 'query', 'graph-builder': 'graphBuilder' };

/** How a user gets the facade object a sample calls: the variable names the samples use. */
const SETUP = {
  RKClient: "import { RKClient } from 'recordkeeper-client';\n\nconst rk = new RKClient(process.env.RK_RECEIVER!, 'my-service', { pucAuth: process.env.RK_PUC_AUTH });",
  RKQuery: "import { RKQuery } from 'recordkeeper-client';\n\nconst query = new RKQuery(process.env.RK_QUERY!, { userAuth: process.env.RK_USER_AUTH });",
  RKAdmin:
    "import { RKAdmin } from 'recordkeeper-client';\n\nconst admin = new RKAdmin(process.env.RK_QUERY!, process.env.RK_GRAPH_BUILDER!, { userAuth: process.env.RK_USER_AUTH });",
};

/**
 * src/facade-operations.ts, compiled in memory (it is TypeScript and imports only types), so the
 * docs need no client build first.
 * @returns {Promise<Record<string, Record<string, { facade: keyof typeof SETUP, method: string | undefined, sample: string }>>>}
 */
export async function loadOperationTable() {
  const result = await build({ entryPoints: [path.join(ROOT, 'src', 'facade-operations.ts')], bundle: true, write: false, format: 'esm', platform: 'node', logLevel: 'silent' });
  const source = result.outputFiles[0]?.text ?? '';
  const module = await import(`data:text/javascript;base64,${Buffer.from(source).toString('base64')}`);
  return module.FACADE_OPERATIONS;
}

/**
 * The whole program a reader copies: the import, the facade, the call, and what to do with its
 * Result (every facade method resolves to one and never rejects).
 * @param {{ facade: keyof typeof SETUP, sample: string }} entry
 */
export function sampleProgram(entry) {
  const lines = [SETUP[entry.facade], ''];
  // A sample that tags or sends a PEM it does not make itself gets one.
  if (/\bpem\b/.test(entry.sample) && !/const pem\b/.test(entry.sample)) lines.push("const pem = rk.preparePem('train');");
  lines.push(entry.sample);
  const result = [...entry.sample.matchAll(/const (\w+) = await /g)].at(-1)?.[1];
  if (result) lines.push(`if (!${result}.ok) console.error(${result}.error.message);`, `else console.log(${result}.value);`);
  return lines.join('\n');
}

/**
 * Adds `x-codeSamples` to every operation of a bundled spec; throws for an operation the table
 * does not list (facade-operations.ts is checked against the specs at compile time, so this only
 * fires when the specs changed without a regenerate).
 * @param {any} document
 * @param {Record<string, { facade: keyof typeof SETUP, method: string | undefined, sample: string }>} table
 */
export function addCodeSamples(document, table) {
  for (const [template, item] of Object.entries(document.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const entry = table[op.operationId];
      if (!entry) throw new Error(`docs: ${method.toUpperCase()} ${template} (${op.operationId}) is not in src/facade-operations.ts`);
      const label = entry.method ? `${entry.facade}.${entry.method}` : `${entry.facade}.call('${op.operationId}')`;
      op['x-codeSamples'] = [{ lang: 'TypeScript', label, source: sampleProgram(entry) }];
    }
  }
  return document;
}

/** Each spec bundled (its common.yaml inlined) with its samples, in memory. */
export async function documentsWithSamples() {
  const table = await loadOperationTable();
  const config = await createConfig({});
  /** @type {{ api: typeof APIS[number], document: any }[]} */
  const out = [];
  for (const api of APIS) {
    const result = await bundle({ ref: path.join(ROOT, api.spec), config });
    const errors = result.problems.filter((p) => p.severity === 'error');
    if (errors.length) throw new Error(`docs: ${api.spec}: ${errors.map((p) => p.message).join('; ')}`);
    out.push({ api, document: addCodeSamples(result.bundle.parsed, table[TABLE_KEY[/** @type {keyof typeof TABLE_KEY} */ (api.name)]]) });
  }
  return out;
}

/**
 * Writes the bundled specs with samples to a scratch folder and answers the file to build each
 * API's page from (JSON is YAML, so build-docs reads it as is).
 * @returns {Promise<{ files: Record<string, string>, cleanup: () => Promise<void> }>}
 */
export async function specsWithSamples() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rk-docs-'));
  /** @type {Record<string, string>} */
  const files = {};
  for (const { api, document } of await documentsWithSamples()) {
    files[api.name] = path.join(dir, `${api.name}.json`);
    await fs.writeFile(files[api.name], JSON.stringify(document, null, 2));
  }
  return { files, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}
