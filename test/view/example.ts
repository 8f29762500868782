import { RKLineage, RKQuery, type Explanation, type StoredPem } from '../../src/index.js';
import { runPipeline, type PipelineOutcome } from '../../examples/pipeline.js';
import { startLocalRK, type LocalRK } from '../../server/src/index.js';

/** The example pipeline in a local Record Keeper, loaded into a lineage index and explained. */
export interface ExampleLineage {
  rk: LocalRK;
  pipeline: PipelineOutcome;
  lineage: RKLineage;
  explanation: Explanation;
  /** Every PEM of the explanation as getPem read it (the index keeps no Properties). */
  pems: Map<string, StoredPem>;
}

export async function exampleLineage(): Promise<ExampleLineage> {
  // No graph loop: the lineage reads never touch the graph, and an idle loop costs CPU all along.
  const rk = await startLocalRK({ memory: true, graphIntervalMs: 60_000 });
  const pipeline = await runPipeline({ urls: rk, print: () => {} });
  const query = new RKQuery(rk.queryUrl);
  const lineage = new RKLineage(query);
  const loaded = await lineage.load();
  if (!loaded.ok) throw loaded.error;
  const explanation = lineage.explain({ namespace: 'churn-pipeline', tag: 'production' });
  const pems = new Map<string, StoredPem>();
  for (const step of explanation.steps) {
    const pem = await query.getPem(step.pem);
    if (!pem.ok) throw pem.error;
    pems.set(step.pem, pem.value);
  }
  return { rk, pipeline, lineage, explanation, pems };
}
