import { afterAll, beforeAll, expect, vi } from 'vitest';
import { RKHttpError, type Result } from '../../src/index.js';
import type { prismFetch } from '../helpers/prism-fetch.js';

/** The mocks the contract tests run (`npm run mock`'s setup): one per spec, on a free port, found by the API's name. */
export type Api = 'receiver' | 'query' | 'graph-builder';

const SPECS: Record<Api, string> = {
  receiver: 'openapi/receiver.yaml',
  query: 'openapi/query.yaml',
  'graph-builder': 'openapi/graph-builder.yaml',
};

/** What scripts/mock.mjs documents (in JSDoc) for a running mock: Prism behind its thin layer. */
interface PrismServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}
type StartMock = (api: { name: string; spec: string }, options?: { port?: number; timeoutMs?: number }) => Promise<PrismServer>;

// Loaded by URL so the type checker does not need declarations for the untyped .mjs script. The
// same setup as `npm run mock`: each Prism behind the layer that serves every call as sent.
const MOCK_SCRIPT = new URL('../../scripts/mock.mjs', import.meta.url).href;

/** Prism parses and validates the spec before it listens; three at once on a small machine take a while. */
const START_TIMEOUT_MS = 90_000;

/**
 * The URL of each running mock, filled in by usePrismMocks before the tests run: the suites of
 * rk-client.ts, rk-query.ts and rk-admin.ts read it inside their tests, and mock-walk.test.ts
 * runs them all on one set of mocks.
 */
export const mocks: Readonly<Record<Api, string>> = { receiver: '', query: '', 'graph-builder': '' };

/**
 * Starts one Prism per API before the file's tests and stops each (by its pid) after them, also
 * when a test or the start of another mock failed. Read the URLs (the returned object, the same
 * as `mocks`) inside tests: they are filled in by the time the tests run. Call it once per file:
 * a Prism costs about 3 CPU s to start, so every suite against the mocks runs in one file.
 */
export function usePrismMocks<A extends Api>(...apis: A[]): Readonly<Record<A, string>> {
  // A mock answers in milliseconds, but its first answers are slow while it warms up, and the
  // packaging test may be compiling beside it.
  vi.setConfig({ testTimeout: 20_000 });
  const urls = mocks as Record<A, string>;
  const servers: PrismServer[] = [];
  const stopAll = async () => {
    await Promise.all(servers.map((server) => server.stop()));
    for (const { pid } of servers) expect(isRunning(pid), `Prism (pid ${pid}) still runs after stop()`).toBe(false);
    servers.length = 0;
    for (const api of apis) urls[api] = '';
  };

  beforeAll(async () => {
    const { startMock } = (await import(MOCK_SCRIPT)) as { startMock: StartMock };
    const started = await Promise.allSettled(apis.map((api) => startMock({ name: api, spec: SPECS[api] }, { port: 0, timeoutMs: START_TIMEOUT_MS - 5_000 })));
    started.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') {
        servers.push(outcome.value);
        urls[apis[i]!] = outcome.value.url;
      }
    });
    const failed = started.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed) {
      await stopAll();
      throw failed.reason;
    }
  }, START_TIMEOUT_MS);

  afterAll(stopAll, 30_000);
  return urls;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The value of a successful result; a failure fails the test with the error's own message. */
export function expectOk<T>(result: Result<T>): T {
  if (!result.ok) expect.fail(`expected { ok: true }, got ${result.error.name}: ${result.error.message}`);
  return result.value;
}

/** The RKHttpError of a failed result. */
export function expectHttpError(result: Result<unknown>): RKHttpError {
  if (result.ok) expect.fail(`expected an RKHttpError, got { ok: true, value: ${JSON.stringify(result.value)} }`);
  expect(result.error).toBeInstanceOf(RKHttpError);
  return result.error as RKHttpError;
}

/** Every request reached Prism and Prism found nothing wrong with any of them. */
export function expectNoViolations(recorder: ReturnType<typeof prismFetch>, requests?: number): void {
  if (requests === undefined) expect(recorder.responses.length).toBeGreaterThan(0);
  else expect(recorder.responses).toHaveLength(requests);
  expect(recorder.violations()).toEqual([]);
}
