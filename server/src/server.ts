import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Auth, assertAuthOperations, type AuthOptions } from './auth.js';
import { GraphBuilder } from './graph.js';
import { createHandlers } from './handlers.js';
import { createRequestListener, internalError, SERVICE_PREFIX } from './http.js';
import { Records } from './records.js';
import { repliesMode, type RepliesMode } from './replies.js';
import { assertCurrentSchema, RK_SCHEMA } from './schema.js';
import { constOf, findOperation, loadSpecs } from './spec.js';
import { acceptedHostsText, normalizeOrigin } from './site.js';
import { openStorage, type Storage, type StorageOptions } from './storage.js';

export interface LocalRKOptions extends AuthOptions {
  /** TCP port for all three services; 0 (default) picks a free one. */
  port?: number;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Keep the data in this directory (PGlite). */
  dataDir?: string;
  /** Keep the data in memory (PGlite); the default when neither dataDir nor databaseUrl is given. */
  memory?: boolean;
  /** Use this PostgreSQL server instead of PGlite (`postgres://user:pass@host:port/db`). */
  databaseUrl?: string;
  /**
   * Serve from a store that is already open, made with `openStore(...)`; it stays
   * open when the server stops, for the caller to close or to serve again. Several servers in turn
   * (other credentials, reply modes or limits) then share one database instead of opening one each.
   */
  storage?: Storage;
  /** The largest PEM accepted, in bytes of its JSON; default 1 MiB. */
  pemSizeLimit?: number;
  /** Milliseconds between two runs of the Graph Builder loop; default 1000. */
  graphIntervalMs?: number;
  /**
   * How answers are worded: `rich` (default) answers the JSON acknowledgements and JSON errors the
   * specs describe first; `reference` answers only the publicly known forms of the real RK
   * (`Ack getting <Type>`, `OK`, an empty tag reply, one-line text errors). See replies.ts.
   */
  replies?: RepliesMode;
  /** The OpenAPI directory; default the package's (or the repository's) `openapi/`. */
  specDir?: string;
  /**
   * Origins a browser client may call from (CORS), e.g. `['http://localhost:5173']`; `'*'` allows
   * any. Default none: cross-site requests that change state are refused.
   */
  cors?: readonly string[];
  /**
   * Host names (without port) to answer besides localhost and the bound address: state changes
   * always, and without credentials every request (a foreign Host is DNS rebinding).
   */
  allowedHosts?: readonly string[];
  /** Where unexpected errors are reported; default console.error. */
  onError?: (error: unknown) => void;
  /**
   * Where notes that are no fault of the server go, one line each (a client that closed the
   * connection mid-upload); default console.log with the `recordkeeper-local: info:` prefix.
   */
  onInfo?: (line: string) => void;
}

export interface LocalRK {
  /** Base URLs, without a trailing slash, e.g. `http://127.0.0.1:8082/receiver`. */
  receiverUrl: string;
  queryUrl: string;
  graphBuilderUrl: string;
  port: number;
  /** How this server words its answers. */
  replies: RepliesMode;
  /** The database the server uses, for tests and tools. */
  storage: Storage;
  /**
   * Without credentials, the Host names it answers (every request with another Host is refused),
   * as its start-up lines say: `localhost, 127.0.0.1, [::1] (add names with --allowed-host)`.
   * Undefined when credentials are configured (then only state changes check the Host).
   */
  answeredHosts: string | undefined;
  /** Stops listening, waits for requests and reports in progress, stops the loop, closes the database. */
  stop(): Promise<void>;
}

export const DEFAULT_PEM_SIZE_LIMIT = 1024 * 1024;
export const DEFAULT_GRAPH_INTERVAL_MS = 1000;

export async function startLocalRK(options: LocalRKOptions = {}): Promise<LocalRK> {
  const pemSizeLimit = options.pemSizeLimit ?? DEFAULT_PEM_SIZE_LIMIT;
  if (!Number.isSafeInteger(pemSizeLimit) || pemSizeLimit < 1) throw new Error(`pemSizeLimit must be a whole number of bytes from 1, got ${pemSizeLimit}`);
  const graphIntervalMs = options.graphIntervalMs ?? DEFAULT_GRAPH_INTERVAL_MS;
  if (!Number.isFinite(graphIntervalMs) || graphIntervalMs < 10) throw new Error(`graphIntervalMs must be at least 10, got ${graphIntervalMs}`);
  const chosen = [
    options.memory ? 'memory' : undefined,
    options.dataDir === undefined ? undefined : 'dataDir',
    options.databaseUrl === undefined ? undefined : 'databaseUrl',
    options.storage === undefined ? undefined : 'storage',
  ].filter(Boolean);
  if (chosen.length > 1) throw new Error(`choose one of memory, dataDir, databaseUrl and storage, not ${chosen.join(' and ')}`);
  const replies = repliesMode(options.replies);
  const cors = checkOrigins(options.cors);
  const allowedHosts = [...(options.allowedHosts ?? [])];
  if (allowedHosts.some((h) => typeof h !== 'string' || !/^[A-Za-z0-9.-]+$/.test(h))) throw new Error('allowedHosts must be host names without port');

  const specs = await loadSpecs(options.specDir);
  assertAuthOperations(specs);
  const auth = new Auth(specs, options);
  const pemVersion = constOf(findOperation(specs, 'sendPem').requestBody?.content['application/json']?.schema, 'Version');
  if (typeof pemVersion !== 'string') throw new Error('recordkeeper-local: the receiver spec fixes no PEM Version');

  const storageOptions: StorageOptions =
    options.databaseUrl !== undefined ? { databaseUrl: options.databaseUrl } : options.dataDir !== undefined ? { dataDir: options.dataDir } : { memory: true };
  // A store the caller opened is the caller's to close, on a failed start too.
  const given = options.storage;
  if (given) await assertCurrentSchema(given);
  const storage = given ?? (await openStorage(storageOptions, RK_SCHEMA));
  const closeOwn = async () => {
    if (!given) await storage.close();
  };
  let server: Server | undefined;
  let graph: GraphBuilder | undefined;
  const jobs = new Set<Promise<void>>();
  const onError = options.onError ?? ((error: unknown) => console.error('recordkeeper-local:', error));
  try {
    const records = new Records(storage);
    graph = new GraphBuilder(storage, { intervalMs: graphIntervalMs });
    const handlers = createHandlers({
      records,
      graph,
      auth,
      pemSizeLimit,
      versions: { receiver: specs.receiver.version, query: specs.query.version, graphBuilder: specs['graph-builder'].version, pem: pemVersion },
      background(work) {
        const job: Promise<void> = work()
          .catch((error: unknown) => onError(internalError(error, 'a background report')))
          .finally(() => jobs.delete(job));
        jobs.add(job);
      },
    });
    const host = options.host ?? '127.0.0.1';
    const listener = createRequestListener({
      specs,
      auth,
      handlers,
      pemSizeLimit,
      replies,
      site: { cors, allowedHosts, boundHost: host },
      onError: (error) => onError(error),
      onInfo: options.onInfo ?? ((line: string) => console.log(`recordkeeper-local: info: ${line}`)),
    });
    server = createServer({ keepAliveTimeout: 5000 }, listener);
    await listen(server, options.port ?? 0, host);
    graph.start();
  } catch (error) {
    await graph?.stop();
    server?.close();
    await closeOwn();
    throw error;
  }

  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const origin = `http://${host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host}:${address.port}`;
  let stopping: Promise<void> | undefined;
  const runningServer = server;
  const runningGraph = graph;
  return {
    receiverUrl: `${origin}${SERVICE_PREFIX.receiver}`,
    queryUrl: `${origin}${SERVICE_PREFIX.query}`,
    graphBuilderUrl: `${origin}${SERVICE_PREFIX['graph-builder']}`,
    port: address.port,
    replies,
    storage,
    answeredHosts: auth.required ? undefined : acceptedHostsText({ cors, allowedHosts, boundHost: options.host ?? '127.0.0.1' }),
    stop() {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => runningServer.close(() => resolve()));
        runningServer.closeIdleConnections();
        // Requests in progress get a moment to finish; then their connections are cut.
        const grace = setTimeout(() => runningServer.closeAllConnections(), 2000);
        grace.unref();
        await closed;
        clearTimeout(grace);
        await runningGraph.stop();
        while (jobs.size) await Promise.allSettled([...jobs]);
        await closeOwn();
      })();
      return stopping;
    },
  };
}

/**
 * A store with the RK schema, for `startLocalRK({ storage })`: the caller closes it. PGlite in
 * memory, in a directory, or a PostgreSQL server, as the options of startLocalRK choose.
 */
export function openStore(options: StorageOptions): Promise<Storage> {
  return openStorage(options, RK_SCHEMA);
}

function checkOrigins(origins: readonly string[] | undefined): string[] {
  const list = [...(origins ?? [])];
  for (const origin of list) {
    if (typeof origin !== 'string' || normalizeOrigin(origin) === undefined) {
      throw new Error(`cors: ${JSON.stringify(String(origin))} is not an origin; give one like http://localhost:5173, or *`);
    }
  }
  return list;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
