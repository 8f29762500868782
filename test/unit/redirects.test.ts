import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RKClient, RKQuery, type Logger, type RKOptions } from '../../src/index.js';

/**
 * A credential goes only to the origin the client was made for (issue 19, item 1). Two loopback
 * servers: `home` (the configured origin) redirects, `elsewhere` (another port: another origin)
 * records what reaches it. On both wires (undici: RKClient on Node; fetch: an injected fetch, and
 * the readers), a redirect to another origin is followed without the credential header; one to
 * the same origin keeps it.
 */

const SECRET = 'user-secret-7f3a';
const PUC = 'puc-secret-91bd';
const silent: Logger = { warn: () => {} };
const WIRES: [string, RKOptions][] = [
  ['undici', {}],
  ['fetch', { fetch: (input, init) => globalThis.fetch(input, init) }],
];

interface Seen {
  server: string;
  method: string;
  url: string;
  user: string | undefined;
  puc: string | undefined;
  body: string;
}

const seen: Seen[] = [];
let home: Server;
let elsewhere: Server;
let homeUrl = '';
let elsewhereUrl = '';

const info = JSON.stringify({ version: 'x', pem_version: '2.0.0', pem_size_limit: 100000, auth_required: true, pem_auth_required: false });

function serve(name: string, answer: (req: IncomingMessage, res: ServerResponse) => void): Server {
  return createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ server: name, method: req.method ?? '', url: req.url ?? '', user: req.headers['x-rk-user-auth'] as string | undefined, puc: req.headers['x-rk-puc-auth'] as string | undefined, body });
      answer(req, res);
    });
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

beforeAll(async () => {
  elsewhere = serve('elsewhere', (req, res) => {
    if (req.url === '/receiver/info') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return void res.end(info);
    }
    if (req.url === '/receiver/pem') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      return void res.end('Ack getting train');
    }
    if (req.url === '/query/tags_count') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return void res.end('{"tags_count": 2}');
    }
    res.writeHead(500).end();
  });
  home = serve('home', (req, res) => {
    if (req.url === '/query/tags_count') {
      // Same origin: followed with every header.
      res.writeHead(308, { Location: '/query/moved/tags_count' });
      return void res.end();
    }
    if (req.url === '/query/moved/tags_count') {
      res.writeHead(302, { Location: `${elsewhereUrl}/query/tags_count` });
      return void res.end();
    }
    if (req.url === '/receiver/info' || req.url === '/receiver/pem') {
      res.writeHead(307, { Location: `${elsewhereUrl}${req.url}` });
      return void res.end();
    }
    if (req.url === '/chain/receiver/info') {
      res.writeHead(308, { Location: '/moved/receiver/info' });
      return void res.end();
    }
    if (req.url === '/moved/receiver/info') {
      res.writeHead(302, { Location: `${elsewhereUrl}/receiver/info` });
      return void res.end();
    }
    res.writeHead(500).end();
  });
  elsewhereUrl = await listen(elsewhere);
  homeUrl = await listen(home);
});

afterAll(async () => {
  for (const server of [home, elsewhere]) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe.each(WIRES)('the credential stays with its origin (%s)', (_, wire) => {
  it('a PEM redirected to another origin is delivered there without the credential, with its exact bytes', async () => {
    seen.length = 0;
    const rk = new RKClient(`${homeUrl}/receiver`, 'e', { ...wire, logger: silent, retry: false, userAuth: SECRET });
    const info = await rk.getInfo();
    expect(info.ok).toBe(true);
    const pem = rk.preparePem('train');
    const sent = await rk.sendPem(pem);
    expect(sent).toEqual({ ok: true, value: { ID: pem.ID, status: 'accepted', reply: 'Ack getting train' } });
    await rk.close();
    expect(seen.map((s) => `${s.server} ${s.method} ${s.url} ${s.user ?? '-'}`)).toEqual([
      `home GET /receiver/info ${SECRET}`,
      'elsewhere GET /receiver/info -',
      `home POST /receiver/pem ${SECRET}`,
      'elsewhere POST /receiver/pem -',
    ]);
    // 307 keeps method and body.
    expect(seen[3]!.body).toBe(JSON.stringify(pem));
  });

  it('a same-origin redirect keeps the credential; the next hop to another origin drops it', async () => {
    seen.length = 0;
    const query = new RKQuery(`${homeUrl}/query`, { ...wire, logger: silent, retry: false, pucAuth: PUC });
    expect(await query.getTagsCount()).toEqual({ ok: true, value: 2 });
    expect(seen.map((s) => `${s.server} ${s.url} ${s.puc ?? '-'}`)).toEqual([
      `home /query/tags_count ${PUC}`,
      `home /query/moved/tags_count ${PUC}`,
      'elsewhere /query/tags_count -',
    ]);
  });

  it('the same across a chain of redirects of RKClient, whose wire on Node is undici', async () => {
    seen.length = 0;
    const rk = new RKClient(`${homeUrl}/chain/receiver`, 'e', { ...wire, logger: silent, retry: false, pucAuth: PUC });
    expect((await rk.call('getReceiverInfo')).ok).toBe(true);
    await rk.close();
    expect(seen.map((s) => `${s.server} ${s.url} ${s.puc ?? '-'}`)).toEqual([
      `home /chain/receiver/info ${PUC}`,
      `home /moved/receiver/info ${PUC}`,
      'elsewhere /receiver/info -',
    ]);
  });

  it('no credential value reaches the other origin in any header', async () => {
    seen.length = 0;
    const query = new RKQuery(`${homeUrl}/query`, { ...wire, logger: silent, retry: false, userAuth: SECRET });
    await query.getTagsCount();
    const other = seen.filter((s) => s.server === 'elsewhere');
    expect(other).toHaveLength(1);
    expect(JSON.stringify(other)).not.toContain(SECRET);
  });
});
