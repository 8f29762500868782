import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  MockRKClient,
  Pem,
  RKClient,
  RKClientFactory,
  RKInvalidInputError,
  RKRejectedPemError,
  RKSizeLimitError,
  type Logger,
  type Result,
} from '../../src/index.js';
import { json, receiverInfo, recordingFetch } from '../helpers/recording-fetch.js';
import { samplePem } from '../helpers/sample-pem.js';

const RECEIVER = 'http://rk.test:8082/receiver/';
const ID = '0192f3a4b5c67d8e9f0a1b2c3d4e5f60';
const silent: Logger = { warn: () => {} };

let savedMock: string | undefined;

beforeEach(() => {
  savedMock = process.env.RK_MOCK;
});

afterEach(() => {
  if (savedMock === undefined) delete process.env.RK_MOCK;
  else process.env.RK_MOCK = savedMock;
});

function setMock(value: string | undefined) {
  if (value === undefined) delete process.env.RK_MOCK;
  else process.env.RK_MOCK = value;
}

function errorOf(result: Result<unknown>) {
  expect(result.ok).toBe(false);
  if (result.ok) throw new Error('expected a failure');
  return result.error;
}

/** The mock as RKClientFactory makes it, with a fetch that would record any I/O. */
function mockFromFactory(options: { logger?: Logger } = {}) {
  setMock('true');
  const recording = recordingFetch(() => json(receiverInfo));
  const client = RKClientFactory.get(RECEIVER, 'trainer', { fetch: recording.fetch, logger: silent, ...options });
  if (!(client instanceof MockRKClient)) throw new Error('expected the factory to return the mock');
  return { mock: client, requests: recording.requests };
}

describe('RKClientFactory', () => {
  it.each(['true', 'TRUE', 'True'])('returns the mock when RK_MOCK is %j', async (value) => {
    setMock(value);
    const { fetch, requests } = recordingFetch(() => json(receiverInfo));
    const client = RKClientFactory.get(RECEIVER, 'trainer', { fetch, logger: silent });
    expect(client).toBeInstanceOf(MockRKClient);
    expect(client.emitterId).toBe('trainer');
    // The mock is RKClient's own send rules over an in-memory Receiver: the offered fetch is never used.
    expect((await client.getInfo()).ok).toBe(true);
    expect((await client.sendPem(client.preparePem('ingest'))).ok).toBe(true);
    expect(requests).toHaveLength(0);
  });

  it.each([['false'], [undefined], ['1'], [''], ['yes']])('returns the real client when RK_MOCK is %j', async (value) => {
    setMock(value);
    const { fetch, requests } = recordingFetch(() => json(receiverInfo));
    const client = RKClientFactory.get(RECEIVER, 'trainer', { fetch, logger: silent });
    expect(client).toBeInstanceOf(RKClient);
    expect(client).not.toBeInstanceOf(MockRKClient);
    // The real client talks to the receiver through the fetch it was given.
    expect(await client.getInfo()).toEqual({ ok: true, value: receiverInfo });
    expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual(['GET http://rk.test:8082/receiver/info']);
  });

  it('reads RK_MOCK at each call, not once at import', () => {
    setMock('true');
    expect(RKClientFactory.get(RECEIVER, 'trainer')).toBeInstanceOf(MockRKClient);
    setMock('false');
    expect(RKClientFactory.get(RECEIVER, 'trainer', { logger: silent })).toBeInstanceOf(RKClient);
  });

  it('refuses an empty emitter for the mock exactly as for the real client', () => {
    setMock('false');
    const real = captureThrow(() => RKClientFactory.get(RECEIVER, ''));
    setMock('true');
    const mocked = captureThrow(() => RKClientFactory.get(RECEIVER, ''));
    expect(real).toBeInstanceOf(RKInvalidInputError);
    expect(mocked).toBeInstanceOf(RKInvalidInputError);
    expect((mocked as Error).message).toBe((real as Error).message);
    expect((mocked as Error).message).toMatch(/^Creating RKClient failed: emitterId must be a non-empty string/);
  });
});

describe('MockRKClient does no I/O', () => {
  it('never calls the fetch it was offered, for any method', async () => {
    const { mock, requests } = mockFromFactory();
    const pem = mock.preparePem('ingest');
    expect((await mock.getInfo()).ok).toBe(true);
    expect((await mock.sendPem(pem)).ok).toBe(true);
    expect((await mock.sendPem(pem)).ok).toBe(true);
    expect((await mock.setTag('ml', 'production', pem)).ok).toBe(true);
    expect(requests).toHaveLength(0);
  });

  it('works with a global fetch that throws', async () => {
    const spy = vi.spyOn(globalThis, 'fetch').mockRejectedValue(new TypeError('no network in this test'));
    try {
      const mock = new MockRKClient('trainer', { logger: silent });
      const pem = mock.preparePem('ingest');
      expect(await mock.sendPem(pem)).toEqual({ ok: true, value: { ID: pem.ID, status: 'accepted' } });
      expect((await mock.getInfo()).ok).toBe(true);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});

describe('sendPem', () => {
  it('accepts the PEM and records its wire JSON in sentPems', async () => {
    const { mock } = mockFromFactory();
    const pem = mock.preparePem('ingest', { properties: { filename: 'data.csv' } });
    pem.usesArtifact(mock.prepareArtifact('dataset-a', { uri: 's3://b/a.csv' }));

    expect(await mock.sendPem(pem)).toEqual({ ok: true, value: { ID: pem.ID, status: 'accepted' } });
    expect(mock.sentPems).toEqual([JSON.parse(JSON.stringify(pem))]);
    expect(mock.sentPems[0]).toEqual({
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
    expect(mock.sentPems[0]).not.toBeInstanceOf(Pem);
    expect(Object.keys(mock.sentPems[0] ?? {})).toEqual([
      'ID', 'Type', 'Predecessor', 'Emitter', 'TimestampClient', 'Properties', 'Version', 'Tag', 'TagNamespace', 'UsesArtifacts', 'ProducesArtifacts',
    ]);
  });

  it('keeps what was sent: changing the PEM afterwards does not change the record', async () => {
    const { mock } = mockFromFactory();
    const pem = mock.preparePem('train');
    await mock.sendPem(pem);
    pem.producesArtifact(mock.prepareArtifact('model-a'));
    expect(mock.sentPems[0]?.ProducesArtifacts).toEqual([]);
  });

  it('answers a resend of the same PEM as a duplicate and does not record it twice', async () => {
    const { mock } = mockFromFactory();
    const first = mock.preparePem('ingest');
    const second = mock.preparePem('ingest');
    await mock.sendPem(first);
    expect(await mock.sendPem(first)).toEqual({ ok: true, value: { ID: first.ID, status: 'duplicate' } });
    expect(await mock.sendPem(JSON.parse(JSON.stringify(first)))).toEqual({ ok: true, value: { ID: first.ID, status: 'duplicate' } });
    expect(await mock.sendPem(second)).toEqual({ ok: true, value: { ID: second.ID, status: 'accepted' } });
    expect(mock.sentPems.map((p) => p.ID)).toEqual([first.ID, second.ID]);
  });

  it('accepts a hand-built PEM and records it as given', async () => {
    const { mock } = mockFromFactory();
    expect(await mock.sendPem(samplePem())).toEqual({ ok: true, value: { ID, status: 'accepted' } });
    expect(mock.sentPems).toEqual([samplePem()]);
  });

  it.each([
    ['a non-hex ID', { ...samplePem(), ID: 'ABC' }],
    ['a dashed ID', { ...samplePem(), ID: '0192f3a4-b5c6-7d8e-9f0a-1b2c3d4e5f60' }],
    ['another PEM version', { ...samplePem(), Version: '1.0.0' }],
    ['an empty Type', { ...samplePem(), Type: '' }],
    ['a bad timestamp', { ...samplePem(), TimestampClient: '2026-11-27T22:06:40Z' }],
    ['artifact properties that are not strings', { ...samplePem(), UsesArtifacts: [{ Name: 'a', Properties: { n: 1 }, CreatedAt: null }] }],
    ['a missing artifact list', { ...samplePem(), ProducesArtifacts: undefined }],
    ['a PEM that is not an object', 'not a pem'],
  ])('refuses %s exactly as RKClient does, recording nothing', async (_, payload) => {
    const { mock } = mockFromFactory();
    const { fetch, requests } = recordingFetch(() => json(receiverInfo));
    const real = new RKClient(RECEIVER, 'trainer', { fetch, logger: silent });

    const mocked = errorOf(await mock.sendPem(payload as never));
    const expected = errorOf(await real.sendPem(payload as never));

    expect(expected).toBeInstanceOf(RKInvalidInputError);
    expect(requests).toHaveLength(0);
    expect(mocked).toBeInstanceOf(RKInvalidInputError);
    expect(mocked.message).toBe(expected.message);
    expect(mock.sentPems).toEqual([]);
  });

  it('refuses a PEM over the pem_size_limit its getInfo reports, as RKClient refuses it', async () => {
    const { mock } = mockFromFactory();
    const info = await mock.getInfo();
    if (!info.ok) throw new Error('the mock info failed');
    const limit = info.value.pem_size_limit;
    const pem = mock.preparePem('ingest', { properties: { blob: 'x'.repeat(limit) } });

    const { fetch } = recordingFetch(() => json({ ...receiverInfo, pem_size_limit: limit }));
    const real = new RKClient(RECEIVER, 'trainer', { fetch, logger: silent });
    await real.getInfo();
    const expected = errorOf(await real.sendPem(pem));
    const mocked = errorOf(await mock.sendPem(pem));

    expect(expected).toBeInstanceOf(RKSizeLimitError);
    expect(mocked).toBeInstanceOf(RKSizeLimitError);
    expect(mocked.message).toBe(expected.message);
    expect(mock.sentPems).toEqual([]);
  });
});

describe('setTag', () => {
  it('records the tag in tags and returns the record', async () => {
    const { mock } = mockFromFactory();
    const pem = mock.preparePem('deploy');
    const before = new Date().toISOString().slice(0, 19).replace('T', ' ');

    const byPem = await mock.setTag('ml', 'production', pem);
    const byId = await mock.setTag('ml/β', 'stage', ID);

    expect(byPem.ok && byPem.value).toEqual({ NamespaceID: 'ml', Tag: 'production', EventID: pem.ID, UpdatedAt: expect.any(String) });
    expect(byId.ok && byId.value).toEqual({ NamespaceID: 'ml/β', Tag: 'stage', EventID: ID, UpdatedAt: expect.any(String) });
    expect(mock.tags).toEqual([byPem.ok && byPem.value, byId.ok && byId.value]);
    for (const tag of mock.tags) {
      expect(tag.UpdatedAt).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      expect(tag.UpdatedAt >= before).toBe(true);
    }
  });

  it.each([
    ['', 'prod', ID],
    ['  ', 'prod', ID],
    ['ml', '', ID],
    ['ml', 'prod', 'xyz'],
    ['ml', 'prod', ID.toUpperCase()],
  ])('refuses (%j, %j, %j) exactly as RKClient does, recording nothing', async (namespace, tagName, pem) => {
    const { mock } = mockFromFactory();
    const { fetch, requests } = recordingFetch(() => json({}));
    const expected = errorOf(await new RKClient(RECEIVER, 'trainer', { fetch, logger: silent }).setTag(namespace, tagName, pem));
    const mocked = errorOf(await mock.setTag(namespace, tagName, pem));

    expect(expected).toBeInstanceOf(RKInvalidInputError);
    expect(requests).toHaveLength(0);
    expect(mocked).toBeInstanceOf(RKInvalidInputError);
    expect(mocked.message).toBe(expected.message);
    expect(mock.tags).toEqual([]);
  });
});

describe('getInfo', () => {
  it('returns a valid ReceiverInfo', async () => {
    const { mock } = mockFromFactory();
    const info = await mock.getInfo();
    expect(info).toEqual({
      ok: true,
      value: {
        version: expect.any(String),
        pem_version: '2.0.0',
        pem_size_limit: expect.any(Number),
        auth_required: expect.any(Boolean),
        pem_auth_required: expect.any(Boolean),
      },
    });
    if (!info.ok) return;
    expect(Object.keys(info.value).sort()).toEqual(['auth_required', 'pem_auth_required', 'pem_size_limit', 'pem_version', 'version']);
    expect(info.value.version).not.toBe('');
    expect(Number.isInteger(info.value.pem_size_limit) && info.value.pem_size_limit > 0).toBe(true);
  });
});

describe('preparing PEMs and artifacts', () => {
  it('prepares PEMs as RKClient does, in the emitter namespace, warning through the given logger', () => {
    const warn = vi.fn();
    const { mock } = mockFromFactory({ logger: { warn } });
    const pem = mock.preparePem('train', { tagName: 'prod' });
    expect(pem).toBeInstanceOf(Pem);
    expect(pem).toMatchObject({ Type: 'train', Emitter: 'trainer', Tag: 'prod', TagNamespace: 'trainer', Predecessor: null });
    pem.usesArtifact(mock.prepareArtifact('dataset-a')).usesArtifact(mock.prepareArtifact('dataset-a'));
    expect(pem.UsesArtifacts).toHaveLength(1);
    expect(warn).toHaveBeenCalledOnce();
    expect(warn.mock.calls[0]?.[0]).toContain('already uses artifact "dataset-a"');
  });

  it.each([
    ['an empty type', (c: MockRKClient | RKClient) => c.preparePem('')],
    ['a non-hex predecessor', (c: MockRKClient | RKClient) => c.preparePem('x', { predecessor: 'not-an-id' })],
    ['an empty artifact name', (c: MockRKClient | RKClient) => c.prepareArtifact('')],
    ['artifact properties that are not strings', (c: MockRKClient | RKClient) => c.prepareArtifact('m', { size: 3 as never })],
  ])('refuses %s with the same error as RKClient', (_, prepare) => {
    const { mock } = mockFromFactory();
    const expected = captureThrow(() => prepare(new RKClient(RECEIVER, 'trainer', { logger: silent })));
    const mocked = captureThrow(() => prepare(mock));
    expect(expected).toBeInstanceOf(RKInvalidInputError);
    expect(mocked).toBeInstanceOf(RKInvalidInputError);
    expect((mocked as Error).message).toBe((expected as Error).message);
  });
});

function captureThrow(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

describe('MockRKClient delivery surface (same as RKClient)', () => {
  it('counts sends, emits delivered, and refuses sends after close like RKClient', async () => {
    const mock = new MockRKClient('trainer', { logger: { warn: () => {} } });
    const delivered: string[] = [];
    const drops: string[] = [];
    mock.on('delivered', (event) => delivered.push(`${event.ID}:${event.status}`));
    mock.on('drop', (event) => drops.push(event.reason));
    const pem = mock.preparePem('ingest');

    await mock.sendPem(pem);
    await mock.sendPem(pem);
    await mock.sendPem({ ...samplePem(), ID: 'bad' });
    expect(await mock.flush()).toEqual({ delivered: 0, persisted: 0, failed: 0, pending: 0, timedOut: false });
    const closing = mock.close();
    expect(mock.close()).toBe(closing);
    await closing;
    const late = await mock.sendPem(mock.preparePem('late'));

    expect(delivered).toEqual([`${pem.ID}:accepted`, `${pem.ID}:duplicate`]);
    expect(drops).toEqual(['invalid', 'shutdown']);
    expect(!late.ok && late.error.kind).toBe('shutdown');
    expect(!late.ok && late.error.message).toBe('Sending PEM failed: the client is closed; create a new RKClient to send more PEMs');
    const stats = mock.stats();
    expect([stats.attempts, stats.delivered, stats.duplicates, stats.failed, stats.closed]).toEqual([2, 2, 1, 2, true]);
    expect(stats.dropped.invalid).toBe(1);
    expect(stats.dropped.shutdown).toBe(1);
  });

  it('reports a different resend under the same ID as a rejected PEM (409), as the Receiver does', async () => {
    const mock = new MockRKClient('trainer');
    await mock.sendPem(samplePem());
    const changed = await mock.sendPem({ ...samplePem(), Type: 'train' });
    expect(!changed.ok && changed.error).toBeInstanceOf(RKRejectedPemError);
    expect(!changed.ok && (changed.error as RKRejectedPemError).status).toBe(409);
    expect(mock.sentPems).toHaveLength(1);
  });
});
