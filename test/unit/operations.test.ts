import { describe, expect, it } from 'vitest';
import { RKAdmin, RKClient, RKInvalidInputError, RKQuery, RKUnexpectedResponseError, type Result } from '../../src/index.js';
import { json, receiverInfo, recordingFetch, text } from '../helpers/recording-fetch.js';

/**
 * The typed escape hatch, `call(operationId, input, call?)`: every operation of a spec by its
 * operationId, run by the same core as the facade methods (retries, credential, deadlines, errors,
 * a Result that never rejects), and a JavaScript caller's mistake refused before any request.
 */

const QUERY = 'http://rk.test/query';
const GRAPH = 'http://rk.test/graph-builder';
const RECEIVER = 'http://rk.test/receiver';
const ID = '0192f3a4b5c67d8e9f0a1b2c3d4e5f60';
const REPORT_ID = '3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
const stored = { ID, Type: 'train', Emitter: 'e', TimestampClient: '2026-12-01 00:00:00', Properties: {}, Tag: 'latest', TagNamespace: 'e', UsesArtifacts: [], ProducesArtifacts: [] };

function errorOf<T>(result: Result<T>): Error {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  return result.error;
}

describe('call(operationId, input) on the facades', () => {
  it('reads a PEM by operationId, exactly as getPem asks, with the credential and retries of the client', async () => {
    const { fetch, requests } = recordingFetch(() => json({ message: 'busy' }, 503), () => json(stored));
    const query = new RKQuery(QUERY, { fetch, userAuth: 'u-secret', retry: { baseDelayMs: 1 } });
    // The README's example.
    const pem = await query.call('getPem', { path: { pem_id: ID } });
    expect(pem).toEqual({ ok: true, value: stored });
    expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual([`GET ${QUERY}/pem/${ID}`, `GET ${QUERY}/pem/${ID}`]);
    expect(requests[1]!.headers.get('x-rk-user-auth')).toBe('u-secret');
    expect(requests[1]!.headers.get('x-rk-attempt')).toBe('2');
    expect(query.stats().retries).toBe(1);
  });

  it('serializes query parameters as top-level form parameters, in the order given', async () => {
    const { fetch, requests } = recordingFetch(() => json([]));
    const listed = await new RKQuery(QUERY, { fetch }).call('listPems', { query: { pageSize: 2, sortOrder: 'desc', Type: 'a b/c', Emitter: 'x' } });
    expect(listed).toEqual({ ok: true, value: [] });
    expect(requests[0]!.url).toBe(`${QUERY}/pems?pageSize=2&sortOrder=desc&Type=a%20b%2Fc&Emitter=x`);
  });

  it('sends a body as JSON and reads a known text reply as text', async () => {
    const { fetch, requests } = recordingFetch(() => text('[[3]]'));
    const rows = await new RKQuery(QUERY, { fetch }).call('queryGraph', { body: { query: 'MATCH (a:Artifact) RETURN count(a);', type: 'r' } });
    expect(rows).toEqual({ ok: true, value: '[[3]]' });
    expect(requests[0]!.method).toBe('POST');
    expect(requests[0]!.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(requests[0]!.body)).toEqual({ query: 'MATCH (a:Artifact) RETURN count(a);', type: 'r' });
  });

  it('reaches both services of RKAdmin, and reads an ours reply from any 2xx as its text', async () => {
    const { fetch, requests } = recordingFetch(() => text('OK'), () => json({ report_id: REPORT_ID }, 202));
    const admin = new RKAdmin(QUERY, GRAPH, { fetch });
    expect(await admin.call('rebuildGraph', { body: {} })).toEqual({ ok: true, value: 'OK' });
    expect(await admin.call('verifyArtifactConnections', { body: {} })).toEqual({ ok: true, value: { report_id: REPORT_ID } });
    expect(requests.map((r) => `${r.method} ${r.url} ${r.body}`)).toEqual([`POST ${GRAPH}/rebuild {}`, `POST ${QUERY}/verify_artifact_connections {}`]);
  });

  it('calls a Receiver operation on RKClient, and a known reply missing a field is an unexpected response', async () => {
    const { fetch } = recordingFetch(() => json(receiverInfo), () => json({ version: '1' }));
    const rk = new RKClient(RECEIVER, 'e', { fetch });
    expect(await rk.call('getReceiverInfo')).toEqual({ ok: true, value: receiverInfo });
    const error = errorOf(await rk.call('getReceiverInfo'));
    expect(error).toBeInstanceOf(RKUnexpectedResponseError);
    expect(error.message).toBe('Calling getReceiverInfo failed: HTTP 200 with an unexpected body: missing pem_version, pem_size_limit, auth_required, pem_auth_required');
    await rk.close();
  });

  it('a listing sends a field filter the spec does not list, for the service to judge; call keeps to the spec', async () => {
    const { fetch, requests } = recordingFetch(() => json([]));
    const query = new RKQuery(QUERY, { fetch });
    expect(await query.getPems({ filters: { Colour: 'red' } as never })).toEqual({ ok: true, value: [] });
    expect(requests[0]!.url).toBe(`${QUERY}/pems?Colour=red`);
    const refused = errorOf(await query.call('listPems', { query: { Colour: 'red' } as never }));
    expect(refused.message).toContain('query.Colour is not a query parameter of listPems');
    expect(requests).toHaveLength(1);
  });

  it('encodes a path parameter as a path segment: base64 keeps = and +, a / becomes %2F', async () => {
    const { fetch, requests } = recordingFetch(() => text(ID));
    const value = await new RKQuery(QUERY, { fetch }).call('getTag', { path: { ns_b64: 'bXkvc2VydmljZQ==', tag_b64: 'a+b/c=' } });
    expect(value).toEqual({ ok: true, value: ID });
    expect(requests[0]!.url).toBe(`${QUERY}/tag/bXkvc2VydmljZQ==/a+b%2Fc=`);
  });
});

describe('a JavaScript caller\'s mistakes in call(): an RKInvalidInputError naming the operation and the parameter, nothing sent', () => {
  const cases: [string, (query: RKQuery) => Promise<Result<unknown>>, string][] = [
    ['an unknown operationId', (q) => (q.call as (id: string) => Promise<Result<unknown>>)('listPemChildren'), 'Calling listPemChildren failed: operationId "listPemChildren" is not an operation of the Query service'],
    ['an operationId of another service', (q) => (q.call as (id: string) => Promise<Result<unknown>>)('getGraphInfo'), 'is not an operation of the Query service'],
    ['a missing path parameter', (q) => q.call('getPem', { path: {} } as never), 'Calling getPem failed: path.pem_id is required by getPem (string)'],
    ['no input where a path parameter is required', (q) => (q.call as (id: string) => Promise<Result<unknown>>)('getPem'), 'path.pem_id is required by getPem'],
    ['a path parameter of the wrong type', (q) => q.call('getPem', { path: { pem_id: 42 as never } }), 'Calling getPem failed: path.pem_id must be a non-empty string, got number 42'],
    ['a query parameter of the wrong type', (q) => q.call('listPems', { query: { pageSize: '10' as never } }), 'Calling listPems failed: query.pageSize must be a whole number, got "10"'],
    ['a parameter the operation does not have', (q) => q.call('listTags', { query: { pageSize: 1 } as never }), 'Calling listTags failed: query.pageSize is not a query parameter of listTags; it takes no query parameters'],
    ['a missing required body', (q) => q.call('queryGraph', {} as never), 'Calling queryGraph failed: body is required by queryGraph'],
    ['a body where the operation takes none', (q) => q.call('getQueryInfo', { body: {} } as never), 'body is not taken by getQueryInfo'],
    ['an input that is no object', (q) => q.call('getPem', 'x' as never), 'Calling getPem failed: input must be an object'],
    ['an input part that is not an object', (q) => q.call('getPem', { path: ID } as never), 'input.path must be an object of parameters'],
    ['an input whose getter throws', (q) => q.call('getPem', { get path(): never { throw new Error('boom'); } } as never), 'Calling getPem failed: input could not be read'],
    ['a call option of the wrong type', (q) => q.call('getQueryInfo', {}, { timeoutMs: -1 }), 'Calling getQueryInfo failed: timeoutMs must be a positive number'],
  ];
  it('repeats no made-up name that may carry a secret: an operationId or a parameter name', async () => {
    const { fetch, requests } = recordingFetch(() => json({}));
    const query = new RKQuery(QUERY, { fetch });
    const secret = 'http://user:s3cret-t0ken@rk.test/';
    const unknownId = errorOf(await (query.call as (id: string) => Promise<Result<unknown>>)(secret));
    const unknownKey = errorOf(await query.call('listTags', { query: { [secret]: 1 } } as never));
    for (const error of [unknownId, unknownKey]) {
      expect(error).toBeInstanceOf(RKInvalidInputError);
      expect(error.message).not.toContain('s3cret-t0ken');
    }
    expect(unknownId.message).toContain('is not an operation of the Query service');
    expect(unknownKey.message).toContain('is not a query parameter of listTags');
    expect(requests).toHaveLength(0);
  });

  for (const [name, make, message] of cases) {
    it(name, async () => {
      const { fetch, requests } = recordingFetch(() => json({}));
      const outcome = make(new RKQuery(QUERY, { fetch }));
      const error = errorOf(await outcome);
      expect(error).toBeInstanceOf(RKInvalidInputError);
      expect(error.message).toContain(message);
      expect(requests).toHaveLength(0);
    });
  }
});
