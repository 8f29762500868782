import { describe, expect, it } from 'vitest';
import { RKHttpError, RKInvalidInputError, RKQuery, RKUnexpectedResponseError, type Result } from '../../src/index.js';
import { json, recordingFetch, text, type RecordedRequest } from '../helpers/recording-fetch.js';

// A path prefix and a trailing slash, as a deployed Query service has them.
const QUERY = 'http://rk.test:8083/rk/query/';
const BASE = 'http://rk.test:8083/rk/query';
const ID = '0192f3a4b5c67d8e9f0a1b2c3d4e5f60';

// The reference client's graph statements, verbatim: any RK graph answers exactly these.
const LIST_STATEMENT = 'MATCH (a:Artifact) RETURN a.rk_id AS rk_id, a.properties as properties, a.created_at as created_at';
const COUNT_STATEMENT = 'MATCH (a:Artifact) RETURN count(a);';

const storedPem = {
  ID,
  Type: 'train',
  Predecessor: '0192f3a4b5c67d8e9f0a1b2c3d4e5f5f',
  Emitter: 'trainer',
  TimestampClient: '2026-11-27 22:06:40',
  TimestampReceived: '2026-11-27 22:06:41',
  Properties: { epochs: 10 },
  Tag: 'latest',
  TagNamespace: 'trainer',
  UsesArtifacts: ['dataset-a'],
  ProducesArtifacts: ['model-a'],
};

// Rows as the graph answers them: properties as JSON text, '' or None; created_at text or None.
const GRAPH_ROWS = [
  "[['dataset-a', '{\"uri\": \"s3://b/a.csv\", \"rows\": 3}', '2026-11-27 22:06:41'],",
  " ['model-b', '', None],",
  " ['model-a', None, '2026-11-28 10:00:00'],",
  ` ["it's-model", '{}', '2026-11-26 00:00:00']]`,
].join('\n');
const datasetA = { Name: 'dataset-a', Properties: { uri: 's3://b/a.csv', rows: '3' }, CreatedAt: '2026-11-27 22:06:41' };
const modelB = { Name: 'model-b', Properties: {}, CreatedAt: null };
const modelA = { Name: 'model-a', Properties: {}, CreatedAt: '2026-11-28 10:00:00' };
const itsModel = { Name: "it's-model", Properties: {}, CreatedAt: '2026-11-26 00:00:00' };

// One attempt per call: these tests pin the wire of each call; retries are tested in test/delivery.
function query(fetch: typeof globalThis.fetch) {
  return new RKQuery(QUERY, { fetch, retry: false });
}

/** A GET with exactly this URL, no body and no content type. */
function expectGet(request: RecordedRequest | undefined, url: string) {
  expect(request?.method).toBe('GET');
  expect(request?.url).toBe(url);
  expect(request?.headers.get('content-type')).toBeNull();
  expect(request?.body).toBe('');
}

/** A POST /query with real JSON: exactly {query, type}. */
function expectGraphQuery(request: RecordedRequest | undefined, statement: string, type: 'r' | 'rw' = 'r') {
  expect(request?.method).toBe('POST');
  expect(request?.url).toBe(`${BASE}/query`);
  expect(request?.headers.get('content-type')).toBe('application/json');
  expect(JSON.parse(request?.body ?? 'null')).toEqual({ query: statement, type });
  expect(request?.body).toBe(JSON.stringify({ query: statement, type }));
}

function errorOf(result: Result<unknown>) {
  expect(result.ok).toBe(false);
  if (result.ok) throw new Error('expected a failure');
  return result.error;
}

describe('getInfo', () => {
  it('asks GET /info under the base path and returns the info', async () => {
    const info = { version: '3.5.0', auth_required: true };
    const { fetch, requests } = recordingFetch(() => json(info));
    expect(await query(fetch).getInfo()).toEqual({ ok: true, value: info });
    expect(requests).toHaveLength(1);
    expectGet(requests[0], `${BASE}/info`);
  });

  it('reports an info without auth_required as an unexpected response', async () => {
    const { fetch } = recordingFetch(() => json({ version: '3.5.0' }));
    const error = errorOf(await query(fetch).getInfo());
    expect(error).toBeInstanceOf(RKUnexpectedResponseError);
    expect(error.message).toBe('Reading Query info failed: HTTP 200 with an unexpected body: missing auth_required');
  });
});

describe('getPem', () => {
  it('asks GET /pem/{id} and returns the stored PEM', async () => {
    const { fetch, requests } = recordingFetch(() => json(storedPem));
    expect(await query(fetch).getPem(ID)).toEqual({ ok: true, value: storedPem });
    expectGet(requests[0], `${BASE}/pem/${ID}`);
  });

  it('reports a missing PEM as an RKHttpError with status 404', async () => {
    const { fetch } = recordingFetch(() => json({ message: 'no PEM with this ID', code: 'not_found' }, 404));
    const error = errorOf(await query(fetch).getPem(ID));
    expect(error).toBeInstanceOf(RKHttpError);
    expect((error as RKHttpError).status).toBe(404);
    expect((error as RKHttpError).code).toBe('not_found');
    expect(error.message).toBe('Reading PEM failed: HTTP 404 Not Found: no PEM with this ID');
  });

  it.each([
    ['not hex', 'not-a-pem-id'],
    ['dashed', '0192f3a4-b5c6-7d8e-9f0a-1b2c3d4e5f60'],
    ['upper case', ID.toUpperCase()],
    ['too short', ID.slice(1)],
    ['empty', ''],
  ])('refuses a %s ID before any request', async (_, pemId) => {
    const { fetch, requests } = recordingFetch(() => json(storedPem));
    const error = errorOf(await query(fetch).getPem(pemId));
    expect(error).toBeInstanceOf(RKInvalidInputError);
    expect(error.message).toMatch(/^Reading PEM failed: pemId must be a PEM ID of 32 lowercase hex digits without dashes/);
    expect(requests).toHaveLength(0);
  });
});

describe('getPems', () => {
  it('sends no query string without options and returns the array', async () => {
    const { fetch, requests } = recordingFetch(() => json([storedPem]));
    expect(await query(fetch).getPems()).toEqual({ ok: true, value: [storedPem] });
    expectGet(requests[0], `${BASE}/pems`);
  });

  it('sends paging first, then each filter as its own top-level parameter', async () => {
    const { fetch, requests } = recordingFetch(() => json([]));
    await query(fetch).getPems({
      filters: { Type: 'train', Emitter: 'trainer' },
      pageIndex: 2,
      pageSize: 10,
      sortField: 'TimestampClient',
      sortOrder: 'desc',
    });
    expectGet(requests[0], `${BASE}/pems?pageIndex=2&pageSize=10&sortField=TimestampClient&sortOrder=desc&Type=train&Emitter=trainer`);
    expect(requests[0]?.url).not.toContain('filters');
    expect(requests[0]?.url).not.toContain('[');
    expect(requests[0]?.url).not.toContain('%5B');
  });

  it('sends pageIndex 0, which is set, not absent', async () => {
    const { fetch, requests } = recordingFetch(() => json([]));
    await query(fetch).getPems({ pageIndex: 0, pageSize: 1 });
    expectGet(requests[0], `${BASE}/pems?pageIndex=0&pageSize=1`);
  });

  it('percent-encodes filter values with spaces, &, =, + and non-ASCII', async () => {
    const { fetch, requests } = recordingFetch(() => json([]));
    await query(fetch).getPems({ filters: { Type: 'a b&c=d+e', Emitter: 'zürich-β' } });
    expectGet(requests[0], `${BASE}/pems?Type=a%20b%26c%3Dd%2Be&Emitter=z%C3%BCrich-%CE%B2`);
    const params = new URL(requests[0]?.url ?? '').searchParams;
    expect([...params.entries()]).toEqual([
      ['Type', 'a b&c=d+e'],
      ['Emitter', 'zürich-β'],
    ]);
  });

  it('reports a body that is not an array as an unexpected response', async () => {
    const { fetch } = recordingFetch(() => json({ items: [] }));
    const error = errorOf(await query(fetch).getPems());
    expect(error.kind).toBe('unexpected_response');
    expect(error.message).toBe('Listing PEMs failed: HTTP 200 with an unexpected body: expected a JSON array');
  });

  it.each([
    ['pageIndex without pageSize', { pageIndex: 1 }, /pageIndex needs pageSize/],
    ['a negative pageIndex', { pageIndex: -1, pageSize: 5 }, /pageIndex must be a whole number from 0, got -1/],
    ['a fractional pageIndex', { pageIndex: 0.5, pageSize: 5 }, /pageIndex must be a whole number from 0, got 0.5/],
    ['a pageSize of 0', { pageSize: 0 }, /pageSize must be a whole number from 1, got 0/],
    ['a negative pageSize', { pageSize: -3 }, /pageSize must be a whole number from 1, got -3/],
    ['a fractional pageSize', { pageSize: 2.5 }, /pageSize must be a whole number from 1, got 2.5/],
    ['a pageSize given as text', { pageSize: '10' }, /pageSize must be a whole number from 1, got "10"/],
    ['a NaN pageSize', { pageSize: NaN }, /pageSize must be a whole number from 1, got NaN/],
    ['a sortOrder other than asc/desc', { sortOrder: 'DESC' }, /sortOrder must be "asc" or "desc", got "DESC"/],
    ['a filter put beside the paging options', { Type: 'train' }, /options\.Type is not a list option/],
    ['a misspelt paging option', { page_size: 10 }, /options\.page_size is not a list option/],
    ['a filter value that is a number', { filters: { Type: 3 } }, /filters\.Type must be a string, got number/],
    ['a filter value that is null', { filters: { Predecessor: null } }, /filters\.Predecessor must be a string, got object/],
    ['filters that are not an object', { filters: 'Type=train' }, /filters must be an object/],
    ['options that are not an object', 'pageSize=10', /options must be an object/],
  ])('refuses %s before any request', async (_, options, message) => {
    const { fetch, requests } = recordingFetch(() => json([]));
    const error = errorOf(await query(fetch).getPems(options as never));
    expect(error).toBeInstanceOf(RKInvalidInputError);
    expect(error.message).toMatch(/^Listing PEMs failed: /);
    expect(error.message).toMatch(message);
    expect(requests).toHaveLength(0);
  });
});

describe('getPemsCount', () => {
  it('sends the filters as top-level parameters and returns the number', async () => {
    const { fetch, requests } = recordingFetch(() => json({ pems_count: 42 }));
    expect(await query(fetch).getPemsCount({ Type: 'train', TagNamespace: 'my ns' })).toEqual({ ok: true, value: 42 });
    expectGet(requests[0], `${BASE}/pems_count?Type=train&TagNamespace=my%20ns`);
  });

  it('sends no query string without filters', async () => {
    const { fetch, requests } = recordingFetch(() => json({ pems_count: 0 }));
    expect(await query(fetch).getPemsCount()).toEqual({ ok: true, value: 0 });
    expectGet(requests[0], `${BASE}/pems_count`);
  });

  it('reports a count under the wrong key as an unexpected response', async () => {
    const { fetch } = recordingFetch(() => json({ count: 42 }));
    const error = errorOf(await query(fetch).getPemsCount());
    expect(error.message).toBe('Counting PEMs failed: HTTP 200 with an unexpected body: expected {"pems_count": <count>}');
  });

  it.each([
    ['a filter value that is a number', { Type: 3 }, /filters\.Type must be a string, got number/],
    ['a filter value that is a boolean', { Tag: true }, /filters\.Tag must be a string, got boolean/],
    ['filters that are not an object', ['Type', 'train'], /filters must be an object/],
  ])('refuses %s before any request', async (_, filters, message) => {
    const { fetch, requests } = recordingFetch(() => json({ pems_count: 1 }));
    const error = errorOf(await query(fetch).getPemsCount(filters as never));
    expect(error).toBeInstanceOf(RKInvalidInputError);
    expect(error.message).toMatch(message);
    expect(requests).toHaveLength(0);
  });
});

describe('getArtifacts from the tables (sqldb)', () => {
  const artifacts = [
    { Name: 'dataset-a', Properties: { uri: 's3://b/a.csv' }, CreatedAt: '2026-11-27 22:06:41' },
    { Name: 'model-a', Properties: {}, CreatedAt: '2026-11-28 10:00:00' },
  ];

  it('asks GET /artifacts without a query string by default and returns the array', async () => {
    const { fetch, requests } = recordingFetch(() => json(artifacts));
    expect(await query(fetch).getArtifacts()).toEqual({ ok: true, value: artifacts });
    expectGet(requests[0], `${BASE}/artifacts`);
  });

  it('is the default source: source "sqldb" sends the same request and never asks /query', async () => {
    const { fetch, requests } = recordingFetch(() => json(artifacts));
    await query(fetch).getArtifacts({ source: 'sqldb', pageSize: 2, filters: { Name: 'model' } });
    expect(requests).toHaveLength(1);
    expectGet(requests[0], `${BASE}/artifacts?pageSize=2&Name=model`);
    expect(requests[0]?.url).not.toContain('source');
  });

  it('sends paging first and the Name filter as a top-level, percent-encoded parameter', async () => {
    const { fetch, requests } = recordingFetch(() => json([]));
    await query(fetch).getArtifacts({
      filters: { Name: 'data set&v=2 é' },
      pageIndex: 3,
      pageSize: 25,
      sortField: 'Name',
      sortOrder: 'asc',
    });
    expectGet(requests[0], `${BASE}/artifacts?pageIndex=3&pageSize=25&sortField=Name&sortOrder=asc&Name=data%20set%26v%3D2%20%C3%A9`);
    expect(requests[0]?.url).not.toContain('filters');
    expect(new URL(requests[0]?.url ?? '').searchParams.get('Name')).toBe('data set&v=2 é');
  });

  it.each([
    ['a source other than sqldb/graphdb', { source: 'neo4j' }, /source must be "tables" \(or "sqldb"\) or "graph" \(or "graphdb"\), got "neo4j"/],
    ['pageIndex without pageSize', { pageIndex: 0 }, /pageIndex needs pageSize/],
    ['a negative pageIndex', { pageIndex: -1, pageSize: 1 }, /pageIndex must be a whole number from 0/],
    ['a sortOrder other than asc/desc', { sortOrder: 'down' }, /sortOrder must be "asc" or "desc", got "down"/],
    ['the Name filter beside the paging options', { Name: 'model' }, /options\.Name is not a list option/],
    ['a Name filter that is not a string', { filters: { Name: 42 } }, /filters\.Name must be a string, got number/],
    ['options that are not an object', null, /options must be an object/],
  ])('refuses %s before any request', async (_, options, message) => {
    const { fetch, requests } = recordingFetch(() => json([]));
    const error = errorOf(await query(fetch).getArtifacts(options as never));
    expect(error).toBeInstanceOf(RKInvalidInputError);
    expect(error.message).toMatch(/^Listing artifacts failed: /);
    expect(error.message).toMatch(message);
    expect(requests).toHaveLength(0);
  });
});

describe('getArtifacts from the graph (graphdb)', () => {
  it("sends the reference client's statement as real JSON and parses the Python-literal rows", async () => {
    const { fetch, requests } = recordingFetch(() => text(GRAPH_ROWS));
    const result = await query(fetch).getArtifacts({ source: 'graphdb' });
    expect(result).toEqual({ ok: true, value: [datasetA, modelB, modelA, itsModel] });
    expect(requests).toHaveLength(1);
    expectGraphQuery(requests[0], LIST_STATEMENT);
  });

  it('applies the Name contains-filter, sorting and paging client-side, sending the same statement', async () => {
    const { fetch, requests } = recordingFetch(() => text(GRAPH_ROWS));
    const rk = query(fetch);
    const options = { source: 'graphdb', filters: { Name: 'model' }, sortField: 'CreatedAt', sortOrder: 'desc' } as const;

    // Newest first; an artifact without CreatedAt sorts last when descending.
    expect(await rk.getArtifacts(options)).toEqual({ ok: true, value: [modelA, itsModel, modelB] });
    expect(await rk.getArtifacts({ ...options, pageSize: 1, pageIndex: 1 })).toEqual({ ok: true, value: [itsModel] });
    expect(await rk.getArtifacts({ ...options, pageSize: 2, pageIndex: 1 })).toEqual({ ok: true, value: [modelB] });
    expect(await rk.getArtifacts({ ...options, pageSize: 2, pageIndex: 2 })).toEqual({ ok: true, value: [] });
    expect(await rk.getArtifacts({ source: 'graphdb', sortField: 'Name' })).toEqual({
      ok: true,
      value: [datasetA, itsModel, modelA, modelB],
    });
    expect(await rk.getArtifacts({ source: 'graphdb', sortField: 'CreatedAt', sortOrder: 'asc', pageSize: 2 })).toEqual({
      ok: true,
      value: [modelB, itsModel],
    });
    expect(requests).toHaveLength(6);
    for (const request of requests) expectGraphQuery(request, LIST_STATEMENT);
  });

  it('reads properties given as a Python dict, turning non-string values into JSON text', async () => {
    const { fetch } = recordingFetch(() => text("[('m', {'size': 3, 'uri': 's3://m', 'ok': True}, None)]"));
    expect(await query(fetch).getArtifacts({ source: 'graphdb' })).toEqual({
      ok: true,
      value: [{ Name: 'm', Properties: { size: '3', uri: 's3://m', ok: 'true' }, CreatedAt: null }],
    });
  });

  it('refuses the same invalid paging as the tables, before any request', async () => {
    const { fetch, requests } = recordingFetch(() => text(GRAPH_ROWS));
    const error = errorOf(await query(fetch).getArtifacts({ source: 'graphdb', pageIndex: 1 }));
    expect(error).toBeInstanceOf(RKInvalidInputError);
    expect(error.message).toBe('Listing artifacts failed: pageIndex needs pageSize; without pageSize the list holds every match');
    expect(requests).toHaveLength(0);
  });

  it.each([
    ['a filter other than Name', { source: 'graphdb', filters: { Type: 'train' } }],
    ['a sortField artifacts do not have', { source: 'graphdb', sortField: 'TimestampClient' }],
  ])('refuses %s instead of silently ignoring it, before any request', async (_, options) => {
    // The tables answer 400 for an unknown filter or sort field; the graph source must not quietly
    // return every artifact unfiltered or unsorted instead.
    const { fetch, requests } = recordingFetch(() => text(GRAPH_ROWS));
    const error = errorOf(await query(fetch).getArtifacts(options as never));
    expect(error).toBeInstanceOf(RKInvalidInputError);
    expect(requests).toHaveLength(0);
  });

  it.each([
    ['text that is not a Python literal', '<html>gateway</html>', /^Querying graph failed: HTTP 200 with an unexpected body: rows could not be read: /],
    ['a row that is not a list', "['m']", /^Querying graph failed: HTTP 200 with an unexpected body: rows could not be read: Expected row 0 to be a list or tuple/],
    ['a row without a name', "[['dataset-a', '', None], ['', '', None]]", /^Listing artifacts failed: HTTP 200 with an unexpected body: graph row 1 has no artifact name$/],
    ['a row whose name is not text', '[[7, None, None]]', /^Listing artifacts failed: HTTP 200 with an unexpected body: graph row 0 has no artifact name$/],
    ['properties that are not JSON', "[['m', '{uri: x}', None]]", /^Listing artifacts failed: HTTP 200 with an unexpected body: graph row 0 has properties that are not JSON$/],
    ['properties that are a JSON array', "[['m', '[1, 2]', None]]", /^Listing artifacts failed: HTTP 200 with an unexpected body: graph row 0 has properties that are not an object$/],
    ['a created_at that is not text', "[['m', '', 1700000000]]", /^Listing artifacts failed: HTTP 200 with an unexpected body: graph row 0 has a created_at that is not text$/],
  ])('reports %s as an unexpected response naming the problem', async (_, body, message) => {
    const { fetch } = recordingFetch(() => text(body));
    const error = errorOf(await query(fetch).getArtifacts({ source: 'graphdb' }));
    expect(error).toBeInstanceOf(RKUnexpectedResponseError);
    expect(error.kind).toBe('unexpected_response');
    expect((error as RKUnexpectedResponseError).status).toBe(200);
    expect(error.message).toMatch(message);
  });

  it('reports a failing /query as an RKHttpError', async () => {
    const { fetch } = recordingFetch(() => json({ message: 'Neo4j is not reachable' }, 503));
    const error = errorOf(await query(fetch).getArtifacts({ source: 'graphdb' }));
    expect(error).toBeInstanceOf(RKHttpError);
    expect((error as RKHttpError).status).toBe(503);
    expect(error.message).toBe('Querying graph failed: HTTP 503 Service Unavailable: Neo4j is not reachable');
  });
});

describe('getArtifactsCount', () => {
  it('asks GET /artifacts_count with the Name filter from the tables', async () => {
    const { fetch, requests } = recordingFetch(() => json({ artifacts_count: 7 }));
    expect(await query(fetch).getArtifactsCount({ source: 'sqldb', filters: { Name: 'model a&b' } })).toEqual({ ok: true, value: 7 });
    expectGet(requests[0], `${BASE}/artifacts_count?Name=model%20a%26b`);
  });

  it('reads the tables by default, with no query string without a filter', async () => {
    const { fetch, requests } = recordingFetch(() => json({ artifacts_count: 0 }));
    expect(await query(fetch).getArtifactsCount()).toEqual({ ok: true, value: 0 });
    expectGet(requests[0], `${BASE}/artifacts_count`);
  });

  it.each([
    ['a negative count', { artifacts_count: -1 }],
    ['a fractional count', { artifacts_count: 1.5 }],
    ['a count under another key', { pems_count: 3 }],
    ['a count as text', { artifacts_count: '7' }],
  ])('reports %s as an unexpected response', async (_, body) => {
    const { fetch } = recordingFetch(() => json(body));
    const error = errorOf(await query(fetch).getArtifactsCount());
    expect(error.message).toBe('Counting artifacts failed: HTTP 200 with an unexpected body: expected {"artifacts_count": <count>}');
  });

  it('counts the graph with the reference count statement, answered as [[N]]', async () => {
    const { fetch, requests } = recordingFetch(() => text('[[3]]'));
    expect(await query(fetch).getArtifactsCount({ source: 'graphdb' })).toEqual({ ok: true, value: 3 });
    expect(requests).toHaveLength(1);
    expectGraphQuery(requests[0], COUNT_STATEMENT);
  });

  it('counts the graph with a Name filter by listing and applying the contains-filter', async () => {
    const { fetch, requests } = recordingFetch(() => text(GRAPH_ROWS));
    expect(await query(fetch).getArtifactsCount({ source: 'graphdb', filters: { Name: 'model' } })).toEqual({ ok: true, value: 3 });
    expect(requests).toHaveLength(1);
    expectGraphQuery(requests[0], LIST_STATEMENT);
  });

  it.each([
    ['no rows', '[]'],
    ['a count as text', "[['3']]"],
    ['a negative count', '[[-1]]'],
    ['a count that is None', '[[None]]'],
  ])('reports a graph count with %s as an unexpected response', async (_, body) => {
    const { fetch } = recordingFetch(() => text(body));
    const error = errorOf(await query(fetch).getArtifactsCount({ source: 'graphdb' }));
    expect(error).toBeInstanceOf(RKUnexpectedResponseError);
    expect(error.message).toBe('Counting artifacts failed: HTTP 200 with an unexpected body: expected [[<count>]]');
  });

  it.each([
    ['a source other than sqldb/graphdb', { source: 'postgres' }, /source must be "tables" \(or "sqldb"\) or "graph" \(or "graphdb"\), got "postgres"/],
    ['a Name filter that is not a string', { filters: { Name: ['model'] } }, /filters\.Name must be a string, got object/],
    ['filters that are not an object', { filters: 'model' }, /filters must be an object/],
    // Without `filters`, a Name put at the top level would silently count every artifact.
    ['the Name filter put beside source', { Name: 'model' }, /Name/],
    ['options that are not an object', 'model', /options/],
  ])('refuses %s before any request', async (_, options, message) => {
    const { fetch, requests } = recordingFetch(() => json({ artifacts_count: 99 }));
    const error = errorOf(await query(fetch).getArtifactsCount(options as never));
    expect(error).toBeInstanceOf(RKInvalidInputError);
    expect(error.message).toMatch(/^Counting artifacts failed: /);
    expect(error.message).toMatch(message);
    expect(requests).toHaveLength(0);
  });
});

describe('getArtifact', () => {
  const contains = [
    { Name: 'model-a2', Properties: {}, CreatedAt: '2026-11-28 10:00:00' },
    { Name: 'model-a', Properties: { uri: 's3://m/a' }, CreatedAt: '2026-11-27 10:00:00' },
    { Name: 'big-model-a', Properties: {}, CreatedAt: '2026-11-29 10:00:00' },
  ];

  it('lists by the Name contains-filter and picks the exact Name', async () => {
    const { fetch, requests } = recordingFetch(() => json(contains));
    expect(await query(fetch).getArtifact('model-a')).toEqual({ ok: true, value: contains[1] });
    expect(requests).toHaveLength(1);
    expectGet(requests[0], `${BASE}/artifacts?Name=model-a`);
  });

  it('returns null when only names containing it exist', async () => {
    const { fetch } = recordingFetch(() => json(contains));
    expect(await query(fetch).getArtifact('model')).toEqual({ ok: true, value: null });
  });

  it('returns null when nothing matches', async () => {
    const { fetch } = recordingFetch(() => json([]));
    expect(await query(fetch).getArtifact('missing')).toEqual({ ok: true, value: null });
  });

  it('percent-encodes the name in the filter', async () => {
    const { fetch, requests } = recordingFetch(() => json([]));
    await query(fetch).getArtifact('run 1/α&x=y');
    expectGet(requests[0], `${BASE}/artifacts?Name=run%201%2F%CE%B1%26x%3Dy`);
  });

  it('reads the graph when asked, picking the exact Name from the rows', async () => {
    const { fetch, requests } = recordingFetch(() => text(GRAPH_ROWS));
    expect(await query(fetch).getArtifact('model-a', { source: 'graphdb' })).toEqual({ ok: true, value: modelA });
    expectGraphQuery(requests[0], LIST_STATEMENT);
  });

  it('passes a failure through', async () => {
    const { fetch } = recordingFetch(() => json({ message: 'bad credential' }, 401));
    const error = errorOf(await query(fetch).getArtifact('model-a'));
    expect((error as RKHttpError).status).toBe(401);
  });

  it.each([[''], ['   '], [undefined]])('refuses the name %j before any request', async (name) => {
    const { fetch, requests } = recordingFetch(() => json(contains));
    const error = errorOf(await query(fetch).getArtifact(name as never));
    expect(error).toBeInstanceOf(RKInvalidInputError);
    expect(error.message).toMatch(/^Reading artifact failed: name must be a non-empty string/);
    expect(requests).toHaveLength(0);
  });
});

describe('getArtifactLatest', () => {
  it('sends exactly the reference query and returns the one artifact', async () => {
    const latest = { Name: 'model-b', Properties: {}, CreatedAt: '2026-11-29 10:00:00' };
    const { fetch, requests } = recordingFetch(() => json([latest]));
    expect(await query(fetch).getArtifactLatest('model')).toEqual({ ok: true, value: latest });
    expect(requests).toHaveLength(1);
    expectGet(requests[0], `${BASE}/artifacts?pageSize=1&sortField=CreatedAt&sortOrder=desc&Name=model`);
  });

  it('returns null when no artifact matches', async () => {
    const { fetch } = recordingFetch(() => json([]));
    expect(await query(fetch).getArtifactLatest('model')).toEqual({ ok: true, value: null });
  });

  it('percent-encodes the name', async () => {
    const { fetch, requests } = recordingFetch(() => json([]));
    await query(fetch).getArtifactLatest('my model&co=1 ü');
    expectGet(requests[0], `${BASE}/artifacts?pageSize=1&sortField=CreatedAt&sortOrder=desc&Name=my%20model%26co%3D1%20%C3%BC`);
  });

  it('refuses an empty name before any request', async () => {
    const { fetch, requests } = recordingFetch(() => json([]));
    const error = errorOf(await query(fetch).getArtifactLatest(''));
    expect(error.message).toMatch(/^Reading latest artifact failed: name must be a non-empty string/);
    expect(requests).toHaveLength(0);
  });
});

describe('getTag', () => {
  it.each([
    ['plain ASCII', 'ml', 'production', 'bWw=', 'cHJvZHVjdGlvbg=='],
    ['base64 holding / and =', 'prod/β', '???', 'cHJvZC%2FOsg==', 'Pz8%2F'],
    ['base64 holding +', 'a?>', '~~~', 'YT8+', 'fn5+'],
  ])('sends the base64 path segments raw as the reference client does, only / as %%2F (%s)', async (_, namespace, tagName, nsSegment, tagSegment) => {
    const { fetch, requests } = recordingFetch(() => text(ID));
    expect(await query(fetch).getTag(namespace, tagName)).toEqual({ ok: true, value: ID });
    expect(requests).toHaveLength(1);
    expectGet(requests[0], `${BASE}/tag/${nsSegment}/${tagSegment}`);
    expect(decodeURIComponent(nsSegment)).toBe(Buffer.from(namespace).toString('base64'));
    expect(decodeURIComponent(tagSegment)).toBe(Buffer.from(tagName).toString('base64'));
  });

  it.each([
    ['bare text', () => text(ID)],
    ['bare text with a trailing newline', () => text(`${ID}\n`)],
    ['a JSON string', () => json(ID)],
    ['a JSON string sent as text', () => text(`"${ID}"`)],
  ])('reads the tagged PEM ID sent as %s', async (_, answer) => {
    const { fetch } = recordingFetch(answer);
    expect(await query(fetch).getTag('ml', 'production')).toEqual({ ok: true, value: ID });
  });

  it('returns null for a tag that does not exist (404)', async () => {
    const { fetch, requests } = recordingFetch(() => json({ message: 'no such tag', code: 'not_found' }, 404));
    expect(await query(fetch).getTag('ml', 'production')).toEqual({ ok: true, value: null });
    expect(requests).toHaveLength(1);
  });

  it.each([
    [401, 'Unauthorized'],
    [403, 'Forbidden'],
    [422, 'Unprocessable Entity'],
  ])('reports a %i as an RKHttpError, not as a missing tag', async (status, phrase) => {
    const { fetch } = recordingFetch(() => json({ message: 'refused' }, status));
    const error = errorOf(await query(fetch).getTag('ml', 'production'));
    expect(error).toBeInstanceOf(RKHttpError);
    expect((error as RKHttpError).status).toBe(status);
    const hint = status === 401 ? '; pass a credential in the client options: pucAuth (a machine credential from your RK admin) or userAuth (a personal one from the RK Dashboard)' : status === 403 ? '; the credential is valid but may not do this; ask your RK admin for one that may' : '';
    expect(error.message).toBe(`Reading tag failed: HTTP ${status} ${phrase}: refused${hint}`);
    expect(error.kind).toBe(status === 422 ? 'rejected' : 'auth');
  });

  it.each([
    ['an HTML page', '<html>login</html>', 'expected a PEM ID of 32 hex digits'],
    ['an empty body', '', 'expected a PEM ID of 32 hex digits'],
    ['a dashed UUID', '0192f3a4-b5c6-7d8e-9f0a-1b2c3d4e5f60', 'expected a PEM ID of 32 hex digits'],
    ['a JSON string that is not an ID', '"latest"', 'expected a PEM ID of 32 hex digits'],
    ['a broken JSON string', `"${ID}`, 'a quoted PEM ID that is not valid JSON'],
  ])('reports %s as an unexpected response', async (_, body, problem) => {
    const { fetch } = recordingFetch(() => text(body));
    const error = errorOf(await query(fetch).getTag('ml', 'production'));
    expect(error).toBeInstanceOf(RKUnexpectedResponseError);
    expect(error.kind).toBe('unexpected_response');
    expect(error.message).toBe(`Reading tag failed: HTTP 200 with an unexpected body: ${problem}`);
  });

  it.each([
    ['', 'production', /namespace must be a non-empty string/],
    ['  ', 'production', /namespace must be a non-empty string/],
    ['ml', '', /tagName must be a non-empty string/],
    ['ml', 7, /tagName must be a non-empty string, got number 7/],
  ])('refuses namespace %j and tag %j before any request', async (namespace, tagName, message) => {
    const { fetch, requests } = recordingFetch(() => text(ID));
    const error = errorOf(await query(fetch).getTag(namespace, tagName as never));
    expect(error).toBeInstanceOf(RKInvalidInputError);
    expect(error.message).toMatch(/^Reading tag failed: /);
    expect(error.message).toMatch(message);
    expect(requests).toHaveLength(0);
  });
});

describe('getTags and getTagsCount', () => {
  it('getTags asks GET /tags and returns the records', async () => {
    const tags = [{ NamespaceID: 'ml', Tag: 'production', EventID: ID, UpdatedAt: '2026-11-27 22:07:00' }];
    const { fetch, requests } = recordingFetch(() => json(tags));
    expect(await query(fetch).getTags()).toEqual({ ok: true, value: tags });
    expectGet(requests[0], `${BASE}/tags`);
  });

  it('getTags reports a body that is not an array as an unexpected response', async () => {
    const { fetch } = recordingFetch(() => json({ tags: [] }));
    const error = errorOf(await query(fetch).getTags());
    expect(error.message).toBe('Listing tags failed: HTTP 200 with an unexpected body: expected a JSON array');
  });

  it('getTagsCount asks GET /tags_count and returns the number', async () => {
    const { fetch, requests } = recordingFetch(() => json({ tags_count: 3 }));
    expect(await query(fetch).getTagsCount()).toEqual({ ok: true, value: 3 });
    expectGet(requests[0], `${BASE}/tags_count`);
  });
});

describe('queryGraph', () => {
  it('sends real JSON even when the query holds quotes, backslashes and newlines', async () => {
    const statement = 'MATCH (a:Artifact {rk_id: "model \\"a\\""})\nRETURN a.rk_id AS "id", \'x\'';
    const { fetch, requests } = recordingFetch(() => text("[['model \"a\"', True, None, 1.5, -2]]"));
    const result = await query(fetch).queryGraph(statement, 'rw');
    expect(result).toEqual({ ok: true, value: [['model "a"', true, null, 1.5, -2]] });
    expect(requests).toHaveLength(1);
    expectGraphQuery(requests[0], statement, 'rw');
  });

  it("reads with type 'r' by default", async () => {
    const { fetch, requests } = recordingFetch(() => text('[[3]]'));
    expect(await query(fetch).queryGraph(COUNT_STATEMENT)).toEqual({ ok: true, value: [[3]] });
    expectGraphQuery(requests[0], COUNT_STATEMENT, 'r');
  });

  it('returns an empty list of rows as []', async () => {
    const { fetch } = recordingFetch(() => text('[]'));
    expect(await query(fetch).queryGraph('MATCH (n:Nothing) RETURN n')).toEqual({ ok: true, value: [] });
  });

  it('reports rows it cannot read as an unexpected response naming the problem', async () => {
    const { fetch } = recordingFetch(() => text('[[3]'));
    const error = errorOf(await query(fetch).queryGraph(COUNT_STATEMENT));
    expect(error).toBeInstanceOf(RKUnexpectedResponseError);
    expect(error.message).toMatch(/^Querying graph failed: HTTP 200 with an unexpected body: rows could not be read: /);
    expect((error as RKUnexpectedResponseError).body).toBe('[[3]');
  });

  it('reports an answer that is not a list of rows as an unexpected response', async () => {
    const { fetch } = recordingFetch(() => text('3'));
    const error = errorOf(await query(fetch).queryGraph(COUNT_STATEMENT));
    expect(error.kind).toBe('unexpected_response');
    expect(error.message).toMatch(/rows could not be read: Expected a list of rows/);
  });

  it.each([
    ['an empty query', '', 'r', /query must be a non-empty string/],
    ['a blank query', ' \n ', 'r', /query must be a non-empty string/],
    ['a query that is not text', 42, 'r', /query must be a non-empty string, got number 42/],
    ['a type other than r/rw', COUNT_STATEMENT, 'w', /type must be "read" \(or "r"\) or "write" \(or "rw"\), got "w"/],
    ['an upper-case type', COUNT_STATEMENT, 'R', /type must be "read" \(or "r"\) or "write" \(or "rw"\), got "R"/],
  ])('refuses %s before any request', async (_, statement, type, message) => {
    const { fetch, requests } = recordingFetch(() => text('[]'));
    const error = errorOf(await query(fetch).queryGraph(statement as never, type as never));
    expect(error).toBeInstanceOf(RKInvalidInputError);
    expect(error.message).toMatch(/^Querying graph failed: /);
    expect(error.message).toMatch(message);
    expect(requests).toHaveLength(0);
  });
});
