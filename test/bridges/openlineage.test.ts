import { describe, expect, it } from 'vitest';
import {
  fromOpenLineage,
  OpenLineageRuns,
  RKLineage,
  toOpenLineage,
  type LineageSource,
  type OpenLineageRunEvent,
  type PemPayload,
  type StoredPem,
} from '../../src/index.js';
import { runEventProblems } from './openlineage-schema.js';

const pem = (fields: Partial<PemPayload> & Pick<PemPayload, 'ID' | 'Type' | 'TimestampClient'>): PemPayload => ({
  Predecessor: null,
  Emitter: 'churn-pipeline',
  Properties: {},
  Version: '2.0.0',
  Tag: 'latest',
  TagNamespace: 'churn-pipeline',
  UsesArtifacts: [],
  ProducesArtifacts: [],
  ...fields,
});
const artifact = (Name: string, Properties: Record<string, string> = {}) => ({ Name, Properties, CreatedAt: null });

/** A small pipeline: ingest -> train (warm start) -> evaluate -> deploy, with a URI dataset and a chain. */
const PEMS: PemPayload[] = [
  pem({ ID: 'a'.repeat(32), Type: 'ingest', TimestampClient: '2026-12-01 10:00:00', Tag: 'ingested', UsesArtifacts: [artifact('s3://raw/customers/2026-12-01.csv', { rows: '1200' })], ProducesArtifacts: [artifact('dataset/customers')] }),
  pem({ ID: 'b'.repeat(32), Type: 'train', TimestampClient: '2026-12-01 11:00:00', Predecessor: 'a'.repeat(32), Properties: { epochs: 3, params: { lr: 0.1 } }, UsesArtifacts: [artifact('dataset/customers')], ProducesArtifacts: [artifact('model/churn', { uri: 's3://models/churn.bin' })] }),
  pem({ ID: 'c'.repeat(32), Type: 'evaluate', TimestampClient: '2026-12-01 12:00:00', Emitter: 'evaluator', TagNamespace: 'evaluator', UsesArtifacts: [artifact('model/churn'), artifact('dataset/holdout')], ProducesArtifacts: [artifact('report/churn')] }),
  pem({ ID: 'd'.repeat(32), Type: 'deploy', TimestampClient: '2026-12-01 13:00:00', Predecessor: 'c'.repeat(32), Tag: 'production', UsesArtifacts: [artifact('model/churn'), artifact('report/churn')], ProducesArtifacts: [artifact('deployment/churn-prod')] }),
];

/** A LineageSource over PEMs as the Query service returns them (artifacts as Names). */
function sourceOf(pems: readonly PemPayload[]): LineageSource {
  const stored = pems.map((p, i) => ({ ...p, TimestampReceived: `2026-12-02 00:00:0${i}`, UsesArtifacts: p.UsesArtifacts.map((a) => a.Name), ProducesArtifacts: p.ProducesArtifacts.map((a) => a.Name) }) as unknown as StoredPem);
  return { getPems: async () => ({ ok: true, value: stored }) };
}

async function lineageOf(pems: readonly PemPayload[]): Promise<RKLineage> {
  const lineage = new RKLineage(sourceOf(pems), { tags: false });
  const loaded = await lineage.load();
  expect(loaded.ok).toBe(true);
  return lineage;
}

function importAll(events: readonly unknown[], runs = new OpenLineageRuns()): PemPayload[] {
  return events.flatMap((event) => {
    const result = fromOpenLineage(event, { runs });
    if (!result.ok) throw result.error;
    return result.value.kind === 'pem' ? [result.value.pem] : [];
  });
}

describe('toOpenLineage', () => {
  const events = toOpenLineage(PEMS);

  it('makes one COMPLETE RunEvent per PEM that validates against the OpenLineage 2-0-2 schema and the custom facet schemas', () => {
    expect(events).toHaveLength(4);
    for (const event of events) expect(runEventProblems(event)).toEqual([]);
    expect(events.map((e) => e.eventType)).toEqual(['COMPLETE', 'COMPLETE', 'COMPLETE', 'COMPLETE']);
    // The schema does check: a dashless runId, a missing producer and a facet without _schemaURL fail it.
    const broken = { ...events[1]!, producer: undefined, run: { runId: 'b'.repeat(32), facets: { parent: { _producer: 'x:y', run: { runId: 'r' }, job: {} } } } };
    expect(runEventProblems(broken).join('\n')).toMatch(/producer[\s\S]*format "uuid"[\s\S]*_schemaURL/);
  });

  it('maps the PEM ID to runId, TagNamespace and Type to the job, the time to eventTime, and names this client as producer', () => {
    const train = events[1]!;
    expect(train.run.runId).toBe('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb');
    expect(train.job).toEqual({ namespace: 'churn-pipeline', name: 'train' });
    expect(train.eventTime).toBe('2026-12-01T11:00:00Z');
    expect(train.producer).toMatch(/^https:\/\/github\.com\/recordkeeper\/recordkeeper-client\/tree\/v\d+\.\d+\.\d+/);
    expect(train.schemaURL).toBe('https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent');
  });

  it('maps artifacts to datasets: a URI with a path splits into namespace and name, other Names stay whole under "recordkeeper"', () => {
    const ingest = events[0]!;
    expect(ingest.inputs!.map(({ namespace, name }) => ({ namespace, name }))).toEqual([{ namespace: 's3://raw', name: 'customers/2026-12-01.csv' }]);
    expect(ingest.outputs!.map(({ namespace, name }) => ({ namespace, name }))).toEqual([{ namespace: 'recordkeeper', name: 'dataset/customers' }]);
    expect(ingest.inputs![0]!.facets!['recordkeeper_artifact']).toMatchObject({ name: 's3://raw/customers/2026-12-01.csv', properties: { rows: '1200' } });
  });

  it('puts the Predecessor in the parent facet (with its job when exported too) and the rest of the PEM in recordkeeper_pem', () => {
    const deploy = events[3]!;
    expect(deploy.run.facets!['parent']).toMatchObject({ run: { runId: 'cccccccc-cccc-cccc-cccc-cccccccccccc' }, job: { namespace: 'evaluator', name: 'evaluate' } });
    expect(deploy.run.facets!['recordkeeper_pem']).toMatchObject({ id: 'd'.repeat(32), emitter: 'churn-pipeline', tag: 'production', tagNamespace: 'churn-pipeline', predecessor: 'c'.repeat(32), properties: {} });
    expect(events[1]!.run.facets!['recordkeeper_pem']!['properties']).toEqual({ epochs: 3, params: { lr: 0.1 } });
    expect(events[0]!.run.facets!['parent']).toBeUndefined();
  });

  it('exports a lineage walk (no Properties or Tag there) as valid events too', async () => {
    const lineage = await lineageOf(PEMS);
    const walk = lineage.upstream('d'.repeat(32));
    const fromWalk = toOpenLineage(walk);
    expect(fromWalk.map((e) => e.job.name).sort()).toEqual(['deploy', 'evaluate', 'ingest', 'train']);
    for (const event of fromWalk) expect(runEventProblems(event)).toEqual([]);
    const deploy = fromWalk.find((e) => e.job.name === 'deploy')!;
    expect(deploy.run.facets!['parent']).toMatchObject({ run: { runId: 'cccccccc-cccc-cccc-cccc-cccccccccccc' } });
    expect(deploy.inputs!.map((d) => d.name)).toEqual(['model/churn', 'report/churn']);
  });
});

describe('PEMs -> OpenLineage -> PEMs', () => {
  it('gives back the same PEMs, field for field', () => {
    const events = JSON.parse(JSON.stringify(toOpenLineage(PEMS))) as OpenLineageRunEvent[];
    expect(importAll(events)).toEqual(PEMS);
  });

  it('gives the same lineage answers: explain, upstream, downstream and state at a time', async () => {
    const back = importAll(toOpenLineage(PEMS));
    const [a, b] = await Promise.all([lineageOf(PEMS), lineageOf(back)]);
    const target = { namespace: 'churn-pipeline', tag: 'production' };
    expect(b.explain(target)).toEqual(a.explain(target));
    expect(b.upstream({ name: 'deployment/churn-prod' })).toEqual(a.upstream({ name: 'deployment/churn-prod' }));
    expect(b.downstream('a'.repeat(32))).toEqual(a.downstream('a'.repeat(32)));
    expect(b.stateAt('2026-12-01 12:30:00')).toEqual(a.stateAt('2026-12-01 12:30:00'));
    expect(a.explain(target).steps.map((s) => s.type)).toEqual(['ingest', 'train', 'evaluate', 'deploy']);
  });
});

/** Events as Airflow's OpenLineage provider sends them for one task run. */
const RUN_ID = '01908223-0782-79b8-9495-b1c38aaee839';
const airflow = (eventType: string, extra: Record<string, unknown> = {}) => ({
  eventType,
  eventTime: eventType === 'START' ? '2026-12-03T08:00:00.123456+00:00' : '2026-12-03T08:05:30.5+01:00',
  producer: 'https://github.com/apache/airflow/tree/providers-openlineage/2.2.0',
  schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
  run: {
    runId: RUN_ID,
    facets: {
      parent: {
        _producer: 'https://github.com/apache/airflow/tree/providers-openlineage/2.2.0',
        _schemaURL: 'https://openlineage.io/spec/facets/1-1-0/ParentRunFacet.json#/$defs/ParentRunFacet',
        job: { name: 'etl_dag', namespace: 'airflow://prod' },
        run: { runId: '01908223-0000-79b8-9495-b1c38aaee839' },
      },
      ...(eventType === 'START' ? { airflow_version: { _producer: 'x:a', _schemaURL: 'x:b', version: '2.10.0' } } : {}),
    },
  },
  job: { namespace: 'airflow://prod', name: 'etl_dag.load_customers', facets: { sql: { _producer: 'x:a', _schemaURL: 'x:b', query: 'INSERT INTO customers SELECT * FROM raw' } } },
  inputs: [{ namespace: 'postgres://db:5432', name: 'shop.public.raw_customers', facets: { schema: { _producer: 'x:a', _schemaURL: 'x:b', fields: [{ name: 'id', type: 'INT' }] } } }],
  outputs: eventType === 'START' ? [] : [{ namespace: 'postgres://db:5432', name: 'shop.public.customers', outputFacets: { outputStatistics: { _producer: 'x:a', _schemaURL: 'x:b', rowCount: 1200 } } }],
  ...extra,
});

describe('fromOpenLineage', () => {
  it('folds START into COMPLETE: one PEM with an ID from the run ID, the job as Type, tag and emitter, the time in UTC', () => {
    const runs = new OpenLineageRuns();
    const start = fromOpenLineage(airflow('START'), { runs });
    expect(start).toEqual({ ok: true, value: { kind: 'folded', runId: RUN_ID, eventType: 'START' } });
    const complete = fromOpenLineage(airflow('COMPLETE'), { runs });
    if (!complete.ok || complete.value.kind !== 'pem') throw new Error('expected a PEM');
    const pem = complete.value.pem;
    expect(pem).toMatchObject({
      ID: '01908223078279b89495b1c38aaee839',
      Type: 'etl_dag.load_customers',
      Emitter: 'airflow://prod',
      TagNamespace: 'airflow://prod',
      Tag: 'etl_dag.load_customers',
      TimestampClient: '2026-12-03 07:05:30',
      Predecessor: null,
    });
    expect(pem.UsesArtifacts.map((a) => a.Name)).toEqual(['postgres://db:5432/shop.public.raw_customers']);
    expect(pem.ProducesArtifacts.map((a) => a.Name)).toEqual(['postgres://db:5432/shop.public.customers']);
  });

  it('carries unknown facets instead of dropping them: run and job facets in Properties, dataset facets in artifact Properties', () => {
    const runs = new OpenLineageRuns();
    const [pem] = importAll([airflow('START'), airflow('COMPLETE')], runs);
    const openlineage = (pem!.Properties as { openlineage: Record<string, any> }).openlineage;
    expect(openlineage['eventType']).toBe('COMPLETE');
    expect(openlineage['job']['facets']['sql']['query']).toBe('INSERT INTO customers SELECT * FROM raw');
    // airflow_version came only on START: folded in. parent is carried, not made the Predecessor.
    expect(openlineage['run']['facets']['airflow_version']['version']).toBe('2.10.0');
    expect(openlineage['run']['facets']['parent']['job']['name']).toBe('etl_dag');
    expect(JSON.parse(pem!.UsesArtifacts[0]!.Properties['openlineage.facets.schema']!)).toMatchObject({ fields: [{ name: 'id', type: 'INT' }] });
    expect(JSON.parse(pem!.ProducesArtifacts[0]!.Properties['openlineage.outputFacets.outputStatistics']!)).toMatchObject({ rowCount: 1200 });
    expect(pem!.UsesArtifacts[0]!.Properties['openlineage.namespace']).toBe('postgres://db:5432');
  });

  it('maps a replay to the same PEM (deterministic ID and content), also for a runId that is not a UUID', () => {
    const first = importAll([airflow('START'), airflow('COMPLETE')]);
    const again = importAll([airflow('START'), airflow('COMPLETE')]);
    expect(again).toEqual(first);
    const odd = (runId: string) => importAll([{ ...airflow('COMPLETE'), run: { runId } }])[0]!.ID;
    expect(odd('spark-app-42')).toBe(odd('spark-app-42'));
    expect(odd('spark-app-42')).toMatch(/^[0-9a-f]{12}5[0-9a-f]{3}[89ab][0-9a-f]{15}$/);
    expect(odd('spark-app-43')).not.toBe(odd('spark-app-42'));
  });

  it('a FAIL event is a PEM too; ABORT, DatasetEvent and JobEvent are skipped with the reason', () => {
    const failed = fromOpenLineage(airflow('FAIL'));
    expect(failed.ok && failed.value.kind === 'pem' && (failed.value.pem.Properties as any).openlineage.eventType).toBe('FAIL');
    expect(fromOpenLineage(airflow('ABORT'))).toEqual({ ok: true, value: { kind: 'skipped', reason: `run ${RUN_ID} was aborted: nothing happened to record` } });
    const datasetEvent = fromOpenLineage({ eventTime: '2026-12-03T08:00:00Z', producer: 'x:y', schemaURL: 'x:z', dataset: { namespace: 'a', name: 'b' } });
    expect(datasetEvent.ok && datasetEvent.value.kind === 'skipped' && datasetEvent.value.reason).toMatch(/DatasetEvent describes no run/);
  });

  it('refuses a malformed event with a message naming the event and what is wrong', () => {
    const message = (event: unknown) => {
      const result = fromOpenLineage(event);
      if (result.ok) throw new Error('expected a failure');
      expect(result.error.kind).toBe('invalid_input');
      return result.error.message;
    };
    expect(message('nope')).toMatch(/must be a JSON object/);
    expect(message({ ...airflow('COMPLETE'), run: {} })).toMatch(/OpenLineage COMPLETE event \(job airflow:\/\/prod\/etl_dag.load_customers\): run.runId.*is missing/);
    expect(message({ ...airflow('COMPLETE'), eventTime: 'yesterday' })).toMatch(/of run 01908223-0782-79b8-9495-b1c38aaee839 .*eventTime.*ISO 8601/);
    expect(message({ ...airflow('COMPLETE'), eventTime: '2026-12-03T08:00:00' })).toMatch(/time zone/);
    expect(message({ ...airflow('COMPLETE'), eventType: 'DONE' })).toMatch(/eventType.*one of START, RUNNING, COMPLETE, ABORT, FAIL, OTHER, got "DONE"/);
    expect(message({ ...airflow('COMPLETE'), inputs: [{ namespace: 'x' }] })).toMatch(/inputs\[0\].*namespace and a name/);
    expect(message({ ...airflow('COMPLETE'), producer: undefined })).toMatch(/producer.*is missing/);
    expect(message({ ...airflow('COMPLETE'), job: { namespace: 'n', name: 'x'.repeat(5000) } })).toMatch(/Type|longer than/);
  });

  it('refuses an event whose PEM is over the Receiver limit, naming the limit, instead of truncating it', () => {
    const big = { ...airflow('COMPLETE'), job: { namespace: 'n', name: 'j', facets: { blob: { _producer: 'x:a', _schemaURL: 'x:b', text: 'x'.repeat(4000) } } } };
    const result = fromOpenLineage(big, { sizeLimit: 2048 });
    if (result.ok) throw new Error('expected a failure');
    expect(result.error.kind).toBe('size_limit');
    expect(result.error.message).toMatch(/OpenLineage COMPLETE event of run .* is \d+ bytes and the receiver accepts at most 2048 bytes \(pem_size_limit\)/);
    expect(fromOpenLineage(big, { sizeLimit: 1_000_000 }).ok).toBe(true);
  });
});
