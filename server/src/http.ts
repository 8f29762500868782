import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Auth } from './auth.js';
import { findOperation, matchPath, SERVICES, type SchemaObject, type ServiceName, type SpecOperation, type SpecParameter, type Specs } from './spec.js';
import { replyShaper, type RepliesMode, type ReplyContext } from './replies.js';
import type { ApiError, ErrorCode, Handlers, OperationId, Principal, Reply } from './types.js';
import { SchemaValidator, textProblem, type Violation } from './validation.js';
import { graphBuilderFacts, queryFacts, receiverFacts } from 'recordkeeper-client/specs';
import { checkHost, checkRequestSite, corsHeaders, preflight, type SiteOptions } from './site.js';
import { enableStreamedReplies, sendStreamed } from './stream.js';
import { parseTimestamp } from 'recordkeeper-client/wire';

/**
 * The HTTP front of the three services on one port, under the path prefixes `/receiver`,
 * `/query` and `/graph-builder`. For each request: find the operation by the spec's path
 * templates, check the credential, read and parse the body, validate path, query and body with
 * the spec's schemas, run the handler, write its answer. A refused request never reaches a
 * handler, so it changes nothing.
 */

/** Each service's base path, as its spec's servers state it. */
export const SERVICE_PREFIX: Record<ServiceName, string> = {
  receiver: receiverFacts.prefix,
  query: queryFacts.prefix,
  'graph-builder': graphBuilderFacts.prefix,
};

/** The operation whose body is ignored and accepted under any content type (see its spec text). */
export const IGNORED_BODY = new Set(['setTag']);
/** The operation whose body is limited by `pem_size_limit`, answered with 413 when larger. */
const SIZE_LIMITED = 'sendPem';
/** Other bodies are small JSON objects; this bounds what a request can make the server buffer. */
const MAX_OTHER_BODY = 1024 * 1024;

export interface HttpOptions {
  specs: Specs;
  auth: Auth;
  handlers: Handlers;
  pemSizeLimit: number;
  /** How answers are worded (see replies.ts); default rich. */
  replies?: RepliesMode;
  /** Origins allowed cross-site (CORS) and the host names the server answers state changes for. */
  site?: SiteOptions;
  onError(error: unknown, request: IncomingMessage): void;
  /** Where notes that are no fault of the server go (a client that went away mid-upload). */
  onInfo?(line: string): void;
}

/**
 * One validator per loaded Specs (loadSpecs keeps them per process), compiling each schema on the
 * first request that needs it: compiling every request schema took about 0.6 CPU s of each local
 * RK's start, in every process that starts one, for operations most never receive. The shipped
 * specs are proven to compile, and to fit JSON Schema's meta-schema, by server/test/refusals.test.ts
 * (as a start-up compile proved before), so requests are checked without the meta-schema.
 */
const validators = new WeakMap<Specs, SchemaValidator>();
function validatorOf(specs: Specs): SchemaValidator {
  let validator = validators.get(specs);
  if (!validator) validators.set(specs, (validator = new SchemaValidator({ checkSchemas: false })));
  return validator;
}

export function createRequestListener(options: HttpOptions): (req: IncomingMessage, res: ServerResponse) => void {
  // Full listings are written from a database cursor in batches, never built as one array.
  enableStreamedReplies();
  const validator = validatorOf(options.specs);
  for (const service of SERVICES) {
    for (const operation of options.specs[service].operations) {
      if (!(operation.operationId in options.handlers)) throw new Error(`recordkeeper-local: no handler for ${operation.operationId}`);
    }
  }
  const shape = replyShaper(options.replies ?? 'rich');
  const timestampPattern = clientTimestampPattern(options.specs);
  const site: SiteOptions = options.site ?? { cors: [], allowedHosts: [] };
  return (req, res) => {
    const context: ReplyContext = {};
    const cors = corsHeaders(site, req.headers);
    // Without credentials the Host is the only thing between a DNS-rebinding page and every PEM:
    // every request is checked, reads too, before routing. With credentials reads need a token.
    const foreignHost = options.auth.required ? undefined : checkHost(site, req.headers);
    if (foreignHost) {
      send(res, shape(error(403, 'forbidden', foreignHost), context));
      return;
    }
    if (req.method === 'OPTIONS') {
      const answer = preflight(site, req.headers);
      send(res, answer.status === 204 ? { status: 204, headers: answer.headers } : error(403, 'forbidden', answer.message));
      return;
    }
    handle(options, validator, req, context, site, timestampPattern)
      .catch((failure: unknown): Reply => {
        if (failure instanceof BodyCutShort) {
          options.onInfo?.(`${context.operationId ?? 'a request'}: ${failure.message}; nothing was stored`);
          // Written to a connection that is gone; no client reads it.
          return error(400, 'malformed_request', `body: ${failure.message}`, 'body');
        }
        // Neither the answer nor the log line carries the error's text: a database error can
        // quote SQL, index names and the PEM's values. The log gets its class and SQLSTATE.
        options.onError(internalError(failure, context.operationId), req);
        return { status: 500, type: 'application/json', body: { message: 'Internal error; the server log has a line about it' } };
      })
      .then((reply) => {
        const shaped = shape(reply, context);
        send(res, cors ? { ...shaped, headers: { ...shaped.headers, ...cors } } : shaped);
      });
  };
}

/** What is logged of an unexpected error: where, its class and its database code, nothing of its text. */
export function internalError(failure: unknown, operationId: string | undefined): Error {
  const kind = failure instanceof Error ? failure.constructor.name : typeof failure;
  const code = typeof (failure as { code?: unknown } | null)?.code === 'string' ? ` (code ${(failure as { code: string }).code})` : '';
  return new Error(`internal error in ${operationId ?? 'routing'}: ${kind}${code}`);
}

function send(res: ServerResponse, reply: Reply): void {
  if (sendStreamed(res, reply)) return;
  if (reply.status === 204) {
    res.writeHead(204, reply.headers);
    res.end();
    return;
  }
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
async function handle(
  options: HttpOptions,
  validator: SchemaValidator,
  req: IncomingMessage,
  context: ReplyContext,
  site: SiteOptions,
  timestampPattern: string | undefined,
): Promise<Reply> {
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

  // A state change from another site (a web page the user has open) or through a host name that
  // is not this server's (DNS rebinding) is refused before anything else, credential or not.
  if (operation.method !== 'GET') {
    const refused = checkRequestSite(site, req.headers);
    if (refused) return error(403, 'forbidden', refused);
  }

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

  const query = readQuery(operation, validator, search, timestampPattern);
  if ('status' in query) return query;

  const headerProblem = checkHeaders(operation, validator, req);
  if (headerProblem) return headerProblem;

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
  if (ignored) {
    await collect(req, 0, limit);
    return { value: undefined };
  }
  // JSON endpoints take JSON only, said so by the sender: a missing or other Content-Type is what
  // an HTML form or a "simple" cross-site fetch sends, and is refused before the body is read.
  const sentType = req.headers['content-type'];
  const contentType = sentType === undefined ? undefined : sentType.split(';')[0]!.trim().toLowerCase();
  if (contentType === undefined || (contentType !== 'application/json' && !contentType.endsWith('+json'))) {
    const { size } = await collect(req, 0, limit);
    if (size === 0 && spec.required) {
      return error(422, 'invalid_request', 'body: is required; send a JSON body as application/json (an operation without arguments takes {})', 'body');
    }
    return malformed(
      operation,
      contentType === undefined ? 'body: has no Content-Type; send it as application/json' : `body: is sent as ${contentType}; send it as application/json`,
      'body',
    );
  }
  // Read at most one byte past the limit, with or without Content-Length (chunked uploads too).
  const { chunks, size } = await collect(req, limit, limit);
  if (size > limit) {
    if (sizeLimited) return tooLarge(`more than ${limit}`, limit);
    return malformed(operation, `body: is larger than ${limit} bytes`, 'body');
  }
  if (size === 0) {
    return spec.required ? error(422, 'invalid_request', 'body: is required; send a JSON body (an operation without arguments takes {})', 'body') : { value: undefined };
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
    const detach = () => req.off('data', onData).off('end', done).off('close', closed).off('error', cut);
    const done = () => {
      detach();
      resolve({ chunks, size });
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= keep) chunks.push(chunk);
      if (size > stopAfter) done();
    };
    // A connection closed (or reset) before the body's end: the client went away mid-upload.
    const cut = () => {
      detach();
      reject(new BodyCutShort(size, Number(req.headers['content-length'])));
    };
    const closed = () => (req.complete ? done() : cut());
    req.on('data', onData).on('end', done).on('close', closed).on('error', cut);
  });
}

/**
 * A request whose body never arrived whole (the client closed or reset the connection mid-upload).
 * Nothing was read into any handler, so nothing changed; it is the client's doing, not a fault of
 * the server, and is logged as an info line, not as an internal error.
 */
export class BodyCutShort extends Error {
  constructor(
    readonly received: number,
    readonly declared: number,
  ) {
    super(`the client closed the connection after ${received}${Number.isSafeInteger(declared) ? ` of ${declared}` : ''} bytes of the body`);
    this.name = 'BodyCutShort';
  }
}

function tooLarge(size: number | string, limit: number): Reply {
  return error(413, 'pem_too_large', `The PEM is ${size} bytes; this Receiver accepts at most ${limit} bytes (pem_size_limit)`);
}

/**
 * Query parameters as the spec declares them: integers converted, each value validated once. On
 * list operations an unknown parameter or sort field is 400, as the Query spec says; operations
 * without query parameters ignore a query string, as OpenAPI allows.
 */
function readQuery(operation: SpecOperation, validator: SchemaValidator, search: string, timestampPattern: string | undefined): { value: Record<string, unknown> } | Reply {
  const declared = operation.parameters.filter((p) => p.in === 'query');
  const value: Record<string, unknown> = {};
  if (!declared.length) return { value };
  // URLSearchParams keeps a broken escape such as %ZZ as the text "%ZZ" and turns bytes that are
  // not UTF-8 into U+FFFD: the filter would silently match something else than what was meant.
  const undecodable = badPercentEncoding(search);
  if (undecodable) {
    return error(
      400,
      'malformed_request',
      `${undecodable.name}: ${JSON.stringify(undecodable.text.slice(0, 200))} is not valid percent-encoding (a % must start %XX escapes of UTF-8 bytes); send % itself as %25`,
      undecodable.name,
    );
  }
  const params = new URLSearchParams(search);
  for (const name of new Set(params.keys())) {
    const parameter = declared.find((p) => p.name === name);
    if (!parameter) {
      const filters = declared.filter((p) => p.role !== 'paging').map((p) => p.name);
      const paging = declared.filter((p) => p.role === 'paging').map((p) => p.name);
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
    const textIssue = textProblem(raw);
    if (textIssue) return error(422, 'invalid_request', `${name}: ${textIssue}`, name);
    if (name === 'sortField') {
      const allowed = (parameter.schema.enum as unknown[] | undefined) ?? [];
      if (!allowed.includes(raw)) {
        return error(400, 'malformed_request', `Unknown sortField '${raw}'; sortable fields are ${allowed.join(', ')}`, name);
      }
    }
    const coerced = coerce(parameter, raw);
    const violation = validator.check(parameter.schema, coerced, name);
    if (violation) return invalid(violation);
    if (timestampPattern !== undefined && (parameter.schema as SchemaObject).pattern === timestampPattern && parseTimestamp(coerced) === undefined) {
      return error(422, 'invalid_request', `${name}: ${JSON.stringify(raw)} is not a real UTC time (YYYY-MM-DD HH:MM:SS with a real month, day, hour, minute and second)`, name);
    }
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

/**
 * The pattern of the Pem's `TimestampClient` (the spec's ClientTimestamp): a parameter with this
 * schema is a client time, and the spec says a time that does not exist is refused, which a
 * pattern alone cannot say (month 13, 25:00).
 */
function clientTimestampPattern(specs: Specs): string | undefined {
  const pem = findOperation(specs, 'sendPem').requestBody?.content['application/json']?.schema;
  const property = (pem?.properties as Record<string, SchemaObject> | undefined)?.TimestampClient;
  return typeof property?.pattern === 'string' ? property.pattern : undefined;
}

/** The first name or value of a query string that is not valid percent-encoded UTF-8. */
export function badPercentEncoding(search: string): { name: string; text: string } | undefined {
  for (const pair of search.split('&')) {
    if (!pair.includes('%')) continue;
    const equals = pair.indexOf('=');
    const rawName = equals === -1 ? pair : pair.slice(0, equals);
    const rawValue = equals === -1 ? '' : pair.slice(equals + 1);
    const name = decodeQueryPart(rawName);
    if (name === undefined) return { name: rawName, text: rawName };
    if (decodeQueryPart(rawValue) === undefined) return { name, text: rawValue };
  }
  return undefined;
}

function decodeQueryPart(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

/**
 * Header parameters the operation declares (`Idempotency-Key`, `X-RK-Attempt`), validated with
 * their schemas like path and query parameters: an empty key or an attempt of 0 or `two` is 422
 * naming the header. Headers the operation does not declare are none of its business.
 */
function checkHeaders(operation: SpecOperation, validator: SchemaValidator, req: IncomingMessage): Reply | undefined {
  for (const parameter of operation.parameters) {
    if (parameter.in !== 'header') continue;
    const sent = req.headers[parameter.name.toLowerCase()];
    if (sent === undefined) {
      if (parameter.required) return error(422, 'invalid_request', `${parameter.name}: is required`, parameter.name);
      continue;
    }
    const raw = Array.isArray(sent) ? sent.join(', ') : sent;
    const textIssue = textProblem(raw);
    if (textIssue) return error(422, 'invalid_request', `${parameter.name}: ${textIssue}`, parameter.name);
    const type = (parameter.schema as SchemaObject).type;
    // A header is text; an integer header must be written as one (no sign, no fraction, no exponent).
    const value = type === 'integer' && /^\d{1,15}$/.test(raw.trim()) ? Number(raw.trim()) : raw;
    const violation = validator.check(parameter.schema, value, parameter.name);
    if (violation) return invalid({ ...violation, message: `${violation.message} (header ${parameter.name}: ${JSON.stringify(raw.slice(0, 100))})` });
  }
  return undefined;
}
