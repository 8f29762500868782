import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RKAdmin, RKClient, RKInvalidInputError, RKQuery } from '../../src/index.js';

/**
 * Property-style: every public method of the three facades gets hostile values (a small seeded
 * generator of our own) in every argument. Network methods must resolve, never reject, and a
 * failure must be an RKError; constructors, preparePem and prepareArtifact throw only
 * RKInvalidInputError. No message or stack may carry the credential.
 */

const SECRET = 'sup3r-s3cret-t0ken';

/** A deterministic generator (mulberry32), so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hostileValues(): unknown[] {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const nullProto = Object.create(null) as Record<string, unknown>;
  nullProto.timeoutMs = 10;
  const throwingGetter = {
    get timeoutMs(): number {
      throw new Error(`getter threw ${SECRET}`);
    },
    get signal(): AbortSignal {
      throw new Error(`getter threw ${SECRET}`);
    },
  };
  const throwingProxy = new Proxy(
    {},
    {
      get() {
        throw new Error(`proxy get ${SECRET}`);
      },
      ownKeys() {
        throw new Error(`proxy keys ${SECRET}`);
      },
      getPrototypeOf() {
        throw new Error(`proxy proto ${SECRET}`);
      },
      has() {
        throw new Error(`proxy has ${SECRET}`);
      },
    },
  );
  return [
    ...trickyObjects(),
    undefined,
    null,
    0,
    -1,
    NaN,
    Infinity,
    2 ** 53,
    10n,
    '',
    ' ',
    '\u0000',
    '\ud800',
    'x'.repeat(100_000),
    '/../../etc/passwd',
    '../../x',
    `http://user:${SECRET}@example.invalid/`,
    'not-a-credential\r\nX-Injected: 1',
    Symbol('s'),
    () => 1,
    [],
    [1, 2],
    {},
    { signal: 'not a signal' },
    { signal: null },
    { signal: {} },
    { timeoutMs: 10n },
    { timeoutMs: -5 },
    { totalTimeoutMs: NaN },
    { idempotencyKey: 'a\nb' },
    { pageSize: 10n, pageIndex: 0 },
    { filters: cyclic },
    { filters: { Type: 10n } },
    { properties: cyclic },
    { properties: { big: 1n } },
    { predecessor: '../../x' },
    { tagName: 'n'.repeat(300) },
    cyclic,
    nullProto,
    throwingGetter,
    throwingProxy,
    new Date(NaN),
    new Map(),
    Object.freeze({ timeoutMs: 1 }),
  ];
}

/**
 * Objects that break code which reads them carelessly: no prototype (no toString), proxies that
 * throw or pretend to be plain objects, a revoked proxy, conversions that throw.
 */
function trickyObjects(): unknown[] {
  const thrower = () => {
    throw new Error(`read ${SECRET}`);
  };
  const revocable = Proxy.revocable({}, {});
  revocable.revoke();
  const pretending = new Proxy({ Name: 'x' }, { getPrototypeOf: () => Object.prototype, ownKeys: () => ['Name'], get: thrower, getOwnPropertyDescriptor: () => ({ value: 1, enumerable: true, configurable: true }) });
  const nullProtoFilled = Object.assign(Object.create(null) as object, { Name: 'x', Type: 'train', pageSize: 1 });
  return [
    Object.create(null),
    nullProtoFilled,
    revocable.proxy,
    pretending,
    new Proxy([], { get: thrower }),
    { toString: thrower, valueOf: thrower, [Symbol.toPrimitive]: thrower },
    { toJSON: thrower },
    Object.defineProperty({}, 'Name', { get: thrower, enumerable: true }),
  ];
}

/** Each tricky object where options put objects and values: at the top and one level down. */
function nestedHostileValues(): unknown[] {
  const keys = ['source', 'filters', 'pageSize', 'pageIndex', 'sortField', 'sortOrder', 'signal', 'timeoutMs', 'totalTimeoutMs', 'idempotencyKey', 'properties', 'tagName', 'predecessor', 'type'];
  return trickyObjects().flatMap((tricky) => [
    tricky,
    ...keys.map((key) => ({ [key]: tricky })),
    { filters: { Name: tricky } },
    { filters: { Type: tricky, Emitter: 'e' } },
  ]);
}

// These run thousands of times: expect() only when the check fails (its message is the same), and
// the stack as V8 writes it (see rawStack).
function noSecret(text: unknown): void {
  const written = String(text);
  if (written.includes(SECRET)) expect(written).not.toContain(SECRET);
}

function checkError(error: unknown): void {
  if (!(error instanceof Error)) expect(error).toBeInstanceOf(Error);
  noSecret((error as Error).message);
  noSecret(rawStack(error as Error));
}

/**
 * The stack as V8 writes it, without the test runner's source mapping of every frame (which was
 * most of this file's CPU): the same message and function names, so the same text as far as a
 * credential goes; only the file positions differ.
 */
function rawStack(error: Error): string | undefined {
  const errors = Error as { prepareStackTrace?: unknown };
  const mapped = errors.prepareStackTrace;
  errors.prepareStackTrace = undefined;
  try {
    return error.stack;
  } finally {
    errors.prepareStackTrace = mapped;
  }
}

/** A hostile value in words, without converting it (that may throw). */
function describeValue(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'object' && item !== null && Object.getPrototypeOf(item) === null ? '[no prototype]' : item)) ?? typeof value;
  } catch {
    return `a ${typeof value} that cannot be read`;
  }
}

const fetchOk: typeof fetch = async () => new Response('{"pems_count": 1}', { status: 200, headers: { 'Content-Type': 'application/json' } });

describe('hostile values in every public method', () => {
  const values = hostileValues();
  const random = rng(20261201);
  const pick = () => values[Math.floor(random() * values.length)];

  it('constructors, preparePem and prepareArtifact throw only RKInvalidInputError, without the credential', { timeout: 60_000 }, () => {
    const makers: ((a: unknown, b: unknown) => unknown)[] = [
      (a) => new RKClient(a as string, 'emitter', { fetch: fetchOk }),
      (a) => new RKClient('http://127.0.0.1:9/receiver', a as string),
      (a) => new RKClient('http://127.0.0.1:9/receiver', 'e', a as never),
      (a) => new RKClient('http://127.0.0.1:9/receiver', 'e', { pucAuth: a as string }),
      (a) => new RKClient('http://127.0.0.1:9/receiver', 'e', { retry: a as never }),
      (a) => new RKClient('http://127.0.0.1:9/receiver', 'e', { queue: a as never }),
      (a) => new RKClient('http://127.0.0.1:9/receiver', 'e', { outbox: a as never }),
      (a) => new RKQuery(a as string),
      (a) => new RKQuery('http://127.0.0.1:9/query', a as never),
      (a, b) => new RKAdmin(a as string, b as string),
      (a) => new RKAdmin('http://127.0.0.1:9/q', 'http://127.0.0.1:9/g', a as never),
      (a) => new RKClient(`http://user:${SECRET}@127.0.0.1:9/`, 'e', a as never),
      (a) => new RKClient('http://127.0.0.1:9/', 'e', { userAuth: `${SECRET}\n`, ...(typeof a === 'object' ? {} : {}) }),
    ];
    const rk = new RKClient('http://127.0.0.1:9/receiver', 'e', { fetch: fetchOk });
    const prepare: ((a: unknown, b: unknown) => unknown)[] = [
      (a, b) => rk.preparePem(a as string, b as never),
      (a) => rk.preparePem('train', a as never),
      (a, b) => rk.prepareArtifact(a as string, b as never),
      (a) => rk.prepareArtifact('name', a as never),
      (a) => rk.preparePem('t').usesArtifact(a as never),
      (a) => rk.preparePem('t').producesArtifact(a as never),
    ];
    for (const make of [...makers, ...prepare]) {
      for (const a of values) {
        for (const b of [pick(), pick()]) {
          try {
            make(a, b);
          } catch (error) {
            expect(error, `maker ${makers.indexOf(make as never)} ${prepare.indexOf(make as never)}: ${String((error as Error)?.message)}`).toBeInstanceOf(RKInvalidInputError);
            checkError(error);
          }
        }
      }
    }
  });

  it('network methods resolve to a Result for any arguments and never leak the credential', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rk-hostile-'));
    const logged: string[] = [];
    const logger = { warn: (m: string) => logged.push(m), debug: (m: string) => logged.push(m) };
    const options = { fetch: fetchOk, pucAuth: SECRET, retry: false as const, logger, timeoutMs: 2000 };
    const rk = new RKClient('http://127.0.0.1:9/receiver', 'e', { ...options, outbox: { dir, fsync: false } });
    const q = new RKQuery('http://127.0.0.1:9/query', options);
    const admin = new RKAdmin('http://127.0.0.1:9/query', 'http://127.0.0.1:9/gb', options);
    const methods: Record<string, (a: unknown, b: unknown, c: unknown) => Promise<unknown>> = {
      sendPem: (a, b) => rk.sendPem(a as never, b as never),
      sendPemCall: (a) => rk.sendPem(rk.preparePem('t'), a as never),
      setTag: (a, b, c) => rk.setTag(a as string, b as string, c as string),
      setTagCall: (a) => rk.setTag('ns', 'tag', 'a'.repeat(32), a as never),
      getInfo: (a) => rk.getInfo(a as never),
      getPem: (a, b) => q.getPem(a as string, b as never),
      getPems: (a, b) => q.getPems(a as never, b as never),
      getPemsCount: (a, b) => q.getPemsCount(a as never, b as never),
      getArtifact: (a, b) => q.getArtifact(a as string, b as never),
      getArtifactLatest: (a, b) => q.getArtifactLatest(a as string, b as never),
      getArtifacts: (a, b) => q.getArtifacts(a as never, b as never),
      getArtifactsCount: (a, b) => q.getArtifactsCount(a as never, b as never),
      getTag: (a, b, c) => q.getTag(a as string, b as string, c as never),
      getTags: (a) => q.getTags(a as never),
      getTagsCount: (a) => q.getTagsCount(a as never),
      queryGraph: (a, b, c) => q.queryGraph(a as string, b as never, c as never),
      checkConnections: (a) => admin.checkConnections(a as never),
      cleanDbs: (a) => admin.cleanDbs(a as never),
      graphRebuild: (a) => admin.graphRebuild(a as never),
      graphFlush: (a) => admin.graphFlush(a as never),
      graphVerify: (a, b) => admin.graphVerify(a as never, b as never),
      getGraphInfo: (a) => admin.getGraphInfo(a as never),
      getReport: (a, b) => admin.getReport(a as string, b as never),
      artifactsVerifyConnections: (a) => admin.artifactsVerifyConnections(a as never),
      artifactsRemoveUnconnected: (a, b) => admin.artifactsRemoveUnconnected(a as string, b as never),
      flush: (a) => rk.flush(a as never),
      // call(operationId, input, call): any operationId, any input, any call options.
      clientCall: (a, b, c) => (rk.call as (...args: unknown[]) => Promise<unknown>)(a, b, c),
      queryCall: (a, b, c) => (q.call as (...args: unknown[]) => Promise<unknown>)(a, b, c),
      queryCallGetPem: (a, b) => (q.call as (...args: unknown[]) => Promise<unknown>)('getPem', a, b),
      queryCallListPems: (a, b) => (q.call as (...args: unknown[]) => Promise<unknown>)('listPems', { query: a }, b),
      adminCall: (a, b, c) => (admin.call as (...args: unknown[]) => Promise<unknown>)(a, b, c),
      adminCallVerify: (a, b) => (admin.call as (...args: unknown[]) => Promise<unknown>)('verifyGraph', { body: a }, b),
    };
    try {
      for (const [name, method] of Object.entries(methods)) {
        for (const a of values) {
          let outcome: unknown;
          try {
            outcome = await method(a, pick(), pick());
          } catch (error) {
            throw new Error(`${name} rejected for ${typeof a}: ${(error as Error)?.message}`);
          }
          if (typeof outcome !== 'object') expect(outcome, name).toBeTypeOf('object');
          const result = outcome as { ok?: boolean; error?: unknown };
          if (result.ok === false) checkError(result.error);
        }
      }
      // A PEM whose ID was changed after preparePem is refused, and never becomes a path.
      const pem = rk.preparePem('t');
      (pem as { ID: string }).ID = '/../../escaped';
      const sent = await rk.sendPem(pem);
      expect(sent.ok).toBe(false);
      expect(!sent.ok && sent.error).toBeInstanceOf(RKInvalidInputError);
      expect(!sent.ok && sent.error.message).toContain('pem.ID');
      const closed = await rk.close(null as never);
      expect(closed).toMatchObject({ timedOut: expect.any(Boolean) });
      expect(await rk.flush(null as never)).toMatchObject({ timedOut: expect.any(Boolean) });
      for (const line of logged) noSecret(line);
      // Nothing but entry names in the outbox, and nothing outside it.
      for (const name of readdirSync(dir)) expect(name).toMatch(/^(dead|outbox\.lock|\d{18}-\d{10}-\d{8}-[0-9a-f]{32}\.pem)$/);
      for (const name of readdirSync(join(dir, 'dead'))) noSecret(readFileSync(join(dir, 'dead', name), 'utf8'));
    } finally {
      await rk.close({ timeoutMs: 100 });
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('every argument of every network method may be a null-prototype object, a proxy or a getter that throws, at any depth', async () => {
    const logged: string[] = [];
    const options = { fetch: fetchOk, pucAuth: SECRET, retry: false as const, logger: { warn: (m: string) => logged.push(m) }, timeoutMs: 2000 };
    const rk = new RKClient('http://127.0.0.1:9/receiver', 'e', options);
    const q = new RKQuery('http://127.0.0.1:9/query', options);
    const admin = new RKAdmin('http://127.0.0.1:9/query', 'http://127.0.0.1:9/gb', options);
    const id = 'a'.repeat(32);
    const report = '5f0c6c1e-2a4b-4c5d-9e8f-0a1b2c3d4e5f';
    // Each method with its arguments valid but the one at each position in turn.
    const methods: Record<string, [arity: number, call: (args: unknown[]) => Promise<unknown>]> = {
      sendPem: [2, ([a, b]) => rk.sendPem((a ?? rk.preparePem('t')) as never, b as never)],
      setTag: [4, ([a, b, c, d]) => rk.setTag((a ?? 'ns') as string, (b ?? 'tag') as string, (c ?? id) as string, d as never)],
      getInfo: [1, ([a]) => rk.getInfo(a as never)],
      queryInfo: [1, ([a]) => q.getInfo(a as never)],
      getPem: [2, ([a, b]) => q.getPem((a ?? id) as string, b as never)],
      getPems: [2, ([a, b]) => q.getPems(a as never, b as never)],
      getPemsCount: [2, ([a, b]) => q.getPemsCount(a as never, b as never)],
      getArtifact: [3, ([a, b, c]) => q.getArtifact((a ?? 'model') as string, b as never, c as never)],
      getArtifactLatest: [2, ([a, b]) => q.getArtifactLatest((a ?? 'model') as string, b as never)],
      getArtifacts: [2, ([a, b]) => q.getArtifacts(a as never, b as never)],
      getArtifactsCount: [2, ([a, b]) => q.getArtifactsCount(a as never, b as never)],
      getTag: [3, ([a, b, c]) => q.getTag((a ?? 'ns') as string, (b ?? 'tag') as string, c as never)],
      getTags: [1, ([a]) => q.getTags(a as never)],
      getTagsCount: [1, ([a]) => q.getTagsCount(a as never)],
      queryGraph: [3, ([a, b, c]) => q.queryGraph((a ?? 'MATCH (n) RETURN n') as string, (b ?? 'r') as never, c as never)],
      adminQueryGraph: [3, ([a, b, c]) => admin.queryGraph((a ?? 'MATCH (n) RETURN n') as string, (b ?? 'r') as never, c as never)],
      checkConnections: [1, ([a]) => admin.checkConnections(a as never)],
      cleanDbs: [1, ([a]) => admin.cleanDbs(a as never)],
      graphRebuild: [1, ([a]) => admin.graphRebuild(a as never)],
      graphFlush: [1, ([a]) => admin.graphFlush(a as never)],
      graphVerify: [2, ([a, b]) => admin.graphVerify(a as never, b as never)],
      getGraphInfo: [1, ([a]) => admin.getGraphInfo(a as never)],
      getReport: [2, ([a, b]) => admin.getReport((a ?? report) as string, b as never)],
      artifactsVerifyConnections: [1, ([a]) => admin.artifactsVerifyConnections(a as never)],
      artifactsRemoveUnconnected: [2, ([a, b]) => admin.artifactsRemoveUnconnected((a ?? report) as string, b as never)],
      flush: [1, ([a]) => rk.flush(a as never)],
    };
    const values = nestedHostileValues();
    const rejected = new Set<string>();
    let calls = 0;
    try {
      for (const [name, [arity, method]] of Object.entries(methods)) {
        for (let position = 0; position < arity; position++) {
          for (const value of values) {
            const args: unknown[] = [undefined, undefined, undefined, undefined];
            args[position] = value;
            let outcome: unknown;
            try {
              outcome = await method(args);
            } catch (error) {
              rejected.add(`${name} rejected with argument ${position + 1} ${describeValue(value)}: ${String((error as Error)?.message)}`);
              continue;
            }
            calls++;
            if (typeof outcome !== 'object') expect(outcome, name).toBeTypeOf('object');
            const result = outcome as { ok?: boolean; error?: unknown };
            if (result.ok === false) checkError(result.error);
          }
        }
      }
      // close() too, once per value, each on a client of its own.
      for (const value of values) {
        const closing = new RKClient('http://127.0.0.1:9/receiver', 'e', options);
        await closing.close(value as never).then(
          (report) => expect(report).toMatchObject({ timedOut: expect.any(Boolean) }),
          (error: unknown) => rejected.add(`close rejected with ${describeValue(value)}: ${String((error as Error)?.message)}`),
        );
      }
      expect([...rejected]).toEqual([]);
      expect(calls).toBeGreaterThan(5000);
      for (const line of logged) noSecret(line);
    } finally {
      await rk.close({ timeoutMs: 100 });
    }
  }, 120_000);

  it('a credential in the URL or with invalid header characters never appears in the error', () => {
    for (const make of [
      () => new RKClient(`http://user:${SECRET}@127.0.0.1:9/`, 'e'),
      () => new RKQuery(`https://${SECRET}@127.0.0.1:9/`),
      () => new RKClient('http://127.0.0.1:9/', 'e', { userAuth: `${SECRET}\r\n` }),
      () => new RKClient('http://127.0.0.1:9/', 'e', { pucAuth: ` ${SECRET}` }),
      () => new RKAdmin('http://127.0.0.1:9/', 'http://127.0.0.1:9/', { userAuth: `a\u0000${SECRET}` }),
    ]) {
      let thrown: unknown;
      try {
        make();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(RKInvalidInputError);
      checkError(thrown);
    }
  });

  it('refuses text past the spec maxLength before sending, naming the argument and the limit', async () => {
    const rk = new RKClient('http://127.0.0.1:9/receiver', 'e', { fetch: fetchOk });
    expect(() => rk.prepareArtifact('n'.repeat(513))).toThrow(/name is longer than 512 characters/);
    expect(() => rk.prepareArtifact('🦊'.repeat(512))).not.toThrow();
    expect(() => rk.preparePem('t'.repeat(257))).toThrow(/type is longer than 256/);
    expect(() => rk.preparePem('t', { tagName: 'x'.repeat(257) })).toThrow(/tagName is longer than 256/);
    const tag = await rk.setTag('n'.repeat(257), 't', 'a'.repeat(32));
    expect(!tag.ok && tag.error.message).toMatch(/namespace is longer than 256/);
  });
});
