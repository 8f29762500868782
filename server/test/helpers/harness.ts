import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { openStore, startLocalRK, type LocalRK, type LocalRKOptions } from '../../src/index.js';
import type { ServiceName } from '../../src/spec.js';
import type { Storage } from '../../src/storage.js';
import type { Pem } from '../../src/types.js';
import { SpecResponseValidator } from './spec-validator.js';

/** A running local RK with a spec-validating fetch and small helpers for raw HTTP tests. */
export interface Harness {
  rk: LocalRK;
  validator: SpecResponseValidator;
  url(service: ServiceName, path: string): string;
  /** A request whose response is checked against the spec. */
  call(service: ServiceName, method: string, path: string, init?: { body?: unknown; raw?: string | Uint8Array | ReadableStream; headers?: Record<string, string> }): Promise<{ status: number; json: any; text: string; headers: Headers }>;
  /** How many PEMs, artifacts and tags are stored (for "nothing changed" assertions). */
  counts(): Promise<{ pems: number; artifacts: number; tags: number }>;
  stop(): Promise<void>;
}

export async function startHarness(options: LocalRKOptions = {}, headers: Record<string, string> = {}): Promise<Harness> {
  const memory = options.dataDir === undefined && options.databaseUrl === undefined && options.storage === undefined ? true : undefined;
  const rk = await startLocalRK({ memory, graphIntervalMs: 60_000, ...options } as LocalRKOptions);
  const bases = { receiver: rk.receiverUrl, query: rk.queryUrl, 'graph-builder': rk.graphBuilderUrl };
  const validator = await SpecResponseValidator.create(bases);
  const url = (service: ServiceName, path: string) => `${bases[service]}${path}`;
  const harness: Harness = {
    rk,
    validator,
    url,
    async call(service, method, path, init = {}) {
      const body = init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
      const requestInit: RequestInit & { duplex?: 'half' } = {
        method,
        headers: { ...(body === undefined || init.raw !== undefined ? {} : { 'Content-Type': 'application/json' }), ...headers, ...init.headers },
      };
      if (body !== undefined) requestInit.body = body as RequestInit['body'];
      if (body instanceof ReadableStream) requestInit.duplex = 'half';
      const response = await validator.fetch(url(service, path), requestInit);
      const text = await response.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: response.status, json, text, headers: response.headers };
    },
    async counts() {
      const [pems, artifacts, tags] = await Promise.all([
        harness.call('query', 'GET', '/pems_count'),
        harness.call('query', 'GET', '/artifacts_count'),
        harness.call('query', 'GET', '/tags_count'),
      ]);
      return { pems: pems.json.pems_count, artifacts: artifacts.json.artifacts_count, tags: tags.json.tags_count };
    },
    stop: () => rk.stop(),
  };
  return harness;
}

/**
 * `storage` emptied as a new store is: every RK table but rk_meta (the schema version) truncated,
 * identity sequences restarted. The suites of a file share one store this way, each starting from
 * an empty one, where each used to open its own (about 1 CPU-s per PGlite store). The tables are
 * read from the catalog, so a table added to the schema is emptied too (store-scale.test.ts
 * checks that nothing is left, the graph included).
 */
export async function emptied(storage: Storage): Promise<Storage> {
  const tables = await storage.query<{ name: string }>(
    `SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'rk\\_%' AND tablename <> 'rk_meta' ORDER BY tablename`,
  );
  if (tables.length === 0) throw new Error('emptied: the store has no RK tables; open it with openStore()');
  await storage.query(`TRUNCATE ${tables.map((t) => t.name).join(', ')} RESTART IDENTITY`);
  return storage;
}

/**
 * One PGlite store in memory for the calling test file: opened before its first test, closed after
 * its last (call it at the top level of the file). Each call of the returned function gives it
 * emptied, for a suite's server: `startHarness({ storage: await store() })`.
 */
export function fileStore(): () => Promise<Storage> {
  let store: Storage | undefined;
  beforeAll(async () => {
    store = await openStore({ memory: true });
  }, 120_000);
  afterAll(async () => {
    await store?.close();
  });
  return async () => {
    if (!store) throw new Error("the file's PGlite store did not open");
    return emptied(store);
  };
}

export function hexId(): string {
  return randomBytes(16).toString('hex');
}

/** A valid PEM as a client sends it; fields may be overridden. */
export function makePem(overrides: Partial<Pem> = {}): Pem {
  return {
    ID: hexId(),
    Type: 'ingest',
    Predecessor: null,
    Emitter: 'test-emitter',
    TimestampClient: '2026-11-27 22:06:40',
    Properties: { filename: 'data.csv', rows: 3, nested: { ok: true, list: [1, 'two', null] } },
    Version: '2.0.0',
    Tag: 'latest',
    TagNamespace: 'test-emitter',
    UsesArtifacts: [{ Name: `dataset-${hexId().slice(0, 8)}`, Properties: { uri: 's3://bucket/a.csv' }, CreatedAt: null }],
    ProducesArtifacts: [],
    ...overrides,
  };
}

export function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** Polls a report until it is no longer running (bounded; no timing is asserted). */
export async function waitForReport(h: Harness, id: string): Promise<any> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const report = await h.call('query', 'GET', `/report/${id}`);
    if (report.json?.status !== 'running') return report.json;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`report ${id} is still running`);
}
