import { describe, expect, it } from 'vitest';
import { FACADE_OPERATIONS, type FacadeEntry } from '../../src/facade-operations.js';
import { RKAdmin, RKClient, RKQuery, type Logger, type Result } from '../../src/index.js';
import { prismFetch } from '../helpers/prism-fetch.js';
import { expectNoViolations, usePrismMocks } from './mocks.js';

/**
 * Every suite against `npm run mock`'s setup (Prism behind its thin layer), on one Prism per API
 * for all of them (a Prism costs about 3 CPU s to start): the facades one by one against their
 * specs (rk-client.ts, rk-query.ts, rk-admin.ts), then the walk of this file. The walk: every
 * facade call with nothing but a credential, each operation's TypeScript sample from
 * src/facade-operations.ts (the very code the docs show) run as written, must succeed, and Prism
 * must find nothing wrong with a request.
 */
const mocks = usePrismMocks('receiver', 'query', 'graph-builder');
await import('./rk-client.js');
await import('./rk-query.js');
await import('./rk-admin.js');
const silent: Logger = { warn: () => {} };

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...values: unknown[]) => Promise<unknown>;

/** Runs a sample with `rk`, `query` and `admin` (and a prepared `pem`) in scope; answers its last awaited result. */
async function runSample(entry: FacadeEntry, facades: { rk: RKClient; query: RKQuery; admin: RKAdmin }): Promise<Result<unknown>> {
  const results = [...entry.sample.matchAll(/const (\w+) = await /g)].map((m) => m[1]!);
  const last = results.at(-1);
  if (!last) expect.fail(`the sample of ${entry.facade}.${entry.method} awaits nothing:\n${entry.sample}`);
  // A block of its own, so a sample may declare its own `pem`.
  const run = new AsyncFunction('rk', 'query', 'admin', 'pem', `{\n${entry.sample}\nreturn ${last};\n}`);
  return (await run(facades.rk, facades.query, facades.admin, facades.rk.preparePem('train'))) as Result<unknown>;
}

const entries = Object.entries(FACADE_OPERATIONS).flatMap(([service, table]) =>
  Object.entries(table as Record<string, FacadeEntry>).map(([operationId, entry]) => ({ service, operationId, entry })),
);

describe('npm run mock serves every facade call', () => {
  function facades() {
    const recorder = prismFetch();
    const options = { userAuth: 'mock-walk', logger: silent, fetch: recorder.fetch };
    const rk = new RKClient(mocks.receiver, 'mock-walk', options);
    return { recorder, facades: { rk, query: new RKQuery(mocks.query, options), admin: new RKAdmin(mocks.query, mocks['graph-builder'], options) } };
  }

  it('walks every operation of the three specs', () => {
    expect(entries.map((e) => e.operationId)).toHaveLength(22);
  });

  it.each(entries)('$service $operationId: the sample succeeds', async ({ entry }) => {
    const { recorder, facades: f } = facades();
    const result = await runSample(entry, f);
    if (!result.ok) expect.fail(`${entry.facade}.${entry.method}: ${result.error.name}: ${result.error.message}`);
    expectNoViolations(recorder);
    await f.rk.close();
  });

  it('getArtifacts and getArtifactsCount from the graph (graphdb) get artifact rows and a count', async () => {
    const { recorder, facades: f } = facades();
    const artifacts = await f.query.getArtifacts({ source: 'graphdb' });
    if (!artifacts.ok) expect.fail(artifacts.error.message);
    expect(artifacts.value.length).toBeGreaterThan(0);
    expect(artifacts.value[0]).toMatchObject({ Name: expect.any(String), Properties: expect.any(Object) });
    const count = await f.query.getArtifactsCount({ source: 'graphdb' });
    if (!count.ok) expect.fail(count.error.message);
    expect(count.value).toEqual(expect.any(Number));
    expectNoViolations(recorder, 2);
  });
});
