import { describe, expect, it } from 'vitest';
import { RKQuery, type RKOptions } from '../../src/index.js';
import { prismFetch } from '../helpers/prism-fetch.js';
import { parsePythonLiteral } from '../../src/wire/index.js';
import { specExamples } from './spec-examples.js';
import { expectHttpError, expectNoViolations, expectOk, mocks } from './mocks.js';

/** RKQuery against a Prism mock of openapi/query.yaml: every call must be one the spec allows. */
// Every expected value is the spec's own example (what Prism answers), read from openapi/query.yaml.
const examples = await specExamples('query');
const storedPem = examples.response<Record<string, unknown>>('getPem');
const EXAMPLE_ID = examples.parameter('getPem', 'pem_id');
const PREDECESSOR_ID = storedPem.Predecessor as string;
const artifacts = examples.response<{ Name: string }[]>('listArtifacts');
const datasetA = artifacts[0]!;
const tags = examples.response<unknown[]>('listTags');
const counts = {
  pems: examples.response<{ pems_count: number }>('countPems').pems_count,
  artifacts: examples.response<{ artifacts_count: number }>('countArtifacts').artifacts_count,
  tags: examples.response<{ tags_count: number }>('countTags').tags_count,
};
const countRows = parsePythonLiteral(examples.response<string>('queryGraph', { media: 'text/plain', name: 'count' })) as number[][];

function query(options: RKOptions = { userAuth: 'contract-test' }) {
  const recorder = prismFetch();
  const rk = new RKQuery(mocks.query, { ...options, fetch: recorder.fetch });
  return { rk, recorder };
}

/** The query string each recorded request carried, as [name, value] pairs in order. */
function params(recorder: ReturnType<typeof prismFetch>, index = 0): [string, string][] {
  return [...new URL(recorder.responses[index]!.url).searchParams.entries()];
}

describe('RKQuery against the Query spec', () => {
  it('getInfo', async () => {
    const { rk, recorder } = query();
    expect(expectOk(await rk.getInfo())).toEqual(examples.response('getQueryInfo'));
    expectNoViolations(recorder, 1);
  });

  it('getPem', async () => {
    const { rk, recorder } = query();
    expect(expectOk(await rk.getPem(EXAMPLE_ID))).toEqual(storedPem);
    expectNoViolations(recorder, 1);
  });

  it('getPems with paging, sorting and every filter, each filter a top-level parameter', async () => {
    const { rk, recorder } = query();
    const filters = {
      ID: EXAMPLE_ID,
      Type: 'train',
      Predecessor: PREDECESSOR_ID,
      Emitter: 'trainer',
      TimestampClient: '2026-11-27 22:06:40',
      Tag: 'latest',
      TagNamespace: 'trainer',
    };
    const pems = expectOk(await rk.getPems({ pageIndex: 1, pageSize: 20, sortField: 'TimestampReceived', sortOrder: 'desc', filters }));
    expect(pems).toEqual(examples.response('listPems'));
    expectNoViolations(recorder, 1);
    expect(Object.fromEntries(params(recorder))).toEqual({ pageIndex: '1', pageSize: '20', sortField: 'TimestampReceived', sortOrder: 'desc', ...filters });
  });

  it('getPems without options', async () => {
    const { rk, recorder } = query();
    expect(expectOk(await rk.getPems())).toEqual(examples.response('listPems'));
    expectNoViolations(recorder, 1);
    expect(params(recorder)).toEqual([]);
  });

  it('getPemsCount with filters', async () => {
    const { rk, recorder } = query();
    expect(expectOk(await rk.getPemsCount({ Type: 'train', Emitter: 'trainer', TimestampClient: '2026-11-27 22:06:40' }))).toBe(counts.pems);
    expect(expectOk(await rk.getPemsCount())).toBe(counts.pems);
    expectNoViolations(recorder, 2);
    expect(params(recorder, 0)).toEqual([
      ['Type', 'train'],
      ['Emitter', 'trainer'],
      ['TimestampClient', '2026-11-27 22:06:40'],
    ]);
  });

  it('getArtifact finds the example artifact by its exact Name, and null for a Name that only contains', async () => {
    const { rk, recorder } = query();
    expect(expectOk(await rk.getArtifact(datasetA.Name))).toEqual(datasetA);
    expect(expectOk(await rk.getArtifact('dataset'))).toBeNull();
    expectNoViolations(recorder, 2);
    expect(params(recorder)).toEqual([['Name', 'dataset-a']]);
  });

  it('getArtifactLatest asks for one artifact, newest first', async () => {
    const { rk, recorder } = query();
    expect(expectOk(await rk.getArtifactLatest('dataset'))).toEqual(datasetA);
    expectNoViolations(recorder, 1);
    expect(Object.fromEntries(params(recorder))).toEqual({ pageSize: '1', sortField: 'CreatedAt', sortOrder: 'desc', Name: 'dataset' });
  });

  it('getArtifacts from the tables (sqldb) with paging, sorting and the Name filter', async () => {
    const { rk, recorder } = query();
    expect(expectOk(await rk.getArtifacts({ pageIndex: 0, pageSize: 5, sortField: 'Name', sortOrder: 'asc', filters: { Name: 'data' } }))).toEqual([
      datasetA,
    ]);
    expect(expectOk(await rk.getArtifacts({ source: 'sqldb' }))).toEqual([datasetA]);
    expectNoViolations(recorder, 2);
    expect(Object.fromEntries(params(recorder))).toEqual({ pageIndex: '0', pageSize: '5', sortField: 'Name', sortOrder: 'asc', Name: 'data' });
  });

  it('getArtifactsCount from the tables (sqldb), with and without the Name filter', async () => {
    const { rk, recorder } = query();
    expect(expectOk(await rk.getArtifactsCount({ filters: { Name: 'model' } }))).toBe(counts.artifacts);
    expect(expectOk(await rk.getArtifactsCount({ source: 'sqldb' }))).toBe(counts.artifacts);
    expectNoViolations(recorder, 2);
    expect(params(recorder)).toEqual([['Name', 'model']]);
  });

  it('getArtifactsCount from the graph (graphdb) reads the count row', async () => {
    const { rk, recorder } = query();
    expect(expectOk(await rk.getArtifactsCount({ source: 'graphdb' }))).toBe(countRows[0]![0]);
    expectNoViolations(recorder, 1);
  });

  // The mock's layer answers the artifact-listing statement with the `artifacts` example of
  // POST /query (its x-rk-statement); Prism's default stays the `count` example.
  it('getArtifacts from the graph (graphdb) parses the artifact rows', async () => {
    const { rk, recorder } = query();
    const artifacts = expectOk(await rk.getArtifacts({ source: 'graphdb', pageSize: 1, sortField: 'Name', filters: { Name: 'dataset' } }));
    expect(artifacts).toEqual([datasetA]);
    expectNoViolations(recorder, 1);
  });

  it('getArtifactsCount from the graph (graphdb) with the Name filter counts the listed rows', async () => {
    const { rk, recorder } = query();
    expect(expectOk(await rk.getArtifactsCount({ source: 'graphdb', filters: { Name: 'dataset' } }))).toBe(1);
    expectNoViolations(recorder, 1);
  });

  it('getTag returns the example PEM ID', async () => {
    const { rk, recorder } = query();
    expect(expectOk(await rk.getTag('trainer', 'production'))).toBe(examples.response('getTag'));
    expectNoViolations(recorder, 1);
  });

  it('getTag sends a tag whose base64 holds "/", "+" and "=" as one percent-encoded path segment', async () => {
    const { rk, recorder } = query();
    expect(expectOk(await rk.getTag('ml?ü>?', 'ml?ü>~'))).toBe(examples.response('getTag'));
    expectNoViolations(recorder, 1);
    const segments = new URL(recorder.responses[0]!.url).pathname.split('/');
    expect(segments.slice(2).map(decodeURIComponent)).toEqual(['bWw/w7w+Pw==', 'bWw/w7w+fg==']);
  });

  it('getTags', async () => {
    const { rk, recorder } = query();
    expect(expectOk(await rk.getTags())).toEqual(tags);
    expectNoViolations(recorder, 1);
  });

  it('getTagsCount', async () => {
    const { rk, recorder } = query();
    expect(expectOk(await rk.getTagsCount())).toBe(counts.tags);
    expectNoViolations(recorder, 1);
  });

  it('queryGraph parses the example rows, for reading and writing statements', async () => {
    const { rk, recorder } = query();
    expect(expectOk(await rk.queryGraph('MATCH (a:Artifact) RETURN count(a);'))).toEqual(countRows);
    expect(expectOk(await rk.queryGraph('MATCH (a:Artifact {name: "x"}) DETACH DELETE a', 'rw'))).toEqual(countRows);
    expectNoViolations(recorder, 2);
  });
});

describe('RKQuery errors from the Query service', () => {
  // The client checks only that filters are strings; the spec's patterns are the service's to enforce.
  it.each([
    ['getPems with a TimestampClient filter that is not a timestamp', 'Listing PEMs', (rk: RKQuery) => rk.getPems({ filters: { TimestampClient: 'yesterday' } })],
    ['getPems with a Predecessor filter that is not an ID', 'Listing PEMs', (rk: RKQuery) => rk.getPems({ pageSize: 1, filters: { Predecessor: 'zz' } })],
    ['getPemsCount with an ID filter that is not an ID', 'Counting PEMs', (rk: RKQuery) => rk.getPemsCount({ ID: 'zz' })],
  ])('%s is an RKHttpError 422 that names the operation', async (_, operation, call) => {
    const { rk, recorder } = query();
    const error = expectHttpError(await call(rk));
    expect(error.status).toBe(422);
    expect(error.code).toBe('invalid_request');
    expect(error.operation).toBe(operation);
    expect(error.message).toMatch(new RegExp(`^${operation} failed: HTTP 422 Unprocessable Entity: `));
    // The recorder sees what Prism found, so the clean runs above prove something.
    expect(recorder.violations()).toHaveLength(1);
    expect(recorder.violations()[0]!.violations).toMatch(/must match pattern/);
  });

  it('a call without a credential is an RKHttpError 401 that names the operation', async () => {
    const { rk } = query({});
    const error = expectHttpError(await rk.getTags());
    expect(error.status).toBe(401);
    expect(error.code).toBe('unauthorized');
    expect(error.message).toMatch(/^Listing tags failed: HTTP 401 Unauthorized: A credential is required/);
  });
});
