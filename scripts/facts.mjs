// @ts-check
// Writes src/generated/facts.ts: the runtime facts of the three specs that openapi-typescript's
// types cannot carry (they vanish at compile time). Hand-written code reads paths, methods,
// documented statuses, required fields, header names, list parameters and server prefixes from
// here, so nothing in src/ or server/src/ restates the spec. generate.mjs calls this beside
// openapi-typescript, and check-generated.mjs compares its output like the types'.
import fs from 'node:fs/promises';
import path from 'node:path';
import { bundle, createConfig } from '@redocly/openapi-core';
import { APIS, ROOT } from './apis.mjs';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** @param {any} schema */
function shapeOf(schema) {
  if (!schema || typeof schema !== 'object') return undefined;
  if (schema.type === 'array') {
    const items = shapeOf(schema.items);
    return items ? { type: 'array', items } : { type: 'array' };
  }
  if (schema.type === 'object' || schema.properties) {
    return { type: 'object', required: [...(schema.required ?? [])] };
  }
  if (typeof schema.type === 'string') return { type: schema.type };
  return undefined;
}

/** A query parameter: its name, its role (a field filter, or paging and sorting), its type and bounds. @param {any} p */
function parameterFacts(p) {
  const schema = p.schema ?? {};
  return {
    name: p.name,
    role: p['x-rk-role'] ?? 'filter',
    type: schema.type ?? 'string',
    ...(schema.minimum !== undefined ? { minimum: schema.minimum } : {}),
    ...(schema.maximum !== undefined ? { maximum: schema.maximum } : {}),
    ...(Array.isArray(schema.enum) ? { enum: [...schema.enum] } : {}),
  };
}

/** @param {Record<string, any>} document */
function factsOf(document) {
  /** @type {Record<string, any>} */
  const operations = {};
  for (const [template, item] of Object.entries(document.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const parameters = [...(item.parameters ?? []), ...(op.parameters ?? [])];
      const statuses = Object.keys(op.responses ?? {}).filter((s) => /^\d{3}$/.test(s)).map(Number).sort((a, b) => a - b);
      const success = statuses.find((s) => s >= 200 && s < 300);
      const media = success === undefined ? undefined : op.responses[String(success)]?.content;
      const json = media?.['application/json']?.schema;
      operations[op.operationId] = {
        method: method.toUpperCase(),
        path: template,
        statuses,
        // Whose answer the reference client reads ("known") or ignores ("ours"): x-rk-reply.
        reply: op.responses?.[String(success)]?.['x-rk-reply'] ?? 'known',
        ...(json ? { response: shapeOf(json) } : {}),
        query: parameters.filter((p) => p.in === 'query').map((p) => parameterFacts(p)),
        pathParameters: parameters.filter((p) => p.in === 'path').map((p) => p.name),
      };
    }
  }
  /** @type {Record<string, string[]>} */
  const required = {};
  for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) {
    if (Array.isArray(schema.required)) required[name] = [...schema.required];
  }
  // The longest text each schema property takes (maxLength, in Unicode code points), so a client
  // refuses what the server would refuse before sending it.
  /** @type {Record<string, Record<string, number>>} */
  const maxLength = {};
  for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) {
    if (typeof schema.maxLength === 'number') maxLength[name] = { '': schema.maxLength };
    for (const [property, sub] of Object.entries(schema.properties ?? {})) {
      if (typeof (/** @type {any} */ (sub).maxLength) === 'number') (maxLength[name] ??= {})[property] = /** @type {any} */ (sub).maxLength;
    }
  }
  // The most items each list property of a schema takes (maxItems), so a client splits a request
  // the server would refuse as too long.
  /** @type {Record<string, Record<string, number>>} */
  const maxItems = {};
  for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) {
    for (const [property, sub] of Object.entries(schema.properties ?? {})) {
      if (typeof (/** @type {any} */ (sub).maxItems) === 'number') (maxItems[name] ??= {})[property] = /** @type {any} */ (sub).maxItems;
    }
  }
  const schemes = document.components?.securitySchemes ?? {};
  /** @type {Record<string, string>} */
  const headers = {};
  for (const [name, scheme] of Object.entries(schemes)) {
    if (scheme.type === 'apiKey' && scheme.in === 'header') headers[name] = scheme.name;
  }
  for (const [key, parameter] of Object.entries(document.components?.parameters ?? {})) {
    if (parameter.in === 'header') headers[key.charAt(0).toLowerCase() + key.slice(1)] = parameter.name;
  }
  const servers = (document.servers ?? []).map((/** @type {{url: string}} */ s) => s.url);
  const prefix = servers.length ? new URL(servers[0]).pathname.replace(/\/$/, '') : '';
  return { prefix, servers, headers, operations, required, maxLength, maxItems };
}

/** The three specs, bundled and dereferenced: what facts.ts and operations.ts are written from. */
export async function bundledSpecs() {
  const config = await createConfig({});
  return Promise.all(
    APIS.map(async ({ name, spec }) => {
      const result = await bundle({ ref: path.join(ROOT, spec), config, dereference: true });
      const errors = result.problems.filter((p) => p.severity === 'error');
      if (errors.length) throw new Error(`${spec}: ${errors.map((p) => p.message).join('; ')}`);
      return { name, document: /** @type {Record<string, any>} */ (result.bundle.parsed) };
    }),
  );
}

/** The source text of facts.ts. @param {{ name: string, document: Record<string, any> }[]} [specs] */
export async function factsSource(specs) {
  /** @type {Record<string, any>} */
  const all = {};
  for (const { name, document } of specs ?? (await bundledSpecs())) all[name] = factsOf(document);
  const body = Object.entries(all)
    .map(([name, facts]) => `export const ${camel(name)} = ${JSON.stringify(facts, null, 2)} as const;\n`)
    .join('\n');
  return (
    '// Generated by scripts/generate.mjs (scripts/facts.mjs) from openapi/*.yaml. Do not edit.\n' +
    '// The runtime facts of each spec: operations by operationId (method, path, documented statuses,\n' +
    "// whose reply the reference client reads: 'known', or ignores: 'ours'), required fields per schema,\n" +
    '// header names, the base path of its servers.\n\n' +
    body
  );
}

/** @param {string} name */
function camel(name) {
  return name.replace(/-(\w)/g, (_, c) => c.toUpperCase());
}

/** @param {string} outDir @param {{ name: string, document: Record<string, any> }[]} [specs] */
export async function writeFacts(outDir, specs) {
  await fs.writeFile(path.join(outDir, 'facts.ts'), await factsSource(specs));
  return 'facts.ts';
}
