import { describe, expect, it } from 'vitest';
import { RKAdmin, type RKOptions } from '../../src/index.js';
import { prismFetch } from '../helpers/prism-fetch.js';
import { expectHttpError, expectNoViolations, expectOk, usePrismMocks } from './mocks.js';

/** RKAdmin against Prism mocks of openapi/query.yaml and openapi/graph-builder.yaml. */
const mocks = usePrismMocks('query', 'graph-builder');
const REPORT_ID = '3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f';

const graphInfo = {
  version: '3.5.0',
  pg_pems_count: 42,
  pg_artifacts_count: 7,
  neo4j_pems_count: 42,
  neo4j_artifacts_count: 7,
  pems_sync_pct: '100.0',
  artifacts_sync_pct: '100.0',
  loop_iteration_interval: 1,
  loop_state_should_rebuild: 'False',
  loop_state_should_flush: 'False',
};

function admin(options: RKOptions = { userAuth: 'contract-test' }) {
  const recorder = prismFetch();
  const rk = new RKAdmin(mocks.query, mocks['graph-builder'], { ...options, fetch: recorder.fetch });
  return { rk, recorder };
}

describe('RKAdmin against the Query and Graph Builder specs', () => {
  it('checkConnections asks both services', async () => {
    const { rk, recorder } = admin();
    expect(expectOk(await rk.checkConnections())).toEqual({ graphBuilder: graphInfo, query: { version: '3.5.0', auth_required: true } });
    expect(recorder.responses.map((r) => r.url)).toEqual([`${mocks['graph-builder']}/info`, `${mocks.query}/info`]);
    expectNoViolations(recorder, 2);
  });

  it('queryGraph', async () => {
    const { rk, recorder } = admin();
    expect(expectOk(await rk.queryGraph('MATCH (p:PEM) RETURN count(p);'))).toEqual([[3]]);
    expect(expectOk(await rk.queryGraph('MATCH (n) DETACH DELETE n', 'rw'))).toEqual([[3]]);
    expectNoViolations(recorder, 2);
  });

  it('cleanDbs', async () => {
    const { rk, recorder } = admin();
    expect(expectOk(await rk.cleanDbs())).toBe('Erased 42 PEMs, 7 artifacts, 3 tags and 1 report');
    expectNoViolations(recorder, 1);
  });

  it('graphRebuild', async () => {
    const { rk, recorder } = admin();
    expect(expectOk(await rk.graphRebuild())).toBe('Rebuild requested');
    expectNoViolations(recorder, 1);
  });

  it('graphFlush reports the message and how long it took', async () => {
    const { rk, recorder } = admin();
    const flush = expectOk(await rk.graphFlush({ timeoutMs: 30_000 }));
    expect(flush.msg).toBe('Flushed 12 PEMs');
    expect(flush.durationMs).toBeGreaterThanOrEqual(0);
    expectNoViolations(recorder, 1);
  });

  it('graphVerify with the default checks and with each check chosen', async () => {
    const { rk, recorder } = admin();
    const report = 'PEMs: 42 in tables, 42 in graph, 0 missing, 0 extra\nArtifacts: 7 in tables, 7 in graph, 0 missing, 0 extra';
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
    expect(expectOk(await rk.getReport(REPORT_ID))).toEqual({
      report_id: REPORT_ID,
      kind: 'artifact_connections',
      status: 'finished',
      report: { artifacts: ['orphan-dataset'], message: '1 of 7 artifacts is not used or produced by any PEM' },
    });
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
