/**
 * An ML pipeline reporting its provenance to Record Keeper: ingest, train, evaluate and deploy,
 * then, two days later, a new export is ingested, the model retrained and deployed again. Each
 * step is a PEM with the artifacts it uses and produces; each deploy carries the tag
 * `production`. Then RKLineage loads what Record Keeper holds and answers the two questions:
 * why does production run what it runs (explain), and what was the state just before the last
 * deploy (stateAt). With no Record Keeper given it starts an embedded local one (in memory); as a
 * command with RK_RECEIVER, RK_QUERY and RK_GRAPH_BUILDER set (what `rk local` prints) it uses that one.
 *
 *   npm run build --workspace recordkeeper-local && node server/dist/examples/pipeline.js
 */
import { pathToFileURL } from 'node:url';
import { Pem, RKClient, RKLineage, RKQuery, type Explanation, type PlatformState, type Result } from 'recordkeeper-client';
import { startLocalRK } from '../server/src/index.js';

export interface PipelineOptions {
  /** Use this Record Keeper instead of starting one. */
  urls?: { receiverUrl: string; queryUrl: string; graphBuilderUrl: string };
  /** Where the report goes; default console.log. */
  print?: (line: string) => void;
}

export interface PipelineOutcome {
  deployedPemId: string;
  /** The PEM of the first deploy, which production ran before the last one. */
  previousDeployPemId: string;
  /** Why production runs what it runs. */
  explanation: Explanation;
  /** The platform one second before the last deploy. */
  stateBefore: PlatformState;
}

const EMITTER = 'churn-pipeline';
const HOUR = 3600_000;
const DAY = 24 * HOUR;

function value<T>(result: Result<T>): T {
  if (!result.ok) throw result.error;
  return result.value;
}

/** The wire time of `ms` (UTC, seconds). */
function wireTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

export async function runPipeline(options: PipelineOptions = {}): Promise<PipelineOutcome> {
  const print = options.print ?? ((line: string) => console.log(line));
  const local = options.urls ? undefined : await startLocalRK({ memory: true });
  const urls = options.urls ?? local!;
  if (local) print(`Started a local Record Keeper: ${local.receiverUrl}, ${local.queryUrl}, ${local.graphBuilderUrl}`);
  const client = new RKClient(urls.receiverUrl, EMITTER);
  const query = new RKQuery(urls.queryUrl);
  try {
    // The steps happened over three days; a live pipeline would keep preparePem's "now". Each PEM
    // is stamped with its step's time, so "just before the last deploy" is a distinct second.
    const start = Math.floor(Date.now() / DAY) * DAY - 3 * DAY;
    const day = (n: number, hour: number) => start + n * DAY + hour * HOUR;
    const stamp = (pem: Pem, ms: number) => Pem.from({ ...pem.toJSON(), TimestampClient: wireTime(ms) });
    const raw1 = `raw/customers-${wireTime(day(0, 0)).slice(0, 10)}.csv`;
    const raw2 = `raw/customers-${wireTime(day(2, 0)).slice(0, 10)}.csv`;
    const artifact = (name: string, properties: Record<string, string> = {}) => client.prepareArtifact(name, properties);

    // Day 0: ingest the CRM export, train, evaluate, deploy.
    const ingest = stamp(
      client.preparePem('ingest', { properties: { source: 'crm-export', rows: 48_210 } }).usesArtifact(artifact(raw1, { uri: `s3://lake/${raw1}` })).producesArtifact(artifact('dataset/customers', { uri: 's3://lake/clean/customers-1.parquet', rows: '48210' })),
      day(0, 9),
    );
    const train = stamp(
      client.preparePem('train', { predecessor: ingest, properties: { algorithm: 'gradient-boosting', epochs: 40 } }).usesArtifact(artifact('dataset/customers')).producesArtifact(artifact('model/churn', { uri: 's3://models/churn/1.bin', framework: 'xgboost' })),
      day(0, 10),
    );
    const evaluate = stamp(
      client.preparePem('evaluate', { predecessor: train, properties: { auc: 0.91 } }).usesArtifact(artifact('model/churn')).usesArtifact(artifact('dataset/customers')).producesArtifact(artifact('report/churn-evaluation', { auc: '0.91' })),
      day(0, 11),
    );
    const deploy = stamp(
      client.preparePem('deploy', { predecessor: evaluate, properties: { approved_by: 'ml-oncall' }, tagName: 'production' }).usesArtifact(artifact('model/churn')).producesArtifact(artifact('deployment/churn-prod', { endpoint: 'https://ml.example.com/churn' })),
      day(0, 12),
    );
    // Day 2: a new export arrives; retrain on it, evaluate, deploy again.
    const ingest2 = stamp(
      client.preparePem('ingest', { properties: { source: 'crm-export', rows: 51_034 } }).usesArtifact(artifact(raw2, { uri: `s3://lake/${raw2}` })).producesArtifact(artifact('dataset/customers', { uri: 's3://lake/clean/customers-2.parquet', rows: '51034' })),
      day(2, 9),
    );
    const retrain = stamp(
      client.preparePem('retrain', { predecessor: ingest2, properties: { algorithm: 'gradient-boosting', epochs: 60, warm_start: true } }).usesArtifact(artifact('dataset/customers')).usesArtifact(artifact('model/churn')).producesArtifact(artifact('model/churn', { uri: 's3://models/churn/2.bin' })),
      day(2, 10),
    );
    const evaluate2 = stamp(
      client.preparePem('evaluate', { predecessor: retrain, properties: { auc: 0.93 } }).usesArtifact(artifact('model/churn')).usesArtifact(artifact('dataset/customers')).producesArtifact(artifact('report/churn-evaluation', { auc: '0.93' })),
      day(2, 11),
    );
    const deploy2 = stamp(
      client.preparePem('deploy', { predecessor: evaluate2, properties: { approved_by: 'ml-oncall' }, tagName: 'production' }).usesArtifact(artifact('model/churn')).producesArtifact(artifact('deployment/churn-prod')),
      day(2, 12),
    );
    for (const pem of [ingest, train, evaluate, deploy, ingest2, retrain, evaluate2, deploy2]) {
      const ack = value(await client.sendPem(pem));
      print(`Sent ${pem.Type.padEnd(8)} PEM ${pem.ID} (${pem.TimestampClient}): ${ack.status}`);
    }

    // Load what Record Keeper holds into the lineage index, then ask.
    const lineage = new RKLineage(query);
    const loaded = value(await lineage.load());
    print(`\nLoaded ${loaded.added} PEMs and ${loaded.tags ?? 0} tags into the lineage index in ${loaded.durationMs.toFixed(0)} ms`);

    const deployedId = value(await query.getTag(EMITTER, 'production'));
    if (!deployedId) throw new Error(`the tag ${EMITTER}/production is not set`);
    const explanation = lineage.explain({ namespace: EMITTER, tag: 'production' });
    print(`\nWhy does production run what it runs? explain(${EMITTER}/production) = PEM ${deployedId}`);
    for (const step of explanation.steps) {
      const uses = step.uses.map((u) => (u.producer ? u.name : `${u.name} (source)`)).join(', ') || '-';
      print(`  ${step.time}  ${step.type.padEnd(8)} ${step.pem}  uses ${uses}  produces ${step.produces.join(', ') || '-'}`);
    }
    for (const model of explanation.models) {
      print(`  model ${model.name}: produced by PEM ${model.producer}, trained by ${model.trainedBy.emitters.join(', ')} in PEM ${model.trainedBy.pems.join(', ')}`);
    }
    print(`  data sources: ${explanation.sources.map((s) => s.name).join(', ') || 'none'}`);
    print(`  gaps: ${explanation.gaps.length ? explanation.gaps.map((g) => `${g.kind} ${'artifact' in g ? g.artifact : g.predecessor}`).join(', ') : 'none'}`);

    const before = wireTime(day(2, 12) - 1000);
    const stateBefore = lineage.stateAt(before, { namespaces: EMITTER });
    print(`\nState just before the last deploy, stateAt(${before}):`);
    for (const tag of stateBefore.tags.filter((t) => t.tag === 'production')) print(`  tag ${tag.namespace}/${tag.tag} -> PEM ${tag.pem} (since ${tag.since})`);
    for (const current of stateBefore.artifacts) print(`  ${current.name.padEnd(24)} <- ${current.type.padEnd(8)} PEM ${current.producer} (${current.producedAt})`);
    return { deployedPemId: deployedId, previousDeployPemId: deploy.ID, explanation, stateBefore };
  } finally {
    await client.close();
    if (local) {
      await local.stop();
      print('Stopped the local Record Keeper.');
    }
  }
}

/** The Record Keeper named by RK_RECEIVER, RK_QUERY and RK_GRAPH_BUILDER (what `rk local` prints), when all three are set. */
function urlsFromEnvironment(env: NodeJS.ProcessEnv): PipelineOptions['urls'] {
  const { RK_RECEIVER: receiverUrl, RK_QUERY: queryUrl, RK_GRAPH_BUILDER: graphBuilderUrl } = env;
  return receiverUrl && queryUrl && graphBuilderUrl ? { receiverUrl, queryUrl, graphBuilderUrl } : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const urls = urlsFromEnvironment(process.env);
  runPipeline(urls ? { urls } : {}).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
