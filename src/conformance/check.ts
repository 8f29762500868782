import { graphBuilder, query, receiver } from '../generated/facts.js';
import { graphBuilderResponses, queryResponses, receiverResponses } from '../generated/responses.js';
import { VERSION } from '../public.js';
import { facadeCall, PLAN, type CallInput, type Found, type ServiceKey, type Step } from './plan.js';
import { checkReply, type DocumentedResponses, type Drift } from './reply-check.js';
import { SchemaValidator } from './schema-validator.js';

/**
 * `rk conformance`'s engine: calls a live Record Keeper's operations over raw HTTP (it must see
 * statuses, media types, headers and bodies as they are), with the client's own credential header
 * names and User-Agent, and checks each reply against the documented responses. Credentials go
 * only into request headers; every text it reports is scrubbed of them.
 */

/** The services to check and how to reach them; at least one URL. */
export interface ConformanceOptions {
  receiverUrl?: string | undefined;
  queryUrl?: string | undefined;
  graphBuilderUrl?: string | undefined;
  /** A personal credential; wins over `pucAuth` when both are set, as in the client. */
  userAuth?: string | undefined;
  pucAuth?: string | undefined;
  /** Header names, when a deployment renamed them; default the specs' names. */
  userAuthHeader?: string | undefined;
  pucAuthHeader?: string | undefined;
  /** Per request; default 10 000 ms. */
  timeoutMs?: number | undefined;
  /** Also call the writes: send a PEM, set a tag, start the checks. Default false. */
  write?: boolean | undefined;
  /** The emitter of the PEM `--write` sends; default `rk-conformance`. */
  emitter?: string | undefined;
  /** The namespace of the tag `--write` sets; default `rk-conformance`. */
  tagNamespace?: string | undefined;
  /** Certificate checks off for these requests only. */
  insecure?: boolean | undefined;
  /** The fetch to call with (default the global one). */
  fetch?: typeof globalThis.fetch | undefined;
}

/** `ok`: the reply is documented; `drift`: it differs (see the drifts); `skipped`: not called or not checked, with why. */
export type Outcome = 'ok' | 'drift' | 'skipped';

/** One operation's row of the report. */
export interface OperationReport {
  service: 'receiver' | 'query' | 'graph-builder';
  operationId: string;
  /** `GET /pems`, the spec's path template. */
  call: string;
  /** The facade method that makes it, e.g. `RKQuery.getPems`. */
  facade: string;
  /** Whether the client reads the success reply (`known`) or ignores it (`ours`). */
  reply: 'known' | 'ours';
  outcome: Outcome;
  status?: number;
  mediaType?: string;
  /** Why it was skipped, or what the reply said when it was a documented refusal. */
  note?: string;
  drifts: Drift[];
}

/** What `checkConformance` found: a row per operation of the three specs, and the counts. */
export interface ConformanceReport {
  /** The version each service's /info reported. */
  versions: Partial<Record<OperationReport['service'], string>>;
  clientVersion: string;
  write: boolean;
  operations: OperationReport[];
  counts: { ok: number; drift: number; skipped: number; breaking: number; nonBreaking: number };
}

const SERVICES: Record<ServiceKey, { name: OperationReport['service']; facts: { readonly headers: { readonly userAuth: string; readonly pucAuth: string }; readonly operations: object }; responses: object; url: keyof ConformanceOptions; flag: string }> = {
  receiver: { name: 'receiver', facts: receiver, responses: receiverResponses, url: 'receiverUrl', flag: '--receiver or RK_RECEIVER' },
  query: { name: 'query', facts: query, responses: queryResponses, url: 'queryUrl', flag: '--query or RK_QUERY' },
  graphBuilder: { name: 'graph-builder', facts: graphBuilder, responses: graphBuilderResponses, url: 'graphBuilderUrl', flag: '--graph-builder or RK_GRAPH_BUILDER' },
};

interface GeneratedOperation {
  method: string;
  path: string;
  credential: 'optional' | 'required';
  request?: { contentType: string; example: unknown };
  responses: DocumentedResponses;
}

export async function checkConformance(options: ConformanceOptions): Promise<ConformanceReport> {
  const validator = new SchemaValidator({ allErrors: true });
  const secrets = [options.userAuth, options.pucAuth].filter((s): s is string => typeof s === 'string' && s.length > 0);
  const scrub = (text: string) => secrets.reduce((t, secret) => t.split(secret).join('***'), text);
  const fetch = await fetchFor(options);
  const found: Found = {};
  const tagNamespace = options.tagNamespace ?? 'rk-conformance';
  const settings = {
    emitter: options.emitter ?? 'rk-conformance',
    tagNamespace,
    tagName: 'conformance',
    example: (operationId: string) => operationOf(PLAN.find((s) => s.operationId === operationId)!).request?.example,
  };
  const report: ConformanceReport = {
    versions: {},
    clientVersion: VERSION,
    write: options.write === true,
    operations: [],
    counts: { ok: 0, drift: 0, skipped: 0, breaking: 0, nonBreaking: 0 },
  };

  for (const step of PLAN) {
    const service = SERVICES[step.service];
    const operation = operationOf(step);
    const success = Object.keys(operation.responses).find((s) => /^2/.test(s));
    const entry: OperationReport = {
      service: service.name,
      operationId: step.operationId,
      call: `${operation.method} ${operation.path}`,
      facade: facadeCall(step.service, step.operationId),
      reply: success !== undefined && operation.responses[success]?.reply === 'ours' ? 'ours' : 'known',
      outcome: 'skipped',
      drifts: [],
    };
    report.operations.push(entry);
    const base = options[service.url] as string | undefined;
    const input = step.never ? { skip: step.never } : !base ? { skip: `no ${service.name} URL (${service.flag})` } : step.writes && !options.write ? { skip: 'a write: runs only with --write' } : step.input(found, settings);
    if ('skip' in input) {
      entry.note = input.skip;
      continue;
    }
    const credential = credentialHeader(options, service.facts.headers);
    let reply: { status: number; ok: boolean; headers: Headers; text: string };
    try {
      const response = await fetch(urlOf(base!, operation.path, input), {
        method: operation.method,
        headers: {
          'User-Agent': `recordkeeper-client-${VERSION}`,
          ...(input.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
          ...credential,
        },
        ...(input.body !== undefined ? { body: input.body } : {}),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      reply = { status: response.status, ok: response.ok, headers: response.headers, text: await response.text() };
    } catch (error) {
      entry.note = scrub(`no reply: ${reasonOf(error)}`);
      continue;
    }
    const verdict = checkReply(operation.responses, reply, validator);
    entry.status = reply.status;
    entry.mediaType = verdict.mediaType || undefined;
    entry.drifts = verdict.drifts.map((d) => ({ ...d, problem: scrub(d.problem) }));
    if (entry.drifts.length) entry.outcome = 'drift';
    else if (reply.ok) entry.outcome = 'ok';
    else entry.note = scrub(`refused with ${reply.status} (documented): ${explanation(reply.text)}; the success reply was not checked`);
    if (reply.ok) {
      const body = parsed(reply.text);
      step.learn?.(body, found);
      const version = (body as { version?: unknown } | undefined)?.version;
      if (/info$/i.test(step.operationId) && typeof version === 'string') report.versions[service.name] = version;
    }
  }
  for (const op of report.operations) {
    report.counts[op.outcome]++;
    for (const drift of op.drifts) report.counts[drift.breaks ? 'breaking' : 'nonBreaking']++;
  }
  return report;
}

function operationOf(step: Step): GeneratedOperation {
  const operation = (SERVICES[step.service].responses as Record<string, GeneratedOperation>)[step.operationId];
  if (!operation) throw new Error(`conformance: the ${step.service} spec has no operation ${step.operationId}`);
  return operation;
}

/** At most one credential header, user auth first, as the client sends it. */
function credentialHeader(options: ConformanceOptions, names: { userAuth: string; pucAuth: string }): Record<string, string> {
  if (options.userAuth) return { [options.userAuthHeader ?? names.userAuth]: options.userAuth };
  if (options.pucAuth) return { [options.pucAuthHeader ?? names.pucAuth]: options.pucAuth };
  return {};
}

/** The base URL (one trailing `/` dropped, as the reference does) and the path with its parameters, already in wire form. */
function urlOf(base: string, template: string, input: CallInput): string {
  const path = template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = input.pathParams?.[name];
    if (value === undefined) throw new Error(`conformance: no value for {${name}} in ${template}`);
    return value;
  });
  const query = new URLSearchParams(Object.entries(input.query ?? {}).map(([k, v]): [string, string] => [k, String(v)])).toString();
  return `${base.replace(/\/$/, '')}${path}${query ? `?${query}` : ''}`;
}

async function fetchFor(options: ConformanceOptions): Promise<typeof globalThis.fetch> {
  const base = options.fetch ?? globalThis.fetch;
  if (!options.insecure) return base;
  // Certificate checks off for these requests only: undici's own fetch with an Agent of its own.
  const undici = await import('undici');
  const dispatcher = new undici.Agent({ connect: { rejectUnauthorized: false } });
  if (options.fetch) return (input, init) => base(input, { ...init, dispatcher } as unknown as RequestInit);
  return ((input: string, init?: RequestInit) => undici.fetch(input, { ...(init as object), dispatcher } as never)) as unknown as typeof globalThis.fetch;
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The server's explanation in one line: an error JSON's `message`, else the text. */
function explanation(text: string): string {
  const body = parsed(text) as { message?: unknown } | string;
  const message = typeof body === 'object' && body !== null && typeof body.message === 'string' ? body.message : text;
  const line = String(message).replace(/\s+/g, ' ').trim();
  return line.length > 160 ? `${line.slice(0, 160)}…` : line || '(no body)';
}

function reasonOf(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return 'timed out';
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error instanceof Error ? error.message : String(error)}${cause}`;
}
