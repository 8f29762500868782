import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Auth } from './auth.js';
import { matchPath, SERVICES, type SchemaObject, type ServiceName, type SpecOperation, type SpecParameter, type Specs } from './spec.js';
import { replyShaper, type RepliesMode, type ReplyContext } from './replies.js';
import type { ApiError, ErrorCode, Handlers, OperationId, Principal, Reply } from './types.js';
import { SchemaValidator, type Violation } from './validation.js';

/**
 * The HTTP front of the three services on one port, under the path prefixes `/receiver`,
 * `/query` and `/graph-builder`. For each request: find the operation by the spec's path
 * templates, check the credential, read and parse the body, validate path, query and body with
 * the spec's schemas, run the handler, write its answer. A refused request never reaches a
 * handler, so it changes nothing.
 */

export const SERVICE_PREFIX: Record<ServiceName, string> = {
  receiver: '/receiver',
  query: '/query',
  'graph-builder': '/graph-builder',
};

/** The operation whose body is ignored and accepted under any content type (see its spec text). */
const IGNORED_BODY = new Set(['setTag']);
/** The operation whose body is limited by `pem_size_limit`, answered with 413 when larger. */
const SIZE_LIMITED = 'sendPem';
/** Other bodies are small JSON objects; this bounds what a request can make the server buffer. */
const MAX_OTHER_BODY = 1024 * 1024;
/** Past this a PEM upload is cut off instead of being read to the end just to be counted. */
const MAX_COUNTED_BODY = 64 * 1024 * 1024;
const PAGING = new Set(['pageIndex', 'pageSize', 'sortField', 'sortOrder']);

export interface HttpOptions {
  specs: Specs;
  auth: Auth;
  handlers: Handlers;
  pemSizeLimit: number;
  /** How answers are worded (see replies.ts); default rich. */
  replies?: RepliesMode;
  onError(error: unknown, request: IncomingMessage): void;
}

export function createRequestListener(options: HttpOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const validator = new SchemaValidator();
  // Compile every schema now, so a spec Ajv cannot read fails at startup, not on a request.
  for (const service of SERVICES) {
    for (const operation of options.specs[service].operations) {
      if (!(operation.operationId in options.handlers)) throw new Error(`recordkeeper-local: no handler for ${operation.operationId}`);
      operation.parameters.forEach((p) => validator.compile(p.schema));
      const schema = operation.requestBody?.content['application/json']?.schema;
      if (schema && !IGNORED_BODY.has(operation.operationId)) validator.compile(schema);
    }
  }
  const shape = replyShaper(options.replies ?? 'rich');
  return (req, res) => {
    const context: ReplyContext = {};
    handle(options, validator, req, context)
      .catch((error: unknown): Reply => {
        options.onError(error, req);
        return { status: 500, type: 'application/json', body: { message: `Internal error: ${error instanceof Error ? error.message : String(error)}` } };
      })
      .then((reply) => send(res, shape(reply, context)));
  };
}

function send(res: ServerResponse, reply: Reply): void {
  const text = reply.body === undefined ? '' : reply.type === 'application/json' ? JSON.stringify(reply.body) : String(reply.body);
  const type = reply.type === 'application/json' ? 'application/json' : `${reply.type ?? 'text/plain'}; charset=utf-8`;
  res.writeHead(reply.status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text), ...reply.headers });
  res.end(text);
}

function error(status: number, code: ErrorCode, message: string, field?: string): Reply {
  const body: ApiError = field === undefined ? { message, code } : { message, code, field };
  return { status, type: 'application/json', body };
}

/** 400 where the operation documents it, else the 422 every operation with input documents. */
function malformed(operation: SpecOperation, message: string, field?: string): Reply {
  return operation.responses['400'] ? error(400, 'malformed_request', message, field) : error(422, 'invalid_request', message, field);
}

/** Fills `context` as it learns what the request is, for the reply shaping that follows. */
async function handle(options: HttpOptions, validator: SchemaValidator, req: IncomingMessage, context: ReplyContext): Promise<Reply> {
  const { rawPath, search } = splitUrl(req.url ?? '/');
  const service = SERVICES.find((s) => rawPath === SERVICE_PREFIX[s] || rawPath.startsWith(`${SERVICE_PREFIX[s]}/`));
  if (!service) {
    return error(404, 'not_found', `No service at ${rawPath}; the services are under ${SERVICES.map((s) => SERVICE_PREFIX[s]).join(', ')}`);
  }
  const rest = rawPath.slice(SERVICE_PREFIX[service].length);
  const operations = options.specs[service].operations;
  const matches = matchPath(operations, rest);
  if (!matches.length) {
    return error(
      404,
      'not_found',
      `No ${service} operation at ${rest || '/'}; the paths are ${[...new Set(operations.map((o) => o.template))].join(', ')}` +
        (rest.startsWith('/tag/') ? ". A raw '/' inside a base64 segment fitted no reading of the path; percent-encode it as %2F" : ''),
    );
  }
  const match = matches.find((m) => m.candidates.some((o) => o.method === req.method));
  const operation = match?.candidates.find((o) => o.method === req.method);
  if (!match || !operation) {
    const allowed = [...new Set(matches.flatMap((m) => m.candidates.map((o) => o.method)))].join(', ');
    return { ...error(405, 'malformed_request', `${req.method} is not allowed on ${matches[0]!.template}; use ${allowed}`), headers: { Allow: allowed } };
  }

  context.operationId = operation.operationId;

  const auth = options.auth.check(operation, req.headers);
  if (!auth.ok) return error(auth.status, auth.code, auth.message);

  const body = await readBody(options, operation, req);
  if ('status' in body) return body;
  context.body = body.value;

  if (match.readings.length > 1) return ambiguous(operation, rest, match.readings);
  const rawParams = match.readings[0] ?? {};
  const path: Record<string, unknown> = {};
  for (const parameter of operation.parameters.filter((p) => p.in === 'path')) {
    let value: string;
    try {
      // Not URLSearchParams-style decoding: in a path '+' is a '+' (base64's), never a space.
      value = decodeURIComponent(rawParams[parameter.name] ?? '');
    } catch {
      return malformed(operation, `${parameter.name}: is not valid percent-encoding`, parameter.name);
    }
    const violation = validator.check(parameter.schema, value, parameter.name);
    if (violation) return invalid(violation);
    path[parameter.name] = value;
  }

  const query = readQuery(operation, validator, search);
  if ('status' in query) return query;

  if (body.value !== undefined) {
    const schema = operation.requestBody?.content['application/json']?.schema;
    const violation = schema ? validator.check(schema, body.value, 'body') : undefined;
    if (violation) return invalid(violation);
  }

  const handler = options.handlers[operation.operationId as OperationId] as (request: {
    path: Record<string, unknown>;
    query: Record<string, unknown>;
    body: unknown;
    principal: Principal;
  }) => Promise<Reply>;
  return handler({ path, query: query.value, body: body.value, principal: auth.principal });
}

/** A raw '/' in base64 segments that can be read more than one way: the client must say which. */
function ambiguous(operation: SpecOperation, rawPath: string, readings: Record<string, string>[]): Reply {
  // Only the parameters the readings disagree on (the namespace and the tag, not the PEM id).
  const names = Object.keys(readings[0] ?? {}).filter((name) => new Set(readings.map((r) => r[name])).size > 1);
  const shown = readings
    .slice(0, 3)
    .map((reading) => names.map((name) => `${name}=${reading[name]}`).join(' '))
    .join('; ');
  return malformed(
    operation,
    `The path ${rawPath} is ambiguous: its raw '/' can be read ${readings.length} ways (${shown}${readings.length > 3 ? '; …' : ''}); ` +
      "percent-encode each '/' inside a base64 segment as %2F",
  );
}

function invalid(violation: Violation): Reply {
  return error(422, 'invalid_request', violation.message, violation.field);
}

function splitUrl(url: string): { rawPath: string; search: string } {
  // Absolute-form request targets (sent to proxies) carry scheme and host.
  const target = /^https?:\/\//i.test(url) ? url.replace(/^https?:\/\/[^/?#]*/i, '') || '/' : url;
  const hash = target.indexOf('#');
  const withoutHash = hash === -1 ? target : target.slice(0, hash);
  const question = withoutHash.indexOf('?');
  return question === -1
    ? { rawPath: withoutHash, search: '' }
    : { rawPath: withoutHash.slice(0, question), search: withoutHash.slice(question + 1) };
}

/**
 * The body as parsed JSON (or undefined when the operation takes none or ignores it). A PEM over
 * the limit is 413 with both sizes; its size is read from Content-Length when sent, else counted.
 */
async function readBody(options: HttpOptions, operation: SpecOperation, req: IncomingMessage): Promise<{ value: unknown } | Reply> {
  const spec = operation.requestBody;
  const ignored = !spec || IGNORED_BODY.has(operation.operationId);
  const sizeLimited = operation.operationId === SIZE_LIMITED;
  const limit = sizeLimited ? options.pemSizeLimit : MAX_OTHER_BODY;
  const declared = Number(req.headers['content-length']);
  if (sizeLimited && Number.isSafeInteger(declared) && declared > limit) return tooLarge(declared, limit);
  const { chunks, size } = await collect(req, ignored ? 0 : limit, sizeLimited ? MAX_COUNTED_BODY : limit);
  if (ignored) return { value: undefined };
  if (size > limit) {
    if (sizeLimited) return size > MAX_COUNTED_BODY ? tooLarge(`more than ${MAX_COUNTED_BODY}`, limit) : tooLarge(size, limit);
    return malformed(operation, `body: is larger than ${limit} bytes`, 'body');
  }
  if (size === 0) {
    return spec.required ? error(422, 'invalid_request', 'body: is required; send a JSON body (an operation without arguments takes {})', 'body') : { value: undefined };
  }
  const contentType = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  if (contentType !== 'application/json' && !contentType.endsWith('+json')) {
    return malformed(operation, `body: is sent as ${contentType}; send it as application/json`, 'body');
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    return malformed(operation, 'body: is not valid UTF-8', 'body');
  }
  try {
    return { value: JSON.parse(text) };
  } catch (parseError) {
    const reason = parseError instanceof Error ? parseError.message : String(parseError);
    return malformed(operation, `body: is not valid JSON (${reason})`, 'body');
  }
}

/**
 * Reads the body, keeping at most `keep` bytes and stopping after `stopAfter`. It never destroys
 * the request: once answered, Node discards what is left unread and the connection stays usable.
 */
function collect(req: IncomingMessage, keep: number, stopAfter: number): Promise<{ chunks: Buffer[]; size: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off('data', onData).off('end', done).off('close', done).off('error', onError);
      resolve({ chunks, size });
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= keep) chunks.push(chunk);
      if (size > stopAfter) done();
    };
    const onError = (cause: Error) => {
      req.off('data', onData).off('end', done).off('close', done).off('error', onError);
      reject(cause);
    };
    req.on('data', onData).on('end', done).on('close', done).on('error', onError);
  });
}

function tooLarge(size: number | string, limit: number): Reply {
  return error(413, 'pem_too_large', `The PEM is ${size} bytes; this Receiver accepts at most ${limit} bytes (pem_size_limit)`);
}

/**
 * Query parameters as the spec declares them: integers converted, each value validated once. On
 * list operations an unknown parameter or sort field is 400, as the Query spec says; operations
 * without query parameters ignore a query string, as OpenAPI allows.
 */
function readQuery(operation: SpecOperation, validator: SchemaValidator, search: string): { value: Record<string, unknown> } | Reply {
  const declared = operation.parameters.filter((p) => p.in === 'query');
  const value: Record<string, unknown> = {};
  if (!declared.length) return { value };
  const params = new URLSearchParams(search);
  for (const name of new Set(params.keys())) {
    const parameter = declared.find((p) => p.name === name);
    if (!parameter) {
      const filters = declared.filter((p) => !PAGING.has(p.name)).map((p) => p.name);
      const paging = declared.filter((p) => PAGING.has(p.name)).map((p) => p.name);
      return error(
        400,
        'malformed_request',
        `Unknown filter field '${name}'; filterable fields are ${filters.join(', ')}` + (paging.length ? `, and the list parameters are ${paging.join(', ')}` : ''),
        name,
      );
    }
    const values = params.getAll(name);
    if (values.length > 1) return error(422, 'invalid_request', `${name}: must be given once, got ${values.length} values`, name);
    const raw = values[0] ?? '';
    if (name === 'sortField') {
      const allowed = (parameter.schema.enum as unknown[] | undefined) ?? [];
      if (!allowed.includes(raw)) {
        return error(400, 'malformed_request', `Unknown sortField '${raw}'; sortable fields are ${allowed.join(', ')}`, name);
      }
    }
    const coerced = coerce(parameter, raw);
    const violation = validator.check(parameter.schema, coerced, name);
    if (violation) return invalid(violation);
    value[name] = coerced;
  }
  for (const parameter of declared) {
    if (parameter.required && !(parameter.name in value)) return error(422, 'invalid_request', `${parameter.name}: is required`, parameter.name);
  }
  return { value };
}

/** A query value is text; the schema says when it is a number. Text that is not one stays text, for the validator to name. */
function coerce(parameter: SpecParameter, raw: string): unknown {
  const type = (parameter.schema as SchemaObject).type;
  if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  return raw;
}
