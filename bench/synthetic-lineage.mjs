// A big lineage made in memory, shaped like a long-lived pipeline, for the lineage page's size
// test (test/view/) and its render benchmark (bench/lineage-page.mjs). It takes the library's
// LineageIndex and explainLineage as arguments, so the test runs it on src/ and the benchmark on dist/.
//
// One run a day: an ingest (every fifth run from 24 shard files: a fan-in), a chain of six
// preparation steps, a training that warm-starts from the previous model, an evaluation and a
// deploy tagged nightly/production; each run's ingest follows the previous deploy. Explaining the
// last deploy walks back through every run.
const PREP = ['clean', 'dedupe', 'join', 'normalize', 'split', 'featurize'];
const SHARDS = 24;

/** The PEMs of `runs` daily runs (LineagePemInput objects). */
export function syntheticPems(runs) {
  const pems = [];
  const start = Date.UTC(2026, 0, 1) / 1000;
  let counter = 0;
  const id = () => (++counter).toString(16).padStart(32, '0');
  const time = (run, step) => new Date((start + run * 86_400 + step * 600) * 1000).toISOString().slice(0, 19).replace('T', ' ');
  let previous = null;
  for (let run = 0; run < runs; run++) {
    const raws = run % 5 === 0 ? Array.from({ length: SHARDS }, (_, i) => `raw/day-${run}/shard-${i}.csv`) : [`raw/day-${run}.csv`];
    let step = 0;
    const pem = (Type, uses, produces, extra = {}) => {
      const made = { ID: id(), Type, Emitter: 'nightly', TimestampClient: time(run, step++), Predecessor: previous, UsesArtifacts: uses, ProducesArtifacts: produces, ...extra };
      pems.push(made);
      previous = made.ID;
    };
    pem('ingest', raws, ['dataset/customers']);
    let input = 'dataset/customers';
    for (const prep of PREP) {
      pem(prep, [input], [`prep/${prep}`]);
      input = `prep/${prep}`;
    }
    pem('train', run ? [input, 'model/churn'] : [input], ['model/churn']);
    pem('evaluate', ['model/churn', input], ['report/evaluation']);
    pem('deploy', ['model/churn', 'report/evaluation'], ['deployment/churn'], { Tag: 'production', TagNamespace: 'nightly' });
  }
  return pems;
}

/** The explanation of the last deploy with exactly `nodes` nodes (the walk cut there), and its index. */
export function syntheticExplanation(nodes, { LineageIndex, explainLineage }) {
  // A run is 10 PEMs and 9 artifact versions, plus the shard files every fifth run.
  const runs = Math.ceil(nodes / (19 + SHARDS / 5));
  const pems = syntheticPems(runs);
  const index = new LineageIndex();
  index.addAll(pems);
  return { index, explanation: explainLineage(index, { pem: pems.at(-1).ID }, { maxHops: 1_000_000, maxNodes: nodes }) };
}
