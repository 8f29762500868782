import { describe, isPlainObject, snapshotOptions } from './checks.js';
import { RKInvalidInputError } from './errors.js';
import type { ResponseShape } from './responses.js';
import type { RequestParts } from './transport.js';

/**
 * From a call's input to its request, by the generated description of the operation alone: the
 * path filled in, the query serialized (form, explode: `?a=1&b=x&b=y`), the header parameters and
 * the body. A JavaScript caller's mistake (a missing path parameter, a value of the wrong type, a
 * parameter the operation does not have) is an RKInvalidInputError naming the operation and the
 * parameter, and nothing is sent.
 */

/** One parameter as src/generated/operations.ts describes it. */
export interface ParameterDescription {
  readonly name: string;
  readonly in: string;
  readonly required: boolean;
  /** The JSON type(s) of its schema without null: `string`, `integer`, `string|integer`, `any`. */
  readonly type: string;
  readonly items?: string;
}

/** One operation as src/generated/operations.ts describes it. */
export interface OperationDescription {
  readonly method: string;
  readonly path: string;
  readonly parameters: readonly ParameterDescription[];
  readonly body: { readonly required: boolean; readonly media: readonly string[] } | null;
  readonly success: readonly number[];
  readonly statuses: readonly number[];
  readonly media: readonly string[];
  readonly reply: string;
  readonly known: ResponseShape | null;
}

/** A call's input as a JavaScript caller may pass it. */
export interface CallInput {
  path?: Record<string, unknown>;
  query?: Record<string, unknown>;
  header?: Record<string, unknown>;
  body?: unknown;
}

const PARTS = ['path', 'query', 'header', 'body'] as const;

/**
 * The request of `input` for operation `id`. `serialized` is a body the caller has already
 * written (a PEM's exact bytes, the reference's raw tag body): sent as it is.
 */
export function requestOf(
  operation: string,
  id: string,
  op: OperationDescription,
  input: unknown,
  serialized?: string,
  openQuery = false,
): RequestParts {
  const given = readInput(operation, input);
  const values = (place: 'path' | 'query' | 'header') => {
    const part: Record<string, unknown> = given[place] ?? {};
    const declared = op.parameters.filter((p) => p.in === place);
    // A field filter our spec does not list may be one a real RK knows: a facade that lists sends it
    // as text and lets the service decide (`openQuery`); `call` keeps to the spec.
    const open = openQuery && place === 'query';
    const extra = open ? undefined : Object.keys(part).find((name) => !declared.some((p) => p.name === name));
    if (extra !== undefined) {
      const names = declared.map((p) => p.name);
      throw new RKInvalidInputError(
        operation,
        `${place}.${shownKey(extra)}`,
        `is not a ${place} parameter of ${id}; ${names.length ? `it takes ${names.join(', ')}` : `it takes no ${place} parameters`}`,
      );
    }
    const pairs: [string, unknown][] = [];
    // The caller's order: a facade orders its query (paging first) for stable URLs.
    for (const name of Object.keys(part)) {
      const value = part[name];
      if (value === undefined) continue;
      const parameter = declared.find((p) => p.name === name) ?? { name, in: place, required: false, type: 'string' };
      pairs.push([name, checkType(operation, `${place}.${shownKey(name)}`, parameter, value)]);
    }
    for (const parameter of declared) {
      if (parameter.required && part[parameter.name] === undefined) {
        throw new RKInvalidInputError(operation, `${place}.${parameter.name}`, `is required by ${id} (${parameter.type}); pass it as input.${place}.${parameter.name}`);
      }
    }
    return pairs;
  };
  const path = new Map(values('path'));
  const filled = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => segment(String(path.get(name))));
  const query = values('query')
    .flatMap(([name, value]) => (Array.isArray(value) ? value.map((item) => [name, item] as const) : [[name, value] as const]))
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`)
    .join('&');
  const headers: Record<string, string> = {};
  for (const [name, value] of values('header')) headers[name] = String(value);
  let body: string | undefined;
  if (serialized !== undefined) {
    body = serialized;
  } else if (given.body !== undefined) {
    if (op.body === null) throw new RKInvalidInputError(operation, 'body', `is not taken by ${id}, which has no request body; leave it out`);
    body = bodyText(operation, op.body.media, given.body);
  } else if (op.body?.required) {
    throw new RKInvalidInputError(operation, 'body', `is required by ${id}; pass input.body${op.body.media[0] === 'application/json' ? ' (a JSON value; {} for an operation without arguments)' : ''}`);
  }
  if (body !== undefined && op.body) headers['Content-Type'] = op.body.media[0] ?? 'application/json';
  return { method: op.method, path: query ? `${filled}?${query}` : filled, headers, body };
}

function readInput(operation: string, input: unknown): CallInput {
  if (input === undefined) return {};
  if (!isPlainObject(input)) {
    throw new RKInvalidInputError(operation, 'input', `must be an object like { path: { ... }, query: { ... }, body: ... }, got ${describe(input)}`);
  }
  const copy = snapshotOptions(operation, 'input', input, ['path', 'query', 'header']);
  const unknown = Object.keys(copy).find((key) => !(PARTS as readonly string[]).includes(key));
  if (unknown !== undefined) throw new RKInvalidInputError(operation, `input.${shownKey(unknown)}`, `is not part of a call's input; use ${PARTS.join(', ')}`);
  for (const place of ['path', 'query', 'header'] as const) {
    if (copy[place] !== undefined && !isPlainObject(copy[place])) {
      throw new RKInvalidInputError(operation, `input.${place}`, `must be an object of parameters, got ${describe(copy[place])}`);
    }
  }
  return copy as CallInput;
}

/** A key the caller made up, named only when it reads like a name: anything else may carry anything. */
function shownKey(key: string): string {
  return /^[\w.-]{1,60}$/.test(key) ? key : `[${describe(key)}]`;
}

/** A value checked against its parameter's schema type: a wrong type is named, never sent. */
function checkType(operation: string, argument: string, parameter: ParameterDescription, value: unknown): unknown {
  if (parameter.type.split('|').includes('array')) {
    const items = Array.isArray(value) ? value : [value];
    for (const item of items) checkScalar(operation, argument, parameter.items ?? 'any', item);
    return items;
  }
  return checkScalar(operation, argument, parameter.type, value);
}

function checkScalar(operation: string, argument: string, type: string, value: unknown): unknown {
  const fits = type.split('|').some((t) => {
    switch (t) {
      case 'string':
        return typeof value === 'string' && (value !== '' || !argument.startsWith('path.'));
      case 'integer':
        return typeof value === 'number' && Number.isInteger(value);
      case 'number':
        return typeof value === 'number' && Number.isFinite(value);
      case 'boolean':
        return typeof value === 'boolean';
      default:
        return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
    }
  });
  if (!fits) throw new RKInvalidInputError(operation, argument, `must be ${article(type, argument.startsWith('path.'))}, got ${describe(value)}`);
  return value;
}

/** A type in words; a path segment may not be empty. */
function article(type: string, inPath: boolean): string {
  return type
    .split('|')
    .map((t) => (t === 'integer' ? 'a whole number' : t === 'any' ? 'a string, number or boolean' : t === 'string' ? (inPath ? 'a non-empty string' : 'a string') : `a ${t}`))
    .join(' or ');
}

function bodyText(operation: string, media: readonly string[], body: unknown): string {
  if (media.includes('application/json')) {
    let text: string | undefined;
    try {
      text = JSON.stringify(body);
    } catch {
      text = undefined;
    }
    if (text === undefined) throw new RKInvalidInputError(operation, 'body', `must be a JSON value, got ${describe(body)}`);
    return text;
  }
  if (typeof body !== 'string') throw new RKInvalidInputError(operation, 'body', `must be a string (${media.join(', ')}), got ${describe(body)}`);
  return body;
}

/**
 * A path segment: percent-encoded except for what a segment may carry raw (RFC 3986 sub-delims,
 * `:` and `@`), so a tag's base64 keeps its `=` and `+` as the reference client sends them and a
 * `/` inside a value becomes `%2F` instead of splitting the path.
 */
function segment(value: string): string {
  return encodeURIComponent(value).replace(/%(2[46B-C]|3[ABD]|40)/g, (escaped) => decodeURIComponent(escaped));
}
