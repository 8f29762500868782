import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { gunzipSync, inflateSync } from 'node:zlib';
import type { Logger, PemPayload, RKClientLike, RKError, Result, SendAck } from '../public.js';
import { describeEvent, fromOpenLineage } from './openlineage-in.js';
import { OpenLineageRuns } from './openlineage-runs.js';

/**
 * An OpenLineage HTTP endpoint in front of an RKClient: what Airflow, Spark, dbt or Flink send
 * with an `http` transport pointing here (`POST /api/v1/lineage`, one event or an array, and
 * `POST /api/v1/lineage/batch`, an array; gzip or deflate bodies) becomes PEMs. It answers 201
 * only once every PEM of the request is in the client's outbox (or acknowledged by RK), so with
 * an outbox nothing a producer was told is recorded is lost while RK is down.
 */
export interface OpenLineageBridgeOptions {
  /** Sends the PEMs; give it an outbox (`new RKClient(url, emitter, { outbox: { dir } })`) to keep events while RK is down. */
  client: RKClientLike;
  /** Default 127.0.0.1. */
  host?: string | undefined;
  /** Default 5000 (OpenLineage's usual port); 0 picks a free one. */
  port?: number | undefined;
  /** The largest request body, after decompression. Default 8 MiB; larger is a 413. */
  maxBodyBytes?: number | undefined;
  /** Events accepted and not yet in the outbox, across requests. Default 1000; past it a 503 with Retry-After. */
  maxPending?: number | undefined;
  /** The Receiver's `pem_size_limit`: a larger event is refused (400) with the limit named. */
  sizeLimit?: number | undefined;
  /** Seconds a producer is told to wait (`Retry-After`) when the outbox or the bridge is full. Default 5. */
  retryAfterSeconds?: number | undefined;
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (the http transport's `auth.apiKey`). */
  apiKey?: string | undefined;
  /** Runs remembered for folding START into COMPLETE. Default 10 000. */
  maxRuns?: number | undefined;
  logger?: Logger | undefined;
}

/** What the bridge has done since it started. */
export interface OpenLineageBridgeStats {
  requests: number;
  /** Events whose PEM is in the outbox or stored. */
  recorded: number;
  folded: number;
  skipped: number;
  /** Events refused as malformed or too large (400). */
  refused: number;
  /** Requests answered 503 (full or shutting down). */
  deferred: number;
  /** Events in flight to the outbox now. */
  pending: number;
}

export interface OpenLineageBridge {
  /** `http://host:port`; the transport's `url` (its endpoint defaults to `api/v1/lineage`). */
  readonly url: string;
  readonly port: number;
  stats(): OpenLineageBridgeStats;
  /**
   * Stops taking requests (new ones get 503), waits for those in progress, then closes the
   * client: what is in the outbox stays there for the next start. Every call returns the same promise.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

const LINEAGE = /^\/api\/v1\/lineage\/?$/;
const BATCH = /^\/api\/v1\/lineage\/batch\/?$/;

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** A request the bridge cannot take now (full, or shutting down): 503 with Retry-After, counted as deferred. */
class Deferral extends HttpProblem {
  constructor(message: string, extra: Record<string, unknown> = {}) {
    super(503, message, extra);
  }
}

/** Starts the endpoint; resolves once it listens. */
export async function startOpenLineageBridge(options: OpenLineageBridgeOptions): Promise<OpenLineageBridge> {
  const client = options.client;
  if (!client || typeof client.sendPem !== 'function') throw new TypeError('startOpenLineageBridge needs { client }: an RKClient, ideally with an outbox');
  const maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
  const maxPending = options.maxPending ?? 1000;
  const retryAfter = String(options.retryAfterSeconds ?? 5);
  const runs = new OpenLineageRuns(options.maxRuns ?? 10_000);
  const logger = options.logger ?? console;
  const stats: OpenLineageBridgeStats = { requests: 0, recorded: 0, folded: 0, skipped: 0, refused: 0, deferred: 0, pending: 0 };
  const inProgress = new Set<Promise<void>>();
  let closing: Promise<void> | undefined;

  const answer = (res: ServerResponse, status: number, body: Record<string, unknown>, deferred = false) => {
    if (res.headersSent) return;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (deferred) headers['retry-after'] = retryAfter;
    if (closing) headers['connection'] = 'close';
    res.writeHead(status, headers).end(`${JSON.stringify(body)}\n`);
    if (deferred) stats.deferred++;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    stats.requests++;
    const path = new URL(req.url ?? '/', 'http://bridge').pathname;
    const batch = BATCH.test(path);
    if (!batch && !LINEAGE.test(path)) throw new HttpProblem(404, `no such endpoint: ${req.method} ${path}; OpenLineage events go to POST /api/v1/lineage (or /api/v1/lineage/batch)`);
    if (req.method !== 'POST') throw new HttpProblem(405, `${req.method} ${path}: only POST is accepted here`);
    if (closing) throw new Deferral('the bridge is shutting down; send again later');
    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      throw new HttpProblem(401, 'missing or wrong credential: send Authorization: Bearer <api key> (the http transport\'s auth.apiKey)');
    }
    const body = await readBody(req, maxBodyBytes);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (error) {
      throw new HttpProblem(400, `the body is not JSON (${error instanceof Error ? error.message : String(error)}): send one OpenLineage event, or an array of them`);
    }
    const events = Array.isArray(parsed) ? parsed : [parsed];
    if (batch && !Array.isArray(parsed)) throw new HttpProblem(400, 'the batch endpoint takes a JSON array of events; send one event to /api/v1/lineage');
    if (stats.pending + events.length > maxPending) {
      throw new Deferral(`the bridge holds ${stats.pending} events on their way to the outbox (at most ${maxPending}); send again later`);
    }
    const rejected: { index: number; event: string; reason: string }[] = [];
    const pems: { index: number; pem: PemPayload }[] = [];
    let folded = 0;
    let skipped = 0;
    events.forEach((event, index) => {
      const mapped = fromOpenLineage(event, { runs, sizeLimit: options.sizeLimit });
      if (!mapped.ok) rejected.push({ index, event: describeEvent(event), reason: mapped.error.message });
      else if (mapped.value.kind === 'pem') pems.push({ index, pem: mapped.value.pem });
      else if (mapped.value.kind === 'folded') folded++;
      else skipped++;
    });
    stats.pending += pems.length;
    let results: Result<SendAck>[];
    try {
      results = await Promise.all(pems.map(({ pem }) => client.sendPem(pem)));
    } finally {
      stats.pending -= pems.length;
    }
    let deferredBy: RKError | undefined;
    let recorded = 0;
    results.forEach((result, i) => {
      if (result.ok) recorded++;
      else if (result.error.kind === 'queue_full' || result.error.kind === 'shutdown' || result.error.kind === 'connection' || result.error.kind === 'timeout') deferredBy ??= result.error;
      else rejected.push({ index: pems[i]!.index, event: describeEvent(events[pems[i]!.index]), reason: result.error.message });
    });
    stats.recorded += recorded;
    stats.folded += folded;
    stats.skipped += skipped;
    stats.refused += rejected.length;
    const counts = { received: events.length, recorded, folded, skipped };
    if (deferredBy) {
      throw new Deferral(`${pems.length - recorded - rejected.length} of ${events.length} events could not be kept now (${deferredBy.message}); send again later: events already recorded are stored once`, { ...counts, rejected });
    }
    if (rejected.length) {
      rejected.sort((a, b) => a.index - b.index);
      for (const r of rejected) logger.warn(`OpenLineage bridge: refused ${r.event}: ${r.reason}`);
      throw new HttpProblem(400, rejected.length === 1 && events.length === 1 ? rejected[0]!.reason : `${rejected.length} of ${events.length} events could not be recorded; the others were`, { ...counts, rejected });
    }
    answer(res, 201, counts);
  };

  const server: Server = createServer((req, res) => {
    const work = handle(req, res)
      .catch((error: unknown) => {
        if (error instanceof HttpProblem) answer(res, error.status, { error: error.message, ...error.extra }, error instanceof Deferral);
        else {
          logger.warn(`OpenLineage bridge failed on a request: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
          answer(res, 500, { error: 'the bridge failed on this request; see its log' });
        }
      })
      .finally(() => inProgress.delete(work));
    inProgress.add(work);
  });
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 5000, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 5000);
  const host = options.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    stats: () => ({ ...stats }),
    close(closeOptions = {}) {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await Promise.allSettled([...inProgress]);
        server.closeAllConnections();
        await stopped;
        await client.close({ timeoutMs: closeOptions.timeoutMs ?? 10_000 });
      })();
      return closing;
    },
  };
}

/** The request body, decompressed, at most `max` bytes either way (413 past it). */
async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const tooLarge = () => new HttpProblem(413, `the request body is over ${max} bytes, the most this bridge takes (--max-body); send smaller batches`);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) {
      req.resume();
      throw tooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks);
  const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
  try {
    if (encoding === 'gzip' || encoding === 'x-gzip') return gunzipSync(raw, { maxOutputLength: max });
    if (encoding === 'deflate') return inflateSync(raw, { maxOutputLength: max });
  } catch (error) {
    if (error instanceof RangeError || (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
    throw new HttpProblem(400, `the body is not valid ${encoding} (${error instanceof Error ? error.message : String(error)})`);
  }
  if (encoding !== 'identity') throw new HttpProblem(415, `Content-Encoding ${encoding} is not supported: send gzip, deflate or none`);
  return raw;
}
