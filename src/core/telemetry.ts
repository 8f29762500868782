import type { RKError } from './errors.js';
import type { Result } from './result.js';

/**
 * OpenTelemetry, when the application has it: `@opentelemetry/api` is an optional peer
 * dependency, imported once (lazily, by the first call) and never required. Without it every
 * hook here is a check of one variable. With it, each call of the client (a sendPem, an RKQuery or
 * RKAdmin method) is one CLIENT span under the active context, with the HTTP client attributes of
 * the OpenTelemetry semantic conventions (of its last request) plus `rk.operation`, `rk.pem.id`,
 * `rk.attempts` and `rk.outcome`. The only hooks into the call path are `traceCall` in
 * `call.ts` (withRetries, and the single-attempt path of callWithRetries) and `activeTraceparent`
 * in RKClient.preparePem (`traceContext: true`).
 */

type OtelApi = typeof import('@opentelemetry/api');

const PACKAGE = '@opentelemetry/api';
let api: OtelApi | null | undefined;
let loading: Promise<void> | undefined;

/** Starts loading the API once; resolves when it is known to be there or not. */
function load(): Promise<void> {
  loading ??= import(/* @vite-ignore */ PACKAGE).then(
    (module: OtelApi & { default?: OtelApi }) => {
      api = module.trace ? module : (module.default ?? null);
    },
    () => {
      api = null;
    },
  );
  return loading;
}

/** What a span needs to know of a call. */
export interface CallTraceInfo {
  /** In words: "Sending PEM". */
  operation: string;
  /** HTTP method and path template of the operation (`POST`, `/pem`). */
  method: string;
  path: string;
  /** The service's base URL, without credentials. */
  url: string;
  /** The PEM this call sends or reads, when there is one. */
  pemId?: string | undefined;
}

/**
 * Runs `call` inside a span when OpenTelemetry is present; otherwise just runs it. The first call
 * waits for the one-time import of the API (a missing package resolves at once).
 */
export async function traceCall<O extends { result: Result<unknown>; attempts: number }>(info: CallTraceInfo, call: (seen: { status?: number }) => Promise<O>): Promise<O> {
  if (api === undefined) await load();
  const otel = api;
  if (!otel) return call({});
  const tracer = otel.trace.getTracer('recordkeeper-client');
  const parent = otel.context.active();
  const span = tracer.startSpan(`${info.method} ${info.path}`, { kind: otel.SpanKind.CLIENT }, parent);
  if (!span.isRecording()) return call({});
  const target = new URL(info.url);
  span.setAttributes({
    'http.request.method': info.method,
    'url.full': `${info.url.replace(/\/+$/, '')}${info.path}`,
    'url.template': info.path,
    'server.address': target.hostname,
    'server.port': Number(target.port) || (target.protocol === 'https:' ? 443 : 80),
    'rk.operation': info.operation,
  });
  if (info.pemId !== undefined) span.setAttribute('rk.pem.id', info.pemId);
  const seen: { status?: number } = {};
  try {
    const outcome = await otel.context.with(otel.trace.setSpan(parent, span), () => call(seen));
    const { result, attempts } = outcome;
    span.setAttribute('rk.attempts', attempts);
    if (attempts > 1) span.setAttribute('http.request.resend_count', attempts - 1);
    const status = result.ok ? seen.status : statusOf(result.error);
    if (status !== undefined) span.setAttribute('http.response.status_code', status);
    if (result.ok) {
      const ack = result.value as { status?: unknown } | null;
      span.setAttribute('rk.outcome', typeof ack?.status === 'string' ? ack.status : 'ok');
    } else {
      span.setAttribute('rk.outcome', result.error.kind);
      span.setAttribute('error.type', status !== undefined ? String(status) : result.error.name);
      span.setStatus({ code: otel.SpanStatusCode.ERROR, message: result.error.message });
    }
    return outcome;
  } finally {
    span.end();
  }
}

function statusOf(error: RKError): number | undefined {
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' ? status : undefined;
}

/**
 * The W3C `traceparent` of the active span (`00-<trace id>-<span id>-<flags>`), or undefined when
 * there is none or OpenTelemetry is not there. Synchronous: preparePem cannot wait, so it is
 * undefined until the API has been looked for (any client call or `loadTelemetry()` starts that).
 */
export function activeTraceparent(): string | undefined {
  if (api === undefined) void load();
  const context = api?.trace.getActiveSpan()?.spanContext();
  if (!context || !api!.isSpanContextValid(context)) return undefined;
  return `00-${context.traceId}-${context.spanId}-${context.traceFlags.toString(16).padStart(2, '0')}`;
}

/** Looks for `@opentelemetry/api` now; resolves to whether it is there. */
export async function loadTelemetry(): Promise<boolean> {
  await load();
  return api !== null && api !== undefined;
}
