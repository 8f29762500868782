import { describe, expect, it, vi } from 'vitest';
import {
  Pem,
  RKClient,
  RKHttpError,
  RKInvalidInputError,
  RKPemTooLargeError,
  RKSizeLimitError,
  type Logger,
} from '../../src/index.js';
import { utf8Length } from '../../src/client.js';
import { json, receiverInfo, recordingFetch } from '../helpers/recording-fetch.js';
import { samplePem } from '../helpers/sample-pem.js';

const RECEIVER = 'http://rk.test:8082/receiver/';
const ID = '0192f3a4b5c67d8e9f0a1b2c3d4e5f60';
const silent: Logger = { warn: () => {} };

function client(fetch: typeof globalThis.fetch, options: ConstructorParameters<typeof RKClient>[2] = {}) {
  return new RKClient(RECEIVER, 'trainer', { fetch, logger: silent, ...options });
}

describe('preparePem', () => {
  const rk = new RKClient(RECEIVER, 'trainer', { logger: silent });

  it('makes a time-ordered version 7 ID as 32 lowercase hex and a UTC timestamp', () => {
    const before = new Date().toISOString().slice(0, 19).replace('T', ' ');
    const pem = rk.preparePem('ingest');
    expect(pem.ID).toMatch(/^[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$/);
    expect(pem.TimestampClient).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(pem.TimestampClient >= before).toBe(true);
    const ids = Array.from({ length: 2000 }, () => rk.preparePem('ingest').ID);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('defaults the tag to latest in the emitter namespace, with no predecessor', () => {
    const pem = rk.preparePem('ingest');
    expect(pem).toMatchObject({ Type: 'ingest', Emitter: 'trainer', Tag: 'latest', TagNamespace: 'trainer', Predecessor: null, Properties: {} });
  });

  it('takes a predecessor as a PEM or an ID, and its own tag and properties', () => {
    const first = rk.preparePem('ingest');
    const byPem = rk.preparePem('train', { predecessor: first, tagName: 'prod', tagNamespace: 'ml', properties: { epochs: 3 } });
    const byId = rk.preparePem('train', { predecessor: first.ID });
    expect(byPem).toMatchObject({ Predecessor: first.ID, Tag: 'prod', TagNamespace: 'ml', Properties: { epochs: 3 } });
    expect(byId.Predecessor).toBe(first.ID);
  });

  it('serializes to exactly the wire JSON, keys in the reference order', () => {
    const pem = rk.preparePem('ingest', { properties: { filename: 'data.csv' } });
    pem.usesArtifact(rk.prepareArtifact('dataset-a', { uri: 's3://b/a.csv' }));
    const wire = JSON.parse(JSON.stringify(pem));
    expect(Object.keys(wire)).toEqual([
      'ID', 'Type', 'Predecessor', 'Emitter', 'TimestampClient', 'Properties', 'Version', 'Tag', 'TagNamespace', 'UsesArtifacts', 'ProducesArtifacts',
    ]);
    expect(wire).toEqual({
      ID: pem.ID,
      Type: 'ingest',
      Predecessor: null,
      Emitter: 'trainer',
      TimestampClient: pem.TimestampClient,
      Properties: { filename: 'data.csv' },
      Version: '2.0.0',
      Tag: 'latest',
      TagNamespace: 'trainer',
      UsesArtifacts: [{ Name: 'dataset-a', Properties: { uri: 's3://b/a.csv' }, CreatedAt: null }],
      ProducesArtifacts: [],
    });
  });

  it('copies properties so later changes by the caller do not alter the PEM', () => {
    const properties = { nested: { n: 1 } };
    const pem = rk.preparePem('ingest', { properties });
    properties.nested.n = 2;
    expect(pem.Properties).toEqual({ nested: { n: 1 } });
  });

  it.each([
    ['an empty type', () => rk.preparePem(''), /type must be a non-empty string/],
    ['a non-hex predecessor', () => rk.preparePem('x', { predecessor: 'not-an-id' }), /predecessor must be a PEM ID of 32 lowercase hex digits/],
    ['a dashed predecessor', () => rk.preparePem('x', { predecessor: '0192f3a4-b5c6-7d8e-9f0a-1b2c3d4e5f60' }), /32 lowercase hex digits without dashes/],
    ['properties that are not an object', () => rk.preparePem('x', { properties: [1] as never }), /properties must be a plain object/],
    ['a function inside properties', () => rk.preparePem('x', { properties: { f: () => 1 } }), /properties\.f is function/],
    ['NaN inside properties', () => rk.preparePem('x', { properties: { a: [NaN] } }), /properties\.a\[0\] is NaN/],
    ['an empty tag name', () => rk.preparePem('x', { tagName: ' ' }), /tagName must be a non-empty string/],
  ])('refuses %s with a message that says what to pass', (_, prepare, message) => {
    expect(prepare).toThrow(RKInvalidInputError);
    expect(prepare).toThrow(message);
  });

  it('refuses an empty emitter at construction', () => {
    expect(() => new RKClient(RECEIVER, '')).toThrow(/emitterId must be a non-empty string/);
    expect(() => new RKClient('not a url', 'x')).toThrow(/is not a URL; pass the Receiver base URL/);
    expect(() => new RKClient(RECEIVER, 'x', { timeoutMs: 0 })).toThrow(/timeoutMs must be a positive number/);
  });
});

describe('artifacts on a PEM', () => {
  it('skips a used artifact whose Name is already used, with a warning', () => {
    const warn = vi.fn();
    const rk = new RKClient(RECEIVER, 'trainer', { logger: { warn } });
    const pem = rk.preparePem('train');
    pem.usesArtifact(rk.prepareArtifact('dataset-a', { v: '1' }));
    pem.usesArtifact(rk.prepareArtifact('dataset-a', { v: '2' }));
    expect(pem.UsesArtifacts).toEqual([{ Name: 'dataset-a', Properties: { v: '1' }, CreatedAt: null }]);
    expect(warn).toHaveBeenCalledOnce();
    expect(warn.mock.calls[0]?.[0]).toContain('already uses artifact "dataset-a"');
  });

  it('keeps repeated produced artifacts, as the reference client does', () => {
    const rk = new RKClient(RECEIVER, 'trainer', { logger: silent });
    const pem = rk.preparePem('train');
    const model = rk.prepareArtifact('model');
    pem.producesArtifact(model).producesArtifact(model);
    expect(pem.ProducesArtifacts).toHaveLength(2);
  });

  it('refuses artifact properties that are not strings', () => {
    const rk = new RKClient(RECEIVER, 'trainer', { logger: silent });
    expect(() => rk.prepareArtifact('m', { size: 3 as never })).toThrow(/properties\.size must be a string \(artifact properties are strings\)/);
    expect(() => rk.prepareArtifact('')).toThrow(/name must be a non-empty string/);
  });
});

describe('sendPem', () => {
  it('reads the size limit once, in the background, and posts exactly the PEM JSON', async () => {
    const { fetch, requests } = recordingFetch((request) =>
      request.url.endsWith('/info') ? json(receiverInfo) : request.json().then((pem) => json({ ID: (pem as { ID: string }).ID, status: 'accepted' })),
    );
    const rk = client(fetch);
    const pem = rk.preparePem('ingest');
    const second = rk.preparePem('ingest');

    const result = await rk.sendPem(pem);
    await rk.sendPem(second);

    expect(result).toEqual({ ok: true, value: { ID: pem.ID, status: 'accepted' } });
    expect(requests.map((r) => `${r.method} ${r.url}`).sort()).toEqual([
      'GET http://rk.test:8082/receiver/info',
      'POST http://rk.test:8082/receiver/pem',
      'POST http://rk.test:8082/receiver/pem',
    ]);
    const posted = requests.filter((r) => r.method === 'POST');
    expect(posted[0]?.body).toBe(JSON.stringify(pem));
    expect(posted[0]?.headers.get('content-type')).toBe('application/json');
  });

  it('does not hold the first PEM for /info: the Receiver still answers /info when the PEM is stored', async () => {
    let answerInfo: (() => void) | undefined;
    const { fetch } = recordingFetch((request) =>
      request.url.endsWith('/info') ? new Promise<Response>((resolve) => (answerInfo = () => resolve(json(receiverInfo)))) : json({ ID, status: 'accepted' }),
    );
    const rk = client(fetch);
    expect(await rk.sendPem(Pem.from({ ...samplePem(), ID }))).toEqual({ ok: true, value: { ID, status: 'accepted' } });
    answerInfo?.();
    await rk.close();
  });

  it('leaves an oversize PEM sent before the limit is known to the Receiver: its 413 is RKPemTooLargeError', async () => {
    const { fetch, requests } = recordingFetch((request) =>
      request.url.endsWith('/info') ? json({ message: 'down' }, 503) : json({ message: 'PEM too large' }, 413),
    );
    const rk = client(fetch);
    const pem = rk.preparePem('ingest', { properties: { blob: 'x'.repeat(600) } });

    const result = await rk.sendPem(pem);

    expect(!result.ok && result.error).toBeInstanceOf(RKPemTooLargeError);
    expect(!result.ok && (result.error as RKPemTooLargeError).sizeBytes).toBe(Buffer.byteLength(JSON.stringify(pem)));
    expect(rk.stats().dropped.too_large).toBe(1);
    expect(requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('reports a duplicate acknowledgement as the receiver gives it', async () => {
    const { fetch } = recordingFetch(() => json(receiverInfo), () => json({ ID, status: 'duplicate' }));
    const result = await client(fetch).sendPem(Pem.from({ ...samplePem(), ID }));
    expect(result).toEqual({ ok: true, value: { ID, status: 'duplicate' } });
  });

  it('refuses a PEM over pem_size_limit before sending once the limit is known, naming both sizes', async () => {
    const { fetch, requests } = recordingFetch(() => json({ ...receiverInfo, pem_size_limit: 500 }));
    const rk = client(fetch);
    const pem = rk.preparePem('ingest', { properties: { blob: 'x'.repeat(600) } });
    const size = Buffer.byteLength(JSON.stringify(pem));
    expect((await rk.getInfo()).ok).toBe(true);

    const result = await rk.sendPem(pem);

    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(RKSizeLimitError);
    expect(result.error.message).toBe(
      `Sending PEM failed: the PEM is ${size} bytes and the receiver accepts at most 500 bytes (pem_size_limit); ` +
        'move large content out of Properties (store it elsewhere and reference it by URI)',
    );
    expect(requests.map((r) => r.url)).toEqual(['http://rk.test:8082/receiver/info']);
  });

  it('checks later PEMs against the limit the first send read in the background', async () => {
    const { fetch, requests } = recordingFetch((request) =>
      request.url.endsWith('/info') ? json({ ...receiverInfo, pem_size_limit: 500 }) : json({ ID, status: 'accepted' }),
    );
    const rk = client(fetch);
    expect((await rk.sendPem(Pem.from({ ...samplePem(), ID }))).ok).toBe(true);
    // Nothing tells when the background read has settled: poll the outcome (no clock is asserted).
    const big = rk.preparePem('ingest', { properties: { blob: 'x'.repeat(600) } });
    await vi.waitFor(
      async () => {
        const result = await rk.sendPem(big);
        expect(!result.ok && result.error).toBeInstanceOf(RKSizeLimitError);
      },
      { timeout: 30_000 },
    );
    expect(requests.filter((r) => r.url.endsWith('/info'))).toHaveLength(1);
  });

  it('counts the size in UTF-8 bytes, not characters', async () => {
    const { fetch } = recordingFetch(() => json({ ...receiverInfo, pem_size_limit: 700 }));
    const rk = client(fetch);
    await rk.getInfo();
    const pem = rk.preparePem('ingest', { properties: { text: 'é'.repeat(300) } });
    expect(JSON.stringify(pem).length).toBeLessThan(700);
    const result = await rk.sendPem(pem);
    expect(!result.ok && result.error).toBeInstanceOf(RKSizeLimitError);
  });

  it('measures UTF-8 as TextEncoder does: 1 to 4 bytes per character', () => {
    for (const text of ['', 'plain', 'é', 'ß€', '日本語', '😀', 'a😀b€c', '\u{10ffff}', JSON.stringify({ lone: '\ud800' }), 'x'.repeat(1000) + '😀']) {
      expect(utf8Length(text)).toBe(new TextEncoder().encode(text).length);
    }
  });

  it('still sends when /info cannot be read, and asks again with a later send', async () => {
    let infos = 0;
    const { fetch, requests } = recordingFetch((request) =>
      request.url.endsWith('/info') ? (infos++ === 0 ? json({ message: 'down' }, 503) : json(receiverInfo)) : json({ ID, status: 'accepted' }),
    );
    const rk = client(fetch);
    const pem = Pem.from({ ...samplePem(), ID });
    expect((await rk.sendPem(pem)).ok).toBe(true);
    // Nothing tells when the background read has settled: poll the outcome (no clock is asserted).
    await vi.waitFor(
      async () => {
        expect((await rk.sendPem(pem)).ok).toBe(true);
        expect(infos).toBe(2);
      },
      { timeout: 30_000 },
    );
    expect(requests.filter((r) => r.url.endsWith('/info'))).toHaveLength(2);
  });

  it('checks a hand-built PEM field by field before sending anything', async () => {
    const { fetch, requests } = recordingFetch(() => json(receiverInfo));
    const result = await client(fetch).sendPem({ ...samplePem(), ID: 'ABC' });
    expect(!result.ok && result.error).toBeInstanceOf(RKInvalidInputError);
    expect(!result.ok && result.error.message).toMatch(/^Reading PEM failed: pem\.ID must be a PEM ID of 32 lowercase hex digits/);
    expect(requests).toHaveLength(0);
  });

  it('reports the receiver refusing the PEM with its status and explanation', async () => {
    const { fetch } = recordingFetch(
      () => json(receiverInfo),
      () => json({ message: 'PEM is already stored with different content', code: 'conflict', field: 'ID' }, 409),
    );
    const result = await client(fetch).sendPem(Pem.from({ ...samplePem(), ID }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(RKHttpError);
    const error = result.error as RKHttpError;
    expect(error.status).toBe(409);
    expect(error.code).toBe('conflict');
    expect(error.message).toBe('Sending PEM failed: HTTP 409 Conflict: PEM is already stored with different content');
  });
});

describe('setTag', () => {
  it.each([
    ['plain ASCII', 'ml', 'production', 'bWw=', 'cHJvZHVjdGlvbg=='],
    ['base64 holding / and =', 'prod/β', '???', 'cHJvZC%2FOsg==', 'Pz8%2F'],
    ['base64 holding +', 'a?>', '~~~', 'YT8+', 'fn5+'],
  ])('sends the base64 segments raw as the reference client does, only / as %%2F (%s)', async (_, namespace, tag, nsSegment, tagSegment) => {
    const record = { NamespaceID: namespace, Tag: tag, EventID: ID, UpdatedAt: '2026-11-27 22:07:00' };
    const { fetch, requests } = recordingFetch(() => json(record));
    const result = await client(fetch, { userAuth: 'u-1' }).setTag(namespace, tag, ID);
    expect(result).toEqual({ ok: true, value: record });
    expect(requests[0]?.method).toBe('POST');
    expect(requests[0]?.url).toBe(`http://rk.test:8082/receiver/tag/${nsSegment}/${tagSegment}/${ID}`);
    expect(decodeURIComponent(nsSegment)).toBe(Buffer.from(namespace).toString('base64'));
    expect(decodeURIComponent(tagSegment)).toBe(Buffer.from(tag).toString('base64'));
    // The reference's body and header: the base64 tag name as text, labelled JSON.
    expect(requests[0]?.headers.get('content-type')).toBe('application/json');
    expect(requests[0]?.body).toBe(Buffer.from(tag).toString('base64'));
  });

  it('takes a prepared PEM in place of its ID', async () => {
    const { fetch, requests } = recordingFetch(() => json({}));
    const rk = client(fetch);
    const pem = rk.preparePem('deploy');
    await rk.setTag('ml', 'prod', pem);
    expect(requests[0]?.url.endsWith(`/${pem.ID}`)).toBe(true);
  });

  it.each([
    ['', 'prod', ID, /namespace must be a non-empty string/],
    ['ml', '', ID, /tagName must be a non-empty string/],
    ['ml', 'prod', 'xyz', /pem must be a PEM ID of 32 lowercase hex digits/],
  ])('refuses bad input before any request (%j, %j, %j)', async (namespace, tag, pem, message) => {
    const { fetch, requests } = recordingFetch(() => json({}));
    const result = await client(fetch).setTag(namespace, tag, pem);
    expect(!result.ok && result.error).toBeInstanceOf(RKInvalidInputError);
    expect(!result.ok && result.error.message).toMatch(message);
    expect(requests).toHaveLength(0);
  });
});

describe('getInfo', () => {
  it('parses the receiver info', async () => {
    const { fetch, requests } = recordingFetch(() => json(receiverInfo));
    expect(await client(fetch).getInfo()).toEqual({ ok: true, value: receiverInfo });
    expect(requests[0]?.method).toBe('GET');
    expect(requests[0]?.url).toBe('http://rk.test:8082/receiver/info');
  });

  it('reports an info without a usable size limit as an unexpected response', async () => {
    const { fetch } = recordingFetch(() => json({ ...receiverInfo, pem_size_limit: 'big' }));
    const result = await client(fetch).getInfo();
    expect(!result.ok && result.error.kind).toBe('unexpected_response');
    expect(!result.ok && result.error.message).toContain('pem_size_limit is not a positive number');
  });

  it('exposes the package version', () => {
    expect(RKClient.version).toMatch(/^\d+\.\d+\.\d+/);
  });
});
