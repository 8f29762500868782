import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RKClient, RKQuery, type Logger, type RKOptions } from '../../src/index.js';

/**
 * The two ways a request goes, against one real HTTP server: undici's Pool on Node (no fetch
 * injected) and fetch (an injected fetch, and every other runtime).
 * The server must see the same requests and the caller the same results.
 */

const silent: Logger = { warn: () => {} };
const ID = '0192f3a4b5c67d8e9f0a1b2c3d4e5f60';
const stored = { ID, Type: 'train', Predecessor: '', Emitter: 'e', TimestampClient: '2026-12-01 00:00:00', TimestampReceived: '2026-12-01 00:00:01', Properties: {}, Tag: '', TagNamespace: '', UsesArtifacts: [], ProducesArtifacts: [] };
const WIRES: [string, RKOptions][] = [
  ['undici', {}],
  ['fetch', { fetch: (input, init) => globalThis.fetch(input, init) }],
];

interface Seen {
  method: string;
  url: string;
  userAgent: string | undefined;
  contentType: string | undefined;
  credential: string | undefined;
}

let server: Server;
let base: string;
const seen: Seen[] = [];

function answer(req: IncomingMessage, res: import('node:http').ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const send = (status: number, body: string, type = 'application/json') => {
    res.writeHead(status, { 'Content-Type': type });
    res.end(body);
  };
  switch (url.pathname) {
    case '/query/pems':
      return send(200, JSON.stringify(Number(url.searchParams.get('pageIndex')) >= 2 ? [stored] : [stored, stored]));
    case `/query/pem/${ID}`:
      return send(200, JSON.stringify(stored));
    case '/query/pems_count':
      return send(200, url.searchParams.get('Type') === 'empty' ? '' : '{"pems_count": 3');
    case '/query/moved/tags_count':
      res.writeHead(308, { Location: '/query/tags_count' });
      return void res.end();
    case '/query/tags_count':
      return send(200, '{"tags_count": 7}');
    case '/query/tags':
      return send(503, 'busy', 'text/plain');
    case '/query/artifacts_count':
      return send(404, JSON.stringify({ detail: 'Not Found' }));
    case '/receiver/info':
    case '/moved/receiver/info':
      return send(200, JSON.stringify({ version: 'x', pem_version: '2.0.0', pem_size_limit: 1000, auth_required: false, pem_auth_required: false }));
    case '/receiver/pem':
      return send(413, JSON.stringify({ detail: 'too large' }));
    case '/moved/receiver/pem':
      res.writeHead(307, { Location: '/receiver/pem' });
      return void res.end();
    default:
      return send(500, 'unexpected');
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        userAgent: req.headers['user-agent'],
        contentType: req.headers['content-type'],
        credential: req.headers['x-rk-user-auth'] as string | undefined,
      });
      answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** What the caller gets, with errors reduced to their class and message. */
function shown(result: { ok: boolean; value?: unknown; error?: Error }): unknown {
  return result.ok ? { value: result.value } : { error: result.error!.constructor.name, message: result.error!.message.replace(base, 'BASE') };
}

async function run(options: RKOptions): Promise<{ results: unknown[]; requests: Seen[] }> {
  seen.length = 0;
  const common: RKOptions = { logger: silent, retry: false, userAuth: 'secret', ...options };
  const query = new RKQuery(`${base}/query/`, common);
  const results: unknown[] = [];
  results.push(shown(await query.getPems({ pageSize: 2, pageIndex: 1, sortField: 'TimestampReceived', filters: { Type: 'a b/c&d=é', Emitter: 'x' } })));
  results.push(shown(await query.getPem(ID)));
  results.push(shown(await query.getPemsCount({ Type: 'broken' })));
  results.push(shown(await query.getPemsCount({ Type: 'empty' })));
  results.push(shown(await new RKQuery(`${base}/query/moved`, common).getTagsCount()));
  results.push(shown(await query.getTags()));
  results.push(shown(await query.getArtifactsCount()));
  const listed: string[] = [];
  for await (const pem of query.pems({ pageSize: 2 })) listed.push(pem.ID);
  results.push(listed.length);
  const rk = new RKClient(`${base}/receiver`, 'e', common);
  results.push(shown(await rk.getInfo()));
  const big = rk.preparePem('x', { properties: { blob: 'é'.repeat(600) } });
  results.push(shown(await rk.sendPem(big)));
  const small = rk.preparePem('x');
  const sent = await rk.sendPem(small);
  results.push(sent.ok ? sent.value : { error: sent.error.constructor.name, sizeBytes: (sent.error as { sizeBytes?: number }).sizeBytes });
  await rk.close();
  const moved = new RKClient(`${base}/moved/receiver`, 'e', common);
  // The limit known first, so no background read races the send to the server.
  results.push(shown(await moved.getInfo()));
  const redirected = await moved.sendPem(small);
  results.push(redirected.ok ? redirected.value : redirected.error.constructor.name);
  await moved.close();
  return { results, requests: [...seen] };
}

describe('undici and fetch', () => {
  it('send the same requests and give the same results', async () => {
    const [undici, fetch] = [await run(WIRES[0]![1]), await run(WIRES[1]![1])];
    expect(undici.results).toEqual(fetch.results);
    // The transport follows redirects above either wire: the server sees the very same requests,
    // a redirected one included, once each.
    const moved = (r: Seen) => r.url === '/moved/receiver/pem';
    expect(undici.requests.filter(moved)).toHaveLength(1);
    expect(fetch.requests.filter(moved)).toHaveLength(1);
    expect(undici.requests).toEqual(fetch.requests);
    // What the comparison covers, so that two equal failures do not pass for a success.
    expect(undici.requests.map((r) => `${r.method} ${r.url}`)).toContain(
      'GET /query/pems?pageIndex=1&pageSize=2&sortField=TimestampReceived&Type=a%20b%2Fc%26d%3D%C3%A9&Emitter=x',
    );
    expect(undici.requests.every((r) => r.credential === 'secret' && r.userAgent?.startsWith('recordkeeper-client-'))).toBe(true);
    expect(undici.requests.filter((r) => r.method === 'GET').every((r) => r.contentType === undefined)).toBe(true);
    expect(undici.results[1]).toMatchObject({ value: { ID } });
    expect(undici.results[2]).toMatchObject({ error: 'RKUnexpectedResponseError' });
    expect(undici.results[4]).toEqual({ value: 7 });
    expect(undici.results[6]).toMatchObject({ error: 'RKNotFoundError' });
    expect(undici.results[7]).toBe(5);
    expect(undici.results[9]).toMatchObject({ error: 'RKSizeLimitError' });
    expect(undici.results[10]).toMatchObject({ error: 'RKPemTooLargeError' });
    expect(undici.results[12]).toBe('RKPemTooLargeError');
  });
});
