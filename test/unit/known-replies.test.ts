import { describe, expect, it } from 'vitest';
import { RKAdmin, RKClient, RKQuery, RKUnexpectedResponseError, type Result } from '../../src/index.js';
import { json, recordingFetch, text } from '../helpers/recording-fetch.js';

/**
 * Every read against the reply forms the public record knows (../shared/reference/wire-protocol.md),
 * with nothing of ours in them: the client requires exactly what the reference client reads (the
 * specs' `x-rk-known`, generated), so a real RK that sends no more is read.
 */

const QUERY = 'http://rk.test/query';
const GRAPH = 'http://rk.test/graph-builder';
const RECEIVER = 'http://rk.test/receiver';
const ID = '0192f3a4b5c67d8e9f0a1b2c3d4e5f60';
const REPORT_ID = '3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f';

/** A PEM as the reference reads it back: no TimestampReceived, no Predecessor, no Version. */
const knownPem = {
  ID,
  Type: 'train',
  Emitter: 'trainer',
  TimestampClient: '2026-12-01 00:00:00',
  Properties: { epochs: 10 },
  Tag: 'latest',
  TagNamespace: 'trainer',
  UsesArtifacts: ['dataset-a'],
  ProducesArtifacts: ['model-a'],
};

function valueOf<T>(result: Result<T>): T {
  if (!result.ok) throw result.error;
  return result.value;
}

const query = (answer: Response) => new RKQuery(QUERY, { fetch: recordingFetch(() => answer.clone()).fetch });
const admin = (answer: Response) => new RKAdmin(QUERY, GRAPH, { fetch: recordingFetch(() => answer.clone()).fetch });

describe('reads accept the known-only reply forms', () => {
  it('getPem: a PEM without TimestampReceived and Predecessor', async () => {
    expect(valueOf(await query(json(knownPem)).getPem(ID))).toEqual(knownPem);
  });

  it('findPem: the same PEM', async () => {
    expect(valueOf(await query(json(knownPem)).findPem(ID))).toEqual(knownPem);
  });

  it('getPems and pems(): a list of such PEMs', async () => {
    expect(valueOf(await query(json([knownPem, knownPem])).getPems())).toEqual([knownPem, knownPem]);
    const listed = [];
    for await (const pem of query(json([knownPem])).pems({ pageSize: 5 })) listed.push(pem);
    expect(listed).toEqual([knownPem]);
  });

  it('getReport: the documented {"report", "status"} form', async () => {
    const report = { report: 'whatever the real RK writes', status: 'done' };
    expect(valueOf(await admin(json(report)).getReport(REPORT_ID))).toEqual(report);
  });

  it('a PEM that lacks a field the reference reads is still refused, naming it', async () => {
    const { Emitter: _, ...withoutEmitter } = knownPem;
    const result = await query(json(withoutEmitter)).getPem(ID);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(RKUnexpectedResponseError);
    expect(result.error.message).toBe('Reading PEM failed: HTTP 200 with an unexpected body: missing Emitter');
  });

  it('a report without status is still refused', async () => {
    const result = await admin(json({ report: null })).getReport(REPORT_ID);
    expect(!result.ok && result.error.message).toBe('Reading report failed: HTTP 200 with an unexpected body: missing status');
  });

  it('getInfo of the Receiver, the Query service and the Graph Builder: their known objects', async () => {
    const receiverInfo = { version: '3.5.0', pem_version: '2.0.0', pem_size_limit: 1048576, auth_required: true, pem_auth_required: false };
    const rk = new RKClient(RECEIVER, 'e', { fetch: recordingFetch(() => json(receiverInfo)).fetch });
    expect(valueOf(await rk.getInfo())).toEqual(receiverInfo);
    await rk.close();
    expect(valueOf(await query(json({ version: '3.5.0', auth_required: true })).getInfo())).toEqual({ version: '3.5.0', auth_required: true });
    const graphInfo = {
      version: '3.5.0',
      pg_pems_count: 3,
      pg_artifacts_count: 2,
      neo4j_pems_count: 3,
      neo4j_artifacts_count: 2,
      pems_sync_pct: '100.0',
      artifacts_sync_pct: '100.0',
      loop_iteration_interval: 5,
      loop_state_should_rebuild: 'False',
      loop_state_should_flush: 'False',
    };
    expect(valueOf(await admin(json(graphInfo)).getGraphInfo())).toEqual(graphInfo);
  });

  it('counts: {"pems_count": N}, {"artifacts_count": N}, {"tags_count": N}', async () => {
    expect(valueOf(await query(json({ pems_count: 4 })).getPemsCount())).toBe(4);
    expect(valueOf(await query(json({ artifacts_count: 2 })).getArtifactsCount())).toBe(2);
    expect(valueOf(await query(json({ tags_count: 1 })).getTagsCount())).toBe(1);
  });

  it('getTag: bare 32-hex text, or a JSON string', async () => {
    expect(valueOf(await query(text(ID)).getTag('trainer', 'production'))).toBe(ID);
    expect(valueOf(await query(json(ID)).getTag('trainer', 'production'))).toBe(ID);
  });

  it('getTags: an array of {NamespaceID, Tag, EventID, UpdatedAt}', async () => {
    const tags = [{ NamespaceID: 'trainer', Tag: 'production', EventID: ID, UpdatedAt: '2026-12-01 00:00:05' }];
    expect(valueOf(await query(json(tags)).getTags())).toEqual(tags);
  });

  it('getArtifacts, getArtifact and getArtifactLatest: artifacts as listed', async () => {
    const artifacts = [{ Name: 'dataset-a', Properties: { uri: 's3://b/a.csv' }, CreatedAt: '2026-12-01 00:00:01' }];
    expect(valueOf(await query(json(artifacts)).getArtifacts())).toEqual(artifacts);
    expect(valueOf(await query(json(artifacts)).getArtifact('dataset-a'))).toEqual(artifacts[0]);
    expect(valueOf(await query(json(artifacts)).getArtifactLatest('dataset'))).toEqual(artifacts[0]);
  });

  it('queryGraph: Python-literal rows as text', async () => {
    expect(valueOf(await query(text("[['dataset-a', '', None], [3, True]]")).queryGraph('MATCH (a:Artifact) RETURN count(a);'))).toEqual([
      ['dataset-a', '', null],
      [3, true],
    ]);
  });

  it('graph artifacts from the reference statement\'s rows', async () => {
    const rows = text(`[['dataset-a', '{"uri": "s3://b/a.csv"}', '2026-12-01 00:00:01']]`);
    expect(valueOf(await query(rows).getArtifacts({ source: 'graphdb' }))).toEqual([
      { Name: 'dataset-a', Properties: { uri: 's3://b/a.csv' }, CreatedAt: '2026-12-01 00:00:01' },
    ]);
    expect(valueOf(await query(text('[[7]]')).getArtifactsCount({ source: 'graphdb' }))).toBe(7);
  });

  it('report ids: {"report_id": "<uuid>"} from a check and a removal', async () => {
    expect(valueOf(await admin(json({ report_id: REPORT_ID })).artifactsVerifyConnections())).toBe(REPORT_ID);
    expect(valueOf(await admin(json({ report_id: REPORT_ID })).artifactsRemoveUnconnected(REPORT_ID))).toBe(REPORT_ID);
  });

  it('graphVerify: JSON with msg', async () => {
    expect(valueOf(await admin(json({ msg: 'PEMs: in sync\nArtifacts: in sync' })).graphVerify())).toBe('PEMs: in sync\nArtifacts: in sync');
  });

  it('checkConnections: the two known infos', async () => {
    const { fetch } = recordingFetch(
      () => json({ version: '3.5.0', pg_pems_count: 0, pg_artifacts_count: 0, neo4j_pems_count: 0, neo4j_artifacts_count: 0, pems_sync_pct: '0', artifacts_sync_pct: '0', loop_iteration_interval: 5, loop_state_should_rebuild: 'False', loop_state_should_flush: 'False' }),
      () => json({ version: '3.5.0', auth_required: true }),
    );
    const report = valueOf(await new RKAdmin(QUERY, GRAPH, { fetch }).checkConnections());
    expect(report.query).toEqual({ version: '3.5.0', auth_required: true });
  });
});
