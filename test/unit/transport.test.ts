import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RKAbortError,
  RKAuthError,
  RKClient,
  RKConnectionError,
  RKHttpError,
  RKQuery,
  RKTimeoutError,
  RKUnexpectedResponseError,
  VERSION,
} from '../../src/index.js';
import { hang, json, receiverInfo, recordingFetch, text } from '../helpers/recording-fetch.js';

const QUERY = 'http://rk.test/query';

describe('headers', () => {
  it('sends the default User-Agent and no credential when none is configured', async () => {
    const { fetch, requests } = recordingFetch(() => json({ version: '1', auth_required: false }));
    await new RKQuery(QUERY, { fetch }).getInfo();
    expect(requests[0]?.headers.get('user-agent')).toBe(`recordkeeper-client-${VERSION}`);
    expect(requests[0]?.headers.get('x-rk-user-auth')).toBeNull();
    expect(requests[0]?.headers.get('x-rk-puc-auth')).toBeNull();
    expect(requests[0]?.headers.get('content-type')).toBeNull();
  });

  it('sends only the user credential when both are configured', async () => {
    const { fetch, requests } = recordingFetch(() => json({ version: '1', auth_required: true }));
    await new RKQuery(QUERY, { fetch, userAuth: 'user-secret', pucAuth: 'puc-secret' }).getInfo();
    expect(requests[0]?.headers.get('x-rk-user-auth')).toBe('user-secret');
    expect(requests[0]?.headers.get('x-rk-puc-auth')).toBeNull();
  });

  it('sends the PUC credential when it is the only one', async () => {
    const { fetch, requests } = recordingFetch(() => json({ version: '1', auth_required: true }));
    await new RKQuery(QUERY, { fetch, pucAuth: 'puc-secret' }).getInfo();
    expect(requests[0]?.headers.get('x-rk-puc-auth')).toBe('puc-secret');
    expect(requests[0]?.headers.get('x-rk-user-auth')).toBeNull();
  });

  it('uses overridden header names and User-Agent', async () => {
    const { fetch, requests } = recordingFetch(() => json({ version: '1', auth_required: true }));
    await new RKQuery(QUERY, { fetch, pucAuth: 'p', pucAuthHeader: 'Authorization', userAgent: 'pipeline/2' }).getInfo();
    expect(requests[0]?.headers.get('authorization')).toBe('p');
    expect(requests[0]?.headers.get('user-agent')).toBe('pipeline/2');
  });

  it('refuses a header name HTTP cannot carry', () => {
    expect(() => new RKQuery(QUERY, { userAuth: 'u', userAuthHeader: 'X Auth' })).toThrow(/userAuthHeader "X Auth" is not a valid HTTP header name/);
  });

  it('keeps the base URL path prefix and drops one trailing slash', async () => {
    const { fetch, requests } = recordingFetch(() => json({ version: '1', auth_required: true }));
    await new RKQuery('http://rk.test/a/b/', { fetch }).getInfo();
    await new RKQuery('http://rk.test/a/b', { fetch }).getInfo();
    expect(requests.map((r) => r.url)).toEqual(['http://rk.test/a/b/info', 'http://rk.test/a/b/info']);
  });
});

// One attempt per call: these tests pin how each kind of failure is reported; retries are tested
// in test/delivery.
describe('failures', () => {
  it('a 4xx with a JSON body keeps status, code, body and the server explanation', async () => {
    const body = { message: 'A credential is required', code: 'unauthorized' };
    const { fetch } = recordingFetch(() => json(body, 401));
    const result = await new RKQuery(QUERY, { fetch }).getTagsCount();
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const error = result.error as RKHttpError;
    expect(error).toBeInstanceOf(RKHttpError);
    // A 401 from any service is an RKAuthError (kind 'auth'), whichever method got it.
    expect(error).toBeInstanceOf(RKAuthError);
    expect(error.kind).toBe('auth');
    expect([error.status, error.code, error.body, error.serverMessage]).toEqual([401, 'unauthorized', body, 'A credential is required']);
    expect(error.message).toBe('Counting tags failed: HTTP 401 Unauthorized: A credential is required; pass a credential in the client options: pucAuth (a machine credential from your RK admin) or userAuth (a personal one from the RK Dashboard)');
  });

  it('a 5xx with a text body keeps the text', async () => {
    const { fetch } = recordingFetch(() => text('upstream exploded', 502));
    const result = await new RKQuery(QUERY, { fetch, retry: false }).getTags();
    const error = !result.ok && (result.error as RKHttpError);
    expect(error && [error.status, error.body]).toEqual([502, 'upstream exploded']);
    expect(error && error.message).toBe('Listing tags failed: HTTP 502 Bad Gateway: upstream exploded');
  });

  it('an error with an empty body says so without inventing an explanation', async () => {
    const { fetch } = recordingFetch(() => new Response(null, { status: 500 }));
    const result = await new RKQuery(QUERY, { fetch, retry: false }).getTags();
    const error = !result.ok && (result.error as RKHttpError);
    expect(error && [error.status, error.body, error.serverMessage]).toEqual([500, '', undefined]);
    expect(error && error.message).toBe('Listing tags failed: HTTP 500 Internal Server Error');
  });

  it('malformed JSON on a 2xx is an unexpected response, not a connection error', async () => {
    const { fetch } = recordingFetch(() => new Response('{"tags_count": ', { status: 200, headers: { 'Content-Type': 'application/json' } }));
    const result = await new RKQuery(QUERY, { fetch }).getTagsCount();
    expect(!result.ok && result.error).toBeInstanceOf(RKUnexpectedResponseError);
    expect(!result.ok && result.error.message).toMatch(/^Counting tags failed: HTTP 200 with an unexpected body: not valid JSON/);
  });

  it('a 2xx of the wrong shape is an unexpected response', async () => {
    const { fetch } = recordingFetch(() => text('<html>login</html>'));
    const result = await new RKQuery(QUERY, { fetch }).getTagsCount();
    expect(!result.ok && result.error).toBeInstanceOf(RKUnexpectedResponseError);
  });

  it('connection refused is a connection error with the system code', async () => {
    const port = await closedPort();
    const result = await new RKQuery(`http://127.0.0.1:${port}/query`, { retry: false }).getInfo();
    expect(!result.ok && result.error).toBeInstanceOf(RKConnectionError);
    const error = !result.ok && (result.error as RKConnectionError);
    expect(error && error.code).toBe('ECONNREFUSED');
    expect(error && error.message).toBe(`Reading Query info failed: could not reach http://127.0.0.1:${port}/query (ECONNREFUSED)`);
  });

  it('no answer within timeoutMs is a timeout; each call gets a fresh deadline', async () => {
    const { fetch, requests } = recordingFetch(hang(), () => json({ tags_count: 1 }));
    const query = new RKQuery(QUERY, { fetch, timeoutMs: 50, retry: false });
    const first = await query.getTagsCount();
    expect(!first.ok && first.error).toBeInstanceOf(RKTimeoutError);
    expect(!first.ok && first.error.message).toBe(
      'Counting tags failed: no answer from http://rk.test/query within 50 ms; raise timeoutMs if the service is slow',
    );
    expect(await query.getTagsCount()).toEqual({ ok: true, value: 1 });
    expect(requests).toHaveLength(2);
  });

  it('a timeout per call overrides the client default', async () => {
    const { fetch } = recordingFetch(hang());
    const result = await new RKQuery(QUERY, { fetch, timeoutMs: 60_000, retry: false }).getTags({ timeoutMs: 20 });
    expect(!result.ok && (result.error as RKTimeoutError).timeoutMs).toBe(20);
  });

  it("the caller's signal aborts a call in flight", async () => {
    const { fetch } = recordingFetch(hang());
    const controller = new AbortController();
    const pending = new RKQuery(QUERY, { fetch }).getTags({ signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    const result = await pending;
    expect(!result.ok && result.error).toBeInstanceOf(RKAbortError);
    expect(!result.ok && result.error.message).toBe('Listing tags failed: aborted by the caller');
  });

  it('an already aborted client signal stops calls before any request', async () => {
    const { fetch, requests } = recordingFetch(() => json([]));
    const result = await new RKQuery(QUERY, { fetch, signal: AbortSignal.abort() }).getTags();
    expect(!result.ok && result.error.kind).toBe('abort');
    expect(requests).toHaveLength(0);
  });

  it('a fetch that throws is reported, never rejected', async () => {
    const fetch = async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('getaddrinfo'), { code: 'ENOTFOUND' }) });
    };
    const result = await new RKClient('http://nowhere.invalid/receiver', 'x', { fetch, retry: false }).getInfo();
    expect(!result.ok && (result.error as RKConnectionError).code).toBe('ENOTFOUND');
  });
});

describe('TLS', () => {
  let server: ReturnType<typeof createHttpsServer>;
  let url: string;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rk-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    server = createHttpsServer(
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
      (_, res) => {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(receiverInfo));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/receiver`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies certificates by default', async () => {
    const result = await new RKClient(url, 'x').getInfo();
    expect(!result.ok && result.error).toBeInstanceOf(RKConnectionError);
  });

  it('insecure turns verification off for that client only', async () => {
    expect(await new RKClient(url, 'x', { insecure: true }).getInfo()).toEqual({ ok: true, value: receiverInfo });
    const after = await new RKClient(url, 'x').getInfo();
    expect(after.ok).toBe(false);
    await expect(fetch(`${url}/info`)).rejects.toThrow();
  });
});

async function closedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
