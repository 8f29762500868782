import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RKClient, RKHttpError, RKInvalidInputError, RKNotFoundError, RKQuery, systemClock, type Logger, type RKOptions } from '../../src/index.js';
import { json, receiverInfo, recordingFetch, text } from '../helpers/recording-fetch.js';
import { startScriptableReceiver, type ScriptableReceiver } from '../helpers/scriptable-receiver.js';

/**
 * The real Record Keeper's answers to POST /pem and POST /tag are not public; the reference client
 * never reads them. These tests hold the client to "any 2xx is success" for every form such a
 * Receiver may use, with and without an outbox, and to errors that say in one line what any body said.
 */

const RECEIVER = 'http://rk.test:8082/receiver/';
const ID = '0192f3a4b5c67d8e9f0a1b2c3d4e5f60';
const silent: Logger = { warn: () => {} };

function withInfo(reply: () => Response) {
  return recordingFetch((request) => (request.url.endsWith('/info') ? json(receiverInfo) : reply()));
}

describe('sendPem: any 2xx acknowledges the PEM', () => {
  it.each([
    ['the reference mock text', () => text('Ack getting ingest'), { status: 'accepted', reply: 'Ack getting ingest' }],
    ['an empty 200', () => new Response(null, { status: 200 }), { status: 'accepted' }],
    ['a 201 with {}', () => json({}, 201), { status: 'accepted', reply: '{}' }],
    ['a 202 with JSON "OK"', () => json('OK', 202), { status: 'accepted', reply: '"OK"' }],
    ['a 204', () => new Response(null, { status: 204 }), { status: 'accepted' }],
    [
      'JSON for another PEM',
      () => json({ ID: 'ffffffffffffffffffffffffffffffff', status: 'duplicate' }),
      { status: 'accepted', reply: '{"ID":"ffffffffffffffffffffffffffffffff","status":"duplicate"}' },
    ],
  ] as const)('%s: ok, accepted, delivered once, nothing dropped', async (_, reply, expected) => {
    const { fetch, requests } = withInfo(reply);
    const rk = new RKClient(RECEIVER, 'trainer', { fetch, logger: silent });
    const pem = rk.preparePem('ingest');
    const result = await rk.sendPem(pem);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.ID).toBe(pem.ID);
    expect(result.value.status).toBe(expected.status);
    if ('reply' in expected) expect(result.value).toHaveProperty('reply', expected.reply);
    else expect(result.value).not.toHaveProperty('reply');
    expect(requests.filter((r) => r.url.endsWith('/pem'))).toHaveLength(1);
    expect(rk.stats()).toMatchObject({ delivered: 1, failed: 0, attempts: 1 });
  });

  it('reads our JSON acknowledgement when it is there: duplicate stays duplicate', async () => {
    const { fetch } = withInfo(() => json({ ID, status: 'duplicate' }));
    const rk = new RKClient(RECEIVER, 'trainer', { fetch, logger: silent });
    const result = await rk.sendPem({ ...rk.preparePem('ingest').toJSON(), ID });
    expect(result).toEqual({ ok: true, value: { ID, status: 'duplicate' } });
    expect(rk.stats().duplicates).toBe(1);
  });
});

describe('setTag: any 2xx sets the tag', () => {
  it.each([
    ['an empty 200', () => new Response(null, { status: 200 })],
    ['text OK', () => text('OK')],
    ['JSON of another shape', () => json({ result: 'ok' }, 201)],
  ] as const)('%s: the value is what was sent, without UpdatedAt', async (_, reply) => {
    const { fetch } = recordingFetch(reply);
    const result = await new RKClient(RECEIVER, 'trainer', { fetch, logger: silent }).setTag('ml', 'production', ID);
    expect(result).toEqual({ ok: true, value: { NamespaceID: 'ml', Tag: 'production', EventID: ID } });
  });

  it("our local RK's record gives UpdatedAt", async () => {
    const record = { NamespaceID: 'ml', Tag: 'production', EventID: ID, UpdatedAt: '2026-11-27 22:07:00' };
    const { fetch } = recordingFetch(() => json(record));
    expect(await new RKClient(RECEIVER, 'trainer', { fetch, logger: silent }).setTag('ml', 'production', ID)).toEqual({ ok: true, value: record });
  });
});

describe('error messages from any body, in one bounded line', () => {
  const query = (fetch: typeof globalThis.fetch) => new RKQuery('http://rk.test:8083/query', { fetch, retry: false, logger: silent });
  const html =
    '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title><style>body{}</style></head>\n<body><h1>Bad Gateway</h1><p>nginx</p></body></html>';

  it.each([
    ['an HTML page: its title', () => new Response(html, { status: 502, headers: { 'Content-Type': 'text/html' } }), 'HTTP 502 Bad Gateway: 502 Bad Gateway'],
    [
      'an HTML page without a title: its text',
      () => new Response('<html><body><h1>Oops</h1>\n<p>try &amp; again</p><script>var x = 1;</script></body></html>', { status: 500 }),
      'HTTP 500 Internal Server Error: Oops try & again',
    ],
    ['JSON message', () => json({ message: 'no such field: Foo' }, 400), 'HTTP 400 Bad Request: no such field: Foo'],
    ['JSON msg', () => json({ msg: 'database down' }, 503), 'HTTP 503 Service Unavailable: database down'],
    ['JSON detail', () => json({ detail: 'Not a valid filter' }, 400), 'HTTP 400 Bad Request: Not a valid filter'],
    ['JSON error object', () => json({ error: { message: 'quota exceeded', code: 7 } }, 429), 'HTTP 429 Too Many Requests: quota exceeded'],
    ['multi-line text', () => text('PEM is not valid:\n  Type is empty\n', 400), 'HTTP 400 Bad Request: PEM is not valid: Type is empty'],
  ] as const)('%s', async (_, reply, detail) => {
    const { fetch } = recordingFetch(reply);
    const result = await query(fetch).getPems();
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(RKHttpError);
    expect(result.error.message).toBe(`Listing PEMs failed: ${detail}`);
  });

  it('a long body is cut to 300 characters and keeps no line breaks', async () => {
    const { fetch } = recordingFetch(() => text(`${'x'.repeat(200)}\n${'y'.repeat(2000)}`, 500));
    const result = await query(fetch).getPems();
    if (result.ok) throw new Error('expected a failure');
    const said = (result.error as RKHttpError).serverMessage!;
    expect(said).toBe(`${'x'.repeat(200)} ${'y'.repeat(99)}...`);
    expect(result.error.message).not.toContain('\n');
    // The body itself is kept whole for diagnosis.
    expect(((result.error as RKHttpError).body as string).length).toBe(2201);
  });
});

// Real time and fsync'd files: generous deadlines, as a busy CI machine needs them.
describe('the outbox against a Receiver that answers as the reference mocks it', { timeout: 30_000 }, () => {
  let dir: string;
  let receiver: ScriptableReceiver;
  const clients: RKClient[] = [];
  const brisk = { pollIntervalMs: 10, maxBackoffMs: 40 };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rk-outbox-replies-'));
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close({ timeoutMs: 1 })));
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const entries = () => readdirSync(dir).filter((name) => name.endsWith('.pem'));

  function client(options: RKOptions = {}, outbox: Partial<NonNullable<RKOptions['outbox']>> = {}) {
    const rk = new RKClient(receiver.url, 'trainer', { clock: systemClock, random: () => 1, logger: silent, ...options, outbox: { dir, ...brisk, ...outbox } });
    clients.push(rk);
    return rk;
  }

  it('a text `Ack getting <Type>` acknowledges and removes each entry: sent once, flush completes, a restart resends nothing', async () => {
    receiver = await startScriptableReceiver({ replies: 'reference' });
    const rk = client();
    const pems = Array.from({ length: 20 }, (_, i) => rk.preparePem('ingest', { properties: { i } }));
    const results = await Promise.all(pems.map((pem) => rk.sendPem(pem)));
    expect(results.map((r) => r.ok && r.value.status)).toEqual(pems.map(() => 'accepted'));
    expect(results.every((r) => r.ok && r.value.status !== 'persisted' && 'reply' in r.value && r.value.reply === 'Ack getting ingest')).toBe(true);
    const report = await rk.flush({ timeoutMs: 5_000 });
    expect(report).toMatchObject({ pending: 0, timedOut: false });
    expect(entries()).toEqual([]);
    await rk.close();

    const again = client();
    await again.flush({ timeoutMs: 200 });
    expect(receiver.pemRequests()).toHaveLength(20);
    expect([...receiver.acceptedCount.values()].every((n) => n === 1)).toBe(true);
    expect(receiver.stored.size).toBe(20);
  });

  it('one PEM the Receiver keeps failing with 500 does not hold back the 50 after it', async () => {
    receiver = await startScriptableReceiver();
    let down = true;
    const rk = client();
    const poison = rk.preparePem('poison');
    receiver.setRule((request) => (down || request.id === poison.ID ? { status: 500, body: { message: 'cannot store this one' } } : { default: true }));
    const later = Array.from({ length: 50 }, (_, i) => rk.preparePem('ingest', { properties: { i } }));
    // An outage first, so every PEM is in the outbox with the poison PEM the oldest.
    for (const pem of [poison, ...later]) expect(await rk.sendPem(pem)).toMatchObject({ ok: true, value: { status: 'persisted' } });
    down = false;

    const started = Date.now();
    // The Receiver stores a PEM before the client hears so and removes its entry: wait for both.
    const settled = () => receiver.stored.size >= 50 && entries().length <= 1;
    while (!settled() && Date.now() - started < 20_000) await new Promise((resolve) => setTimeout(resolve, 20));

    expect(receiver.stored.size).toBe(50);
    expect(later.every((pem) => receiver.stored.has(pem.ID))).toBe(true);
    expect(receiver.stored.has(poison.ID)).toBe(false);
    // The poison PEM stays, waiting out its own backoff; it is neither buried nor lost.
    expect(entries()).toHaveLength(1);
    expect(entries()[0]).toContain(poison.ID);
  });

  it('a 404 for the route pauses draining with a warning naming the URL, keeps every entry, and resume() delivers them', async () => {
    receiver = await startScriptableReceiver();
    let routed = false;
    receiver.setRule(() => (routed ? { default: true } : { status: 404, text: 'Not Found' }));
    const warnings: string[] = [];
    const rk = client({ logger: { warn: (message) => warnings.push(message) } });
    const paused: string[] = [];
    rk.on('paused', (event) => paused.push(event.error.message));

    const pems = [rk.preparePem('a'), rk.preparePem('b'), rk.preparePem('c')];
    for (const pem of pems) expect(await rk.sendPem(pem)).toEqual({ ok: true, value: { ID: pem.ID, status: 'persisted' } });

    expect(paused).toEqual([
      `Sending PEM failed: HTTP 404 Not Found: Not Found; POST ${receiver.url}/pem does not exist there: check the base URL given to the client`,
    ]);
    expect(warnings.filter((w) => w.startsWith('outbox draining paused') && w.includes(`${receiver.url}/pem`) && w.includes('fix the Receiver URL'))).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(receiver.pemRequests()).toHaveLength(1);
    expect(entries()).toHaveLength(3);
    expect(readdirSync(join(dir, 'dead'))).toEqual([]);
    expect(rk.stats().outbox!.paused).toMatch(/404/);

    routed = true;
    rk.outbox!.resume();
    expect((await rk.flush({ timeoutMs: 5_000 })).pending).toBe(0);
    expect(receiver.stored.size).toBe(3);
  });

  it('a PEM the Receiver refuses moves to dead/ with a warning', async () => {
    receiver = await startScriptableReceiver();
    receiver.setRule(() => ({ status: 422, text: 'PEM is not valid: Type is empty' }));
    const warnings: string[] = [];
    const rk = client({ logger: { warn: (message) => warnings.push(message) } });
    const pem = rk.preparePem('ingest');
    const result = await rk.sendPem(pem);
    expect(result.ok).toBe(false);
    expect(warnings.some((w) => w.startsWith(`PEM ${pem.ID} moved to`) && w.includes('(rejected): Sending PEM failed: HTTP 422 Unprocessable Entity: PEM is not valid: Type is empty'))).toBe(true);
    expect(readdirSync(join(dir, 'dead')).filter((name) => name.endsWith('.pem'))).toHaveLength(1);
  });
});

describe('without an outbox', () => {
  it('a base URL with user:password@ is refused at construction without echoing the secret', () => {
    const make = () => new RKClient('http://user:s3cret-pw@rk.test:8082/receiver/', 'trainer', { logger: silent });
    expect(make).toThrow(RKInvalidInputError);
    expect(make).toThrow(/carries a user name or password/);
    try {
      make();
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('s3cret-pw');
      expect(String((error as Error).stack)).not.toContain('s3cret-pw');
    }
  });

  it('a 404 for the route fails at once with RKNotFoundError naming the URL and a warning', async () => {
    const warnings: string[] = [];
    const { fetch, requests } = withInfo(() => text('Not Found', 404));
    const rk = new RKClient('http://rk.test:8082/recievr/', 'trainer', { fetch, logger: { warn: (m) => warnings.push(m) } });
    const pem = rk.preparePem('ingest');
    const result = await rk.sendPem(pem);
    if (result.ok) throw new Error('expected a failure');
    expect(result.error).toBeInstanceOf(RKNotFoundError);
    expect(result.error.message).toBe(
      'Sending PEM failed: HTTP 404 Not Found: Not Found; POST http://rk.test:8082/recievr/pem does not exist there: check the base URL given to the client',
    );
    expect(requests.filter((r) => r.url.endsWith('/pem'))).toHaveLength(1);
    expect(warnings).toEqual([`PEM ${pem.ID} dropped (not_found): ${result.error.message}`]);
  });
});
