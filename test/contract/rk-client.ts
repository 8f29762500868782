import { describe, expect, it } from 'vitest';
import { RKClient, type Logger, type RKOptions } from '../../src/index.js';
import { prismFetch } from '../helpers/prism-fetch.js';
import { specExamples } from './spec-examples.js';
import { expectHttpError, expectNoViolations, expectOk, mocks } from './mocks.js';

/** RKClient against a Prism mock of openapi/receiver.yaml: every call must be one the spec allows. */
const silent: Logger = { warn: () => {} };
// Every expected value is the spec's own example (what Prism answers), read from openapi/receiver.yaml.
const examples = await specExamples('receiver');
const EXAMPLE_ID = examples.parameter('setTag', 'pem_id');

function receiver(options: RKOptions = { userAuth: 'contract-test' }) {
  const recorder = prismFetch();
  const rk = new RKClient(mocks.receiver, 'trainer', { logger: silent, ...options, fetch: recorder.fetch });
  return { rk, recorder };
}

describe('RKClient against the Receiver spec', () => {
  it('getInfo reads the example configuration', async () => {
    const { rk, recorder } = receiver();
    expect(expectOk(await rk.getInfo())).toEqual(examples.response('getReceiverInfo'));
    expectNoViolations(recorder, 1);
  });

  it('sendPem sends a PEM with used and produced artifacts, after reading the size limit', async () => {
    const { rk, recorder } = receiver();
    const previous = rk.preparePem('ingest');
    const pem = rk
      .preparePem('train', { predecessor: previous, properties: { epochs: 10, lr: 0.01, tags: ['a'], nested: { ok: true, none: null } } })
      .usesArtifact(rk.prepareArtifact('dataset-a', { uri: 's3://bucket/a.csv' }))
      .usesArtifact(rk.prepareArtifact('config-a'))
      .producesArtifact(rk.prepareArtifact('model-a', { uri: 's3://bucket/model-a.bin', sha256: 'abc' }));
    // Prism answers its example acknowledgement, for another ID: any 2xx acknowledges this PEM.
    expect(expectOk(await rk.sendPem(pem))).toMatchObject({ ID: pem.ID, status: examples.response<{ status: string }>('sendPem').status });
    expect(recorder.responses.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual(['GET /info', 'POST /pem']);
    expectNoViolations(recorder, 2);
  });

  it('sendPem takes a PEM as wire JSON too', async () => {
    const { rk, recorder } = receiver();
    const wire = JSON.parse(JSON.stringify(rk.preparePem('ingest').producesArtifact(rk.prepareArtifact('dataset-a'))));
    expectOk(await rk.sendPem(wire));
    expectNoViolations(recorder, 2);
  });

  it('sendPem needs no credential, as the spec allows', async () => {
    const { rk, recorder } = receiver({});
    expectOk(await rk.sendPem(rk.preparePem('ingest')));
    expectNoViolations(recorder, 2);
  });

  it('setTag moves a tag to a PEM or a PEM ID', async () => {
    const { rk, recorder } = receiver();
    const pem = rk.preparePem('train');
    const expected = examples.response('setTag');
    expect(expectOk(await rk.setTag('trainer', 'production', pem))).toEqual(expected);
    expect(expectOk(await rk.setTag('trainer', 'production', pem.ID))).toEqual(expected);
    expectNoViolations(recorder, 2);
  });

  it('setTag sends a tag whose base64 holds "/", "+" and "=" as one percent-encoded path segment', async () => {
    const { rk, recorder } = receiver();
    const namespace = 'ml?ü>?';
    const tag = 'ml?ü>~';
    for (const text of [namespace, tag]) expect(Buffer.from(text).toString('base64')).toMatch(/^(?=.*\/)(?=.*\+).*=$/);
    expectOk(await rk.setTag(namespace, tag, EXAMPLE_ID));
    expectNoViolations(recorder, 1);
    const segments = new URL(recorder.responses[0]!.url).pathname.split('/');
    expect(segments).toHaveLength(5); // '', 'tag', namespace, tag, pem_id
    expect(segments.slice(2, 4).map(decodeURIComponent)).toEqual([namespace, tag].map((t) => Buffer.from(t).toString('base64')));
  });
});

describe('RKClient errors from the Receiver', () => {
  it('setTag without a credential is an RKHttpError 401 that names the operation', async () => {
    const { rk, recorder } = receiver({});
    const error = expectHttpError(await rk.setTag('trainer', 'production', EXAMPLE_ID));
    expect(error.status).toBe(401);
    expect(error.code).toBe('unauthorized');
    expect(error.message).toMatch(/^Setting tag failed: HTTP 401 Unauthorized: A credential is required/);
    expect(recorder.responses).toHaveLength(1);
  });
});
