import { explainLineage, LineageIndex, type Explanation, type LineagePemInput } from '../../src/index.js';

/**
 * A big lineage made in memory, shaped like a long-lived pipeline: one run a day of ingest (every
 * fifth run from `shards` shard files: a fan-in), a chain of preparation steps, a training that
 * warm-starts from the previous model, an evaluation and a deploy tagged production; each run's
 * ingest follows the previous deploy. Explaining the last deploy walks back through every run.
 */
const PREP = ['clean', 'dedupe', 'join', 'normalize', 'split', 'featurize'];

export function syntheticPipeline(runs: number, shards = 24): { index: LineageIndex; pems: LineagePemInput[] } {
  const pems: LineagePemInput[] = [];
  const start = Date.UTC(2026, 0, 1) / 1000;
  let counter = 0;
  const id = () => (++counter).toString(16).padStart(32, '0');
  const time = (run: number, step: number) => new Date((start + run * 86_400 + step * 600) * 1000).toISOString().slice(0, 19).replace('T', ' ');
  let previous: string | null = null;
  for (let run = 0; run < runs; run++) {
    const raws = run % 5 === 0 ? Array.from({ length: shards }, (_, i) => `raw/day-${run}/shard-${i}.csv`) : [`raw/day-${run}.csv`];
    let step = 0;
    const pem = (Type: string, uses: string[], produces: string[], extra: Partial<LineagePemInput> = {}) => {
      const made: LineagePemInput = { ID: id(), Type, Emitter: 'nightly', TimestampClient: time(run, step++), Predecessor: previous, UsesArtifacts: uses, ProducesArtifacts: produces, ...extra };
      pems.push(made);
      previous = made.ID;
      return made;
    };
    pem('ingest', raws, ['dataset/customers']);
    let input = 'dataset/customers';
    for (const prep of PREP) {
      const output = `prep/${prep}`;
      pem(prep, [input], [output]);
      input = output;
    }
    pem('train', run ? [input, 'model/churn'] : [input], ['model/churn']);
    pem('evaluate', ['model/churn', input], ['report/evaluation']);
    pem('deploy', ['model/churn', 'report/evaluation'], ['deployment/churn'], { Tag: 'production', TagNamespace: 'nightly' });
  }
  const index = new LineageIndex();
  index.addAll(pems);
  return { index, pems };
}

/** The explanation of the last deploy, walked far enough to hold about `nodes` nodes. */
export function syntheticExplanation(nodes: number): { index: LineageIndex; explanation: Explanation } {
  // A run is 10 PEMs and 9 artifact versions, plus the shard files every fifth run.
  const perRun = 19 + 24 / 5;
  const { index, pems } = syntheticPipeline(Math.ceil(nodes / perRun));
  const last = pems.at(-1)!;
  return { index, explanation: explainLineage(index, { pem: last.ID }, { maxHops: 100_000, maxNodes: nodes }) };
}
