import { describe, expect, it } from 'vitest';
import { RKAdmin, type RKOptions } from '../../src/index.js';
import { prismFetch } from '../helpers/prism-fetch.js';
import { parsePythonLiteral } from '../../src/wire/index.js';
import { specExamples } from './spec-examples.js';
import { expectHttpError, expectNoViolations, expectOk, mocks } from './mocks.js';

/** RKAdmin against Prism mocks of openapi/query.yaml and openapi/graph-builder.yaml. */
// Every expected value is the spec's own example (what Prism answers), read from the spec files.
const query = await specExamples('query');
const graph = await specExamples('graph-builder');
const REPORT_ID = query.parameter('getReport', 'report_id');
const graphInfo = graph.response('getGraphInfo');
const countRows = parsePythonLiteral(query.response<string>('queryGraph', { media: 'text/plain', name: 'count' }));
const message = (example: unknown) => (example as { msg?: string; message?: string }).msg ?? (example as { message?: string }).message;

function admin(options: RKOptions = { userAuth: 'contract-test' }) {
  const recorder = prismFetch();
  const rk = new RKAdmin(mocks.query, mocks['graph-builder'], { ...options, fetch: recorder.fetch });
  return { rk, recorder };
}

describe('RKAdmin against the Query and Graph Builder specs', () => {
  it('checkConnections asks both services', async () => {
    const { rk, recorder } = admin();
    expect(expectOk(await rk.checkConnections())).toEqual({ graphBuilder: graphInfo, query: query.response('getQueryInfo') });
    expect(recorder.responses.map((r) => r.url)).toEqual([`${mocks['graph-builder']}/info`, `${mocks.query}/info`]);
    expectNoViolations(recorder, 2);
  });

  it('queryGraph', async () => {
    const { rk, recorder } = admin();
    expect(expectOk(await rk.queryGraph('MATCH (p:PEM) RETURN count(p);'))).toEqual(countRows);
    expect(expectOk(await rk.queryGraph('MATCH (n) DETACH DELETE n', 'rw'))).toEqual(countRows);
    expectNoViolations(recorder, 2);
  });

  it('cleanDbs', async () => {
    const { rk, recorder } = admin();
    expect(expectOk(await rk.cleanDbs())).toBe(message(query.response('cleanDatabases')));
    expectNoViolations(recorder, 1);
  });

  it('graphRebuild', async () => {
    const { rk, recorder } = admin();
    expect(expectOk(await rk.graphRebuild())).toBe(message(graph.response('rebuildGraph')));
    expectNoViolations(recorder, 1);
  });

  it('graphFlush reports the message and how long it took', async () => {
    const { rk, recorder } = admin();
    const flush = expectOk(await rk.graphFlush({ timeoutMs: 30_000 }));
    expect(flush.msg).toBe(message(graph.response('flushGraph')));
    expect(flush.durationMs).toBeGreaterThanOrEqual(0);
    expectNoViolations(recorder, 1);
  });

  it('graphVerify with the default checks and with each check chosen', async () => {
    const { rk, recorder } = admin();
    const report = message(graph.response('verifyGraph'));
    expect(expectOk(await rk.graphVerify())).toBe(report);
    expect(expectOk(await rk.graphVerify({ checkPems: false, checkArtifacts: true }))).toBe(report);
    expect(expectOk(await rk.graphVerify({ checkPems: true, checkArtifacts: false }))).toBe(report);
    expectNoViolations(recorder, 3);
  });

  it('getGraphInfo', async () => {
    const { rk, recorder } = admin();
    expect(expectOk(await rk.getGraphInfo())).toEqual(graphInfo);
    expectNoViolations(recorder, 1);
  });

  it('getReport', async () => {
    const { rk, recorder } = admin();
    expect(expectOk(await rk.getReport(REPORT_ID))).toEqual(query.response('getReport'));
    expectNoViolations(recorder, 1);
  });

  it('artifactsVerifyConnections resolves with the report id', async () => {
    const { rk, recorder } = admin();
    expect(expectOk(await rk.artifactsVerifyConnections())).toBe(REPORT_ID);
    expectNoViolations(recorder, 1);
  });

  it('artifactsRemoveUnconnected resolves with the removal report id', async () => {
    const { rk, recorder } = admin();
    expect(expectOk(await rk.artifactsRemoveUnconnected(REPORT_ID))).toBe(REPORT_ID);
    expectNoViolations(recorder, 1);
  });
});

describe('RKAdmin errors', () => {
  it('a Graph Builder call without a credential is an RKHttpError 401 that names the operation', async () => {
    const { rk } = admin({});
    const error = expectHttpError(await rk.graphRebuild());
    expect(error.status).toBe(401);
    expect(error.code).toBe('unauthorized');
    expect(error.message).toMatch(/^Rebuilding graph failed: HTTP 401 Unauthorized: A credential is required/);
  });

  it('checkConnections stops at the first service that refuses', async () => {
    const { rk, recorder } = admin({});
    const error = expectHttpError(await rk.checkConnections());
    expect(error.status).toBe(401);
    expect(error.operation).toBe('Reading Graph Builder info');
    expect(recorder.responses).toHaveLength(1);
  });
});
