import { problemOf, type ErrorObject, type JsonSchema, type SchemaValidator } from './schema-validator.js';

/**
 * One reply of a live Record Keeper against the responses its operation documents: the status,
 * the media type, the documented headers and the body's schema. Each difference is a drift at a
 * JSON path, marked as breaking this client or not:
 *
 * - breaks: on a success reply the client reads ("known"), a field the client requires is missing
 *   or has the wrong type, the body is not the documented media type, or it does not parse.
 * - does not break: an extra field, a value outside the documented pattern or enum, an undocumented
 *   status or body on a reply the client ignores ("ours": any 2xx is success), an error reply of
 *   another shape (the client reports any error body in one line).
 */

/** A documented response, as `src/generated/responses.ts` holds it. */
export interface DocumentedResponse {
  readonly reply?: string;
  /** The fields a client relies on (the spec's `x-rk-known`); without it, the schema's `required`. */
  readonly known?: readonly string[];
  readonly content: { readonly [mediaType: string]: unknown };
  readonly headers: { readonly [name: string]: { readonly required: boolean; readonly schema: unknown } };
}

export type DocumentedResponses = { readonly [status: string]: DocumentedResponse };

/** One difference between a reply and its documented responses. */
export interface Drift {
  /** `status`, `content-type`, `header <Name>`, or a JSON path into the body: `$`, `$[0].Name`. */
  readonly where: string;
  readonly problem: string;
  readonly breaks: boolean;
}

export interface Reply {
  readonly status: number;
  /** A 2xx, as fetch's `Response.ok` says. */
  readonly ok: boolean;
  readonly headers: Headers;
  readonly text: string;
}

export interface ReplyVerdict {
  /** The documented response the reply was checked against; undefined when none fits its status. */
  readonly documented: string | undefined;
  readonly mediaType: string;
  readonly drifts: Drift[];
}

export function checkReply(responses: DocumentedResponses, reply: Reply, validator: SchemaValidator): ReplyVerdict {
  const drifts: Drift[] = [];
  const mediaType = (reply.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const statuses = Object.keys(responses);
  const success = reply.ok;
  let documented = statuses.find((s) => s === String(reply.status)) ?? statuses.find((s) => s === `${String(reply.status)[0]}XX`) ?? statuses.find((s) => s === 'default');
  if (documented === undefined) {
    const documentedSuccess = statuses.find((s) => /^2/.test(s));
    drifts.push({
      where: 'status',
      problem: `${reply.status} is not documented (the spec lists ${statuses.join(', ')})${success ? '; this client takes any 2xx as success' : ''}`,
      breaks: false,
    });
    // A 2xx of another number still carries the success reply: its body is checked as that.
    if (!success || documentedSuccess === undefined) return { documented: undefined, mediaType, drifts };
    documented = documentedSuccess;
  }
  const response = responses[documented]!;
  // Only a success body the client reads can break it; the client never requires an error's shape.
  const read = success && response.reply !== 'ours';
  drifts.push(...checkHeaders(response, reply.headers));

  const media = Object.keys(response.content);
  if (media.length === 0) {
    if (reply.text !== '') drifts.push({ where: '$', problem: `a ${reply.status} has no documented body, got ${describeBody(mediaType, reply.text)}`, breaks: false });
    return { documented, mediaType, drifts };
  }
  const schema = response.content[mediaType] as JsonSchema | undefined;
  if (schema === undefined) {
    drifts.push({
      where: 'content-type',
      problem: `is ${mediaType || 'missing'}; the spec lists ${media.join(', ')} (got ${describeBody(mediaType, reply.text)})`,
      breaks: read,
    });
    return { documented, mediaType, drifts };
  }
  let body: unknown = reply.text;
  if (mediaType === 'application/json' || mediaType.endsWith('+json')) {
    try {
      body = JSON.parse(reply.text);
    } catch {
      drifts.push({ where: '$', problem: `is not valid JSON: ${clip(reply.text)}`, breaks: read });
      return { documented, mediaType, drifts };
    }
  }
  const found = schemaDrifts(validator.errors(schema, body), response.known, read);
  // Fields the schema does not name, where it does not say whether others may come: undocumented,
  // and harmless to this client. (Where the schema forbids them, Ajv has named them already.)
  for (const extra of undocumentedFields(schema, body, '')) {
    if (!found.some((d) => d.where === jsonPath(extra))) found.push({ where: jsonPath(extra), problem: 'is not in the spec (an extra field)', breaks: false });
  }
  drifts.push(...found);
  return { documented, mediaType, drifts };
}

/** JSON pointers of the object members a schema's `properties` do not name, when it leaves `additionalProperties` open by omission. */
function undocumentedFields(schema: unknown, value: unknown, pointer: string): string[] {
  if (schema === null || typeof schema !== 'object' || value === null || typeof value !== 'object') return [];
  const node = schema as { properties?: Record<string, unknown>; additionalProperties?: unknown; patternProperties?: unknown; items?: unknown };
  if (Array.isArray(value)) return node.items === undefined ? [] : value.flatMap((item, i) => undocumentedFields(node.items, item, `${pointer}/${i}`));
  if (!node.properties) return [];
  const extras: string[] = [];
  for (const [key, member] of Object.entries(value)) {
    const at = `${pointer}/${escape(key)}`;
    const sub = node.properties[key];
    if (sub !== undefined) extras.push(...undocumentedFields(sub, member, at));
    else if (node.additionalProperties === undefined && node.patternProperties === undefined) extras.push(at);
  }
  return extras;
}

function checkHeaders(response: DocumentedResponse, headers: Headers): Drift[] {
  const drifts: Drift[] = [];
  for (const [name, header] of Object.entries(response.headers)) {
    const value = headers.get(name);
    if (value === null) {
      if (header.required) drifts.push({ where: `header ${name}`, problem: 'is missing (the spec requires it)', breaks: false });
      continue;
    }
    const type = (header.schema as { type?: unknown }).type;
    if ((type === 'integer' || type === 'number') && !/^-?\d+(\.\d+)?$/.test(value.trim())) {
      drifts.push({ where: `header ${name}`, problem: `must be a number, got ${JSON.stringify(clip(value))}`, breaks: false });
    }
  }
  return drifts;
}

/**
 * Ajv's errors as drifts, one per JSON path. The errors of the alternatives of a `oneOf`/`anyOf`
 * become one drift at its path. `known` limits which top-level fields can break the client (the
 * spec's `x-rk-known`); undefined means every required field does.
 */
function schemaDrifts(errors: readonly ErrorObject[], known: readonly string[] | undefined, read: boolean): Drift[] {
  const drifts: Drift[] = [];
  const choices = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf');
  const under = (e: ErrorObject, c: ErrorObject) => e !== c && (e.instancePath === c.instancePath || e.instancePath.startsWith(`${c.instancePath}/`)) && e.schemaPath.startsWith(c.schemaPath.replace(/\/(oneOf|anyOf)$/, ''));
  for (const choice of choices) {
    if (choices.some((outer) => outer !== choice && under(choice, outer))) continue;
    const alternatives = errors.filter((e) => under(e, choice) && e.keyword !== 'oneOf' && e.keyword !== 'anyOf');
    const breaks = read && alternatives.some((e) => (e.keyword === 'type' || e.keyword === 'required') && relies(known, pathOf(e)));
    drifts.push({ where: jsonPath(choice.instancePath), problem: `fits none of the documented forms: ${[...new Set(alternatives.map(phrase))].join('; or ')}`, breaks });
  }
  for (const error of errors) {
    if (choices.some((c) => c === error || under(error, c))) continue;
    const where = pathOf(error);
    const breaks = read && (error.keyword === 'required' || error.keyword === 'type') && relies(known, where);
    drifts.push({ where: jsonPath(where), problem: phrase(error), breaks });
  }
  return drifts;
}

/** The instance path an error is about, including the missing or extra property it names. */
function pathOf(error: ErrorObject): string {
  if (error.keyword === 'required') return `${error.instancePath}/${escape(String(error.params.missingProperty))}`;
  if (error.keyword === 'additionalProperties') return `${error.instancePath}/${escape(String(error.params.additionalProperty))}`;
  return error.instancePath;
}

function phrase(error: ErrorObject): string {
  if (error.keyword === 'required') return 'is missing (the spec requires it)';
  if (error.keyword === 'additionalProperties') return 'is not in the spec (an extra field)';
  return problemOf(error);
}

/** Whether the client relies on the field at `pointer`: its top-level field is in `known`, or no list narrows it. */
function relies(known: readonly string[] | undefined, pointer: string): boolean {
  if (known === undefined) return true;
  const parts = pointer.split('/').slice(1).filter((p) => !/^\d+$/.test(p));
  return parts.length === 0 || known.includes(unescape(parts[0]!));
}

const escape = (name: string) => name.replaceAll('~', '~0').replaceAll('/', '~1');
const unescape = (part: string) => part.replaceAll('~1', '/').replaceAll('~0', '~');

/** A JSON pointer as a JSON path: `/pems/0/ID` becomes `$.pems[0].ID`. */
export function jsonPath(pointer: string): string {
  let path = '$';
  for (const raw of pointer.split('/').slice(1)) {
    const part = unescape(raw);
    path += /^\d+$/.test(part) ? `[${part}]` : /^[A-Za-z_$][\w$]*$/.test(part) ? `.${part}` : `[${JSON.stringify(part)}]`;
  }
  return path;
}

function describeBody(mediaType: string, text: string): string {
  if (text === '') return 'an empty body';
  return `${mediaType || 'untyped'} ${JSON.stringify(clip(text))}`;
}

function clip(text: string, max = 120): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}
