/**
 * An ML pipeline reporting its provenance to Record Keeper: ingest, train, evaluate and deploy,
 * each a PEM with the artifacts it uses and produces, the deployment tagged `production`. Then the
 * Query service is asked what is deployed and where it came from, and the lineage is printed as a
 * chain. With no Record Keeper given it starts an embedded local one (in memory) and stops it.
 *
 *   npm run build --workspace recordkeeper-local && node server/dist/examples/pipeline.js
 */
import { pathToFileURL } from 'node:url';
import { RKAdmin, RKClient, RKQuery, type Result } from '../src/index.js';
import { startLocalRK } from '../server/src/index.js';

export interface PipelineOptions {
  /** Use this Record Keeper instead of starting one. */
  urls?: { receiverUrl: string; queryUrl: string; graphBuilderUrl: string };
  /** Where the report goes; default console.log. */
  print?: (line: string) => void;
}

export interface PipelineOutcome {
  deployedPemId: string;
  /** The deployed model's lineage, e.g. `raw/customers.csv -> ingest -> ... -> deployment/churn-prod`. */
  chain: string;
}

const EMITTER = 'churn-pipeline';

function value<T>(result: Result<T>): T {
  if (!result.ok) throw result.error;
  return result.value;
}

export async function runPipeline(options: PipelineOptions = {}): Promise<PipelineOutcome> {
  const print = options.print ?? ((line: string) => console.log(line));
  const local = options.urls ? undefined : await startLocalRK({ memory: true });
  const urls = options.urls ?? local!;
  if (local) print(`Started a local Record Keeper: ${local.receiverUrl}, ${local.queryUrl}, ${local.graphBuilderUrl}`);
  const client = new RKClient(urls.receiverUrl, EMITTER);
  const query = new RKQuery(urls.queryUrl);
  const admin = new RKAdmin(urls.queryUrl, urls.graphBuilderUrl);
  try {
    // 1. Ingest: raw export in, cleaned data set out.
    const ingest = client
      .preparePem('ingest', { properties: { source: 'crm-export', rows: 48_210 } })
      .usesArtifact(client.prepareArtifact('raw/customers.csv', { uri: 's3://lake/raw/customers-2026-11-27.csv' }))
      .producesArtifact(client.prepareArtifact('dataset/customers-v1', { uri: 's3://lake/clean/customers-v1.parquet', rows: '48210' }));
    // 2. Train on it.
    const train = client
      .preparePem('train', { predecessor: ingest, properties: { algorithm: 'gradient-boosting', epochs: 40, learning_rate: 0.05 } })
      .usesArtifact(client.prepareArtifact('dataset/customers-v1'))
      .producesArtifact(client.prepareArtifact('model/churn-v1', { uri: 's3://models/churn/v1.bin', framework: 'xgboost' }));
    // 3. Evaluate the model on the data set.
    const evaluate = client
      .preparePem('evaluate', { predecessor: train, properties: { auc: 0.91, threshold: 0.42 } })
      .usesArtifact(client.prepareArtifact('model/churn-v1'))
      .usesArtifact(client.prepareArtifact('dataset/customers-v1'))
      .producesArtifact(client.prepareArtifact('report/churn-v1-evaluation', { uri: 's3://reports/churn-v1.html', auc: '0.91' }));
    // 4. Deploy it, and say so with a tag.
    const deploy = client
      .preparePem('deploy', { predecessor: evaluate, properties: { approved_by: 'ml-oncall' }, tagName: 'release-2026-11' })
      .usesArtifact(client.prepareArtifact('model/churn-v1'))
      .producesArtifact(client.prepareArtifact('deployment/churn-prod', { endpoint: 'https://ml.example.com/churn' }));
    for (const pem of [ingest, train, evaluate, deploy]) {
      const ack = value(await client.sendPem(pem));
      print(`Sent ${pem.Type.padEnd(8)} PEM ${pem.ID}: ${ack.status}`);
    }
    value(await client.setTag(EMITTER, 'production', deploy));
    print(`Tagged ${EMITTER}/production -> ${deploy.ID}`);

    // What is in production, and where did it come from?
    const deployedId = value(await query.getTag(EMITTER, 'production'));
    if (!deployedId) throw new Error(`the tag ${EMITTER}/production is not set`);
    const deployed = value(await query.getPem(deployedId));
    const model = deployed.UsesArtifacts[0] ?? '(no model)';
    print(`\nProduction runs PEM ${deployed.ID} (${deployed.Type}, ${deployed.TimestampClient} UTC), deploying ${model}`);
    print(`Record Keeper holds ${value(await query.getPemsCount({ Emitter: EMITTER }))} PEMs from ${EMITTER} and ${value(await query.getArtifactsCount())} artifacts`);

    value(await admin.graphFlush({ timeoutMs: 60_000 }));
    const rows = value(await query.queryGraph(`CALL rk.lineage.upstream('PEM', '${deployed.ID}')`));
    const chain = lineageChain(rows);
    print(`\nLineage of the deployed model:\n  ${chain}`);
    const evaluation = rows.find((row) => row[2] === 'evaluate');
    if (evaluation) print(`  (evaluated by PEM ${String(evaluation[1])}, producing ${(evaluation[6] as string[]).join(', ')})`);
    return { deployedPemId: deployed.ID, chain };
  } finally {
    await client.close();
    if (local) {
      await local.stop();
      print('Stopped the local Record Keeper.');
    }
  }
}

type LineageRow = [number, string, string | null, string | null, string | null, string[], string[]];

/**
 * Walks the upstream lineage rows (`[depth, pem_id, type, emitter, timestamp, uses, produces]`)
 * from the deploying PEM back along "produced by" to the first input, as
 * `input -> step -> output -> step -> ...`.
 */
export function lineageChain(rows: unknown[][]): string {
  const pems = rows as LineageRow[];
  const producerOf = new Map<string, LineageRow>();
  for (const row of pems) for (const name of row[6]) if (!producerOf.has(name)) producerOf.set(name, row);
  const start = pems.find((row) => row[0] === 0);
  if (!start) return '(no lineage)';
  const steps: LineageRow[] = [];
  const seen = new Set<string>();
  let source = '(no input)';
  for (let step: LineageRow | undefined = start; step && !seen.has(step[1]); ) {
    seen.add(step[1]);
    steps.unshift(step);
    const input: string | undefined = step[5].find((name) => producerOf.has(name));
    if (!input) {
      source = step[5].join(' + ') || '(no input)';
      break;
    }
    step = producerOf.get(input);
  }
  return [source, ...steps.flatMap((step) => [step[2] ?? '?', step[6].join(' + ') || '(nothing)'])].join(' -> ');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runPipeline().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
