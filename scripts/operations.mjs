// @ts-check
// Writes src/generated/operations.ts: one description per operationId of the three specs, the
// table the client's core executes (src/core/service.ts). Beside openapi-typescript's types (which
// vanish at compile time) it carries what a request and its reply need at run time: method, path,
// parameters by place and type, the request body's media types, the success statuses and media
// types, whose reply it is (`known`: the reference client reads it; `ours`: any 2xx) and, for a
// known JSON reply, the fields the client requires: the success response's `x-rk-known` list (the
// fields the reference client reads) where the spec marks one, otherwise its schema's `required`.
// (On the response, beside `x-rk-reply`, not in the schema: schema validators in strict mode
// refuse unknown keywords.)
//
// generate.mjs calls writeOperations() beside writeFacts() and prints describeChanges() of the old
// and new file, so a maintainer sees which operations a spec change added, removed or changed.
import fs from 'node:fs/promises';
import path from 'node:path';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** The JSON type(s) of a schema, without `null`: `string`, `integer`, `array`... @param {any} schema */
function typeOf(schema) {
  if (!schema || typeof schema !== 'object') return 'any';
  if (Array.isArray(schema.type)) return schema.type.filter((/** @type {string} */ t) => t !== 'null').join('|') || 'any';
  if (typeof schema.type === 'string') return schema.type;
  for (const key of ['oneOf', 'anyOf', 'allOf']) {
    if (Array.isArray(schema[key])) {
      const types = [...new Set(schema[key].map(typeOf).filter((/** @type {string} */ t) => t !== 'null' && t !== 'any'))];
      if (types.length) return types.join('|');
    }
  }
  return 'any';
}

/**
 * What the client requires of a reply body: objects name their required keys (`marked`, the
 * response's `x-rk-known` list of the fields the reference reads, where the spec has one), arrays
 * their items' shape.
 * @param {any} schema @param {string} where @param {unknown} [marked]
 */
function knownShape(schema, where, marked) {
  if (!schema || typeof schema !== 'object') return undefined;
  if (schema.type === 'array') {
    const items = knownShape(schema.items, `${where} items`, marked);
    return items ? { type: 'array', items } : { type: 'array' };
  }
  if (schema.type === 'object' || schema.properties) {
    if (marked !== undefined) {
      if (!Array.isArray(marked) || marked.some((name) => typeof name !== 'string')) {
        throw new Error(`${where}: x-rk-known must be a list of property names`);
      }
      const unknown = marked.filter((name) => !Object.hasOwn(schema.properties ?? {}, name));
      if (unknown.length) throw new Error(`${where}: x-rk-known names ${unknown.join(', ')}, which the reply's schema does not have`);
    }
    return { type: 'object', required: [...(/** @type {string[] | undefined} */ (marked) ?? schema.required ?? [])] };
  }
  const type = typeOf(schema);
  return type === 'any' ? undefined : { type };
}

/** @param {any} p */
function parameterOf(p) {
  const schema = p.schema ?? {};
  return {
    name: p.name,
    in: p.in,
    required: p.required === true,
    type: typeOf(schema),
    ...(schema.type === 'array' ? { items: typeOf(schema.items) } : {}),
  };
}

/** @param {string} service @param {Record<string, any>} document */
export function operationsOf(service, document) {
  /** @type {Record<string, any>} */
  const operations = {};
  for (const [template, item] of Object.entries(document.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      // Operation parameters override path-level ones of the same name and place.
      /** @type {Map<string, any>} */
      const byKey = new Map();
      for (const p of [...(item.parameters ?? []), ...(op.parameters ?? [])]) byKey.set(`${p.in} ${p.name}`, p);
      const parameters = [...byKey.values()].filter((p) => p.in !== 'cookie').map(parameterOf);
      const statuses = Object.keys(op.responses ?? {}).filter((s) => /^\d{3}$/.test(s)).map(Number).sort((a, b) => a - b);
      const success = statuses.filter((s) => s >= 200 && s < 300);
      const first = op.responses?.[String(success[0])];
      const content = first?.content ?? {};
      const json = content['application/json']?.schema;
      const reply = first?.['x-rk-reply'] ?? 'known';
      const where = `${service} ${op.operationId}`;
      const requestContent = op.requestBody?.content;
      operations[op.operationId] = {
        method: method.toUpperCase(),
        path: template,
        parameters,
        body: requestContent ? { required: op.requestBody.required === true, media: Object.keys(requestContent) } : null,
        success,
        statuses,
        media: Object.keys(content),
        reply,
        known: reply === 'known' && json ? (knownShape(json, where, first['x-rk-known']) ?? null) : null,
      };
    }
  }
  return operations;
}

/** Fields the reference client reads, per operation whose success reply the spec marks with `x-rk-known`. @param {Record<string, any>[]} documents */
export function knownFieldsOf(documents) {
  /** @type {Record<string, string[]>} */
  const fields = {};
  for (const document of documents) {
    for (const item of Object.values(document.paths ?? {})) {
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        for (const [status, response] of Object.entries(op.responses ?? {})) {
          if (/^2\d\d$/.test(status) && Array.isArray(response?.['x-rk-known'])) fields[op.operationId] = [...response['x-rk-known']];
        }
      }
    }
  }
  return fields;
}

/** @param {string} name */
export const constName = (name) => `${name.replace(/-(\w)/g, (_, c) => c.toUpperCase())}Operations`;

/** The source text of operations.ts. @param {{ name: string, document: Record<string, any> }[]} specs */
export function operationsSource(specs) {
  const body = specs
    .map(({ name, document }) => `export const ${constName(name)} = ${JSON.stringify(operationsOf(name, document), null, 2)} as const;\n`)
    .join('\n');
  const known = JSON.stringify(knownFieldsOf(specs.map((s) => s.document)), null, 2);
  return (
    '// Generated by scripts/generate.mjs (scripts/operations.mjs) from openapi/*.yaml. Do not edit.\n' +
    '// One description per operationId, executed by src/core/service.ts: method, path, parameters,\n' +
    "// request media types, success statuses and media types, whose reply it is ('known' or 'ours') and\n" +
    "// what the client requires of a known JSON reply (the response's x-rk-known list, else the schema's required).\n\n" +
    body +
    '\n/** The fields the reference client reads, for each operation whose reply the specs mark with x-rk-known. */\n' +
    `export const knownFields = ${known} as const;\n`
  );
}

/** @param {string} outDir @param {{ name: string, document: Record<string, any> }[]} specs */
export async function writeOperations(outDir, specs) {
  await fs.writeFile(path.join(outDir, 'operations.ts'), operationsSource(specs));
  return 'operations.ts';
}

/** The operation tables of an operations.ts source (each is JSON between `=` and `as const`). @param {string} source */
function tablesOf(source) {
  /** @type {Record<string, any>} */
  const all = {};
  for (const match of source.matchAll(/^export const (\w+Operations) = ([\s\S]*?) as const;$/gm)) {
    for (const [id, op] of Object.entries(JSON.parse(match[2] ?? '{}'))) all[id] = op;
  }
  return all;
}

/**
 * Lines naming each operation added, removed or changed (with the parts that changed) between two
 * operations.ts sources; empty when nothing changed. @param {string} before @param {string} after
 */
export function describeChanges(before, after) {
  const old = tablesOf(before);
  const now = tablesOf(after);
  const lines = [];
  for (const id of Object.keys(now)) {
    if (!(id in old)) lines.push(`added    ${id} (${now[id].method} ${now[id].path})`);
  }
  for (const id of Object.keys(old)) {
    if (!(id in now)) lines.push(`removed  ${id} (${old[id].method} ${old[id].path})`);
  }
  for (const id of Object.keys(now)) {
    if (!(id in old)) continue;
    const parts = Object.keys({ ...old[id], ...now[id] }).filter((key) => JSON.stringify(old[id][key]) !== JSON.stringify(now[id][key]));
    if (parts.length) lines.push(`changed  ${id}: ${parts.map((key) => `${key} ${JSON.stringify(old[id][key])} -> ${JSON.stringify(now[id][key])}`).join('; ')}`);
  }
  return lines;
}
