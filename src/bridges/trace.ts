import { asFailure, RKError, RKInvalidInputError, type CallOptions, type Result, type StoredPem } from '../public.js';

/**
 * The PEMs of one OpenTelemetry trace: those whose Properties carry a `traceparent` of that trace
 * (stamped by preparePem with `traceContext: true`). The Query service cannot filter on
 * Properties, so this reads every PEM page by page (one page in memory) and keeps the matches,
 * oldest first. Resolves to a Result like every network method; never rejects.
 */
export async function pemsOfTrace(
  query: { pems(options?: { pageSize?: number }, call?: CallOptions): AsyncIterable<StoredPem> },
  traceId: string,
  call?: CallOptions,
): Promise<Result<StoredPem[]>> {
  const id = String(traceId).trim().toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(id) || /^0+$/.test(id)) {
    return { ok: false, error: new RKInvalidInputError('Finding the PEMs of a trace', 'traceId', `must be 32 hex digits, not all zero (the second field of a traceparent), got ${JSON.stringify(traceId)}`) };
  }
  const found: StoredPem[] = [];
  try {
    for await (const pem of query.pems({ pageSize: 1000 }, call)) {
      if (traceOf(pem) === id) found.push(pem);
    }
  } catch (error) {
    if (error instanceof RKError) return { ok: false, error: asFailure(error) };
    throw error;
  }
  found.sort((a, b) => (a.TimestampClient < b.TimestampClient ? -1 : a.TimestampClient > b.TimestampClient ? 1 : 0));
  return { ok: true, value: found };
}

/** The trace ID of a PEM's `traceparent`, or undefined. */
export function traceOf(pem: { Properties?: unknown }): string | undefined {
  const parent = (pem.Properties as { traceparent?: unknown } | undefined)?.traceparent;
  if (typeof parent !== 'string') return undefined;
  const match = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}/.exec(parent.trim().toLowerCase());
  return match?.[1];
}
