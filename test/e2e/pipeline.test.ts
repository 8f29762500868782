import { describe, expect, it } from 'vitest';
import { runPipeline } from '../../examples/pipeline.js';

describe('the example pipeline (npm start)', { timeout: 120_000 }, () => {
  it('runs two rounds of ingest, train, evaluate and deploy, then prints an explain of production and the state before the last deploy', async () => {
    const lines: string[] = [];
    const outcome = await runPipeline({ print: (line) => lines.push(line) });
    const output = lines.join('\n');
    const { explanation, stateBefore } = outcome;

    // explain: oldest first, ending at the deploy the tag points to. The retrain warm-started from
    // the first model, so the first ingest and training are part of why (the first evaluate and
    // deploy are not).
    expect(explanation.target).toBe(`pem:${outcome.deployedPemId}`);
    expect(explanation.steps.map((s) => s.type)).toEqual(['ingest', 'train', 'ingest', 'retrain', 'evaluate', 'deploy']);
    const retrain = explanation.steps[3]!;
    expect(retrain.uses.map((u) => u.name)).toEqual(['dataset/customers', 'model/churn']);
    // Its use of model/churn binds to the first training, not to itself.
    expect(retrain.uses[1]!.producer).toBe(explanation.steps[1]!.pem);
    expect(explanation.models.map((m) => [m.name, m.producer])).toEqual([
      ['model/churn', retrain.pem],
      ['model/churn', retrain.uses[1]!.producer],
    ]);
    expect(explanation.models[0]!.trainedBy).toEqual({ pems: [retrain.pem], emitters: ['churn-pipeline'] });
    expect(explanation.gaps.map((g) => g.kind)).toEqual(['unbound-use', 'unbound-use']); // the two raw exports
    expect(explanation.sources.map((s) => s.name)).toEqual([expect.stringMatching(/^raw\/customers-\d{4}-\d\d-\d\d\.csv$/), expect.stringMatching(/^raw\/customers-/)]);
    expect(output).toContain(`Why does production run what it runs? explain(churn-pipeline/production) = PEM ${outcome.deployedPemId}`);
    expect(output).toMatch(/model model\/churn: produced by PEM [0-9a-f]{32}, trained by churn-pipeline in PEM [0-9a-f]{32}/);

    // stateAt one second before the last deploy: production still on the first deploy, the model already retrained.
    expect(stateBefore.tags.find((t) => t.tag === 'production')?.pem).toBe(outcome.previousDeployPemId);
    expect(stateBefore.artifacts.find((a) => a.name === 'model/churn')).toMatchObject({ producer: retrain.pem, type: 'retrain' });
    expect(stateBefore.artifacts.find((a) => a.name === 'deployment/churn-prod')?.producer).toBe(outcome.previousDeployPemId);
    expect(output).toContain(`tag churn-pipeline/production -> PEM ${outcome.previousDeployPemId}`);
    expect(output).toMatch(/Loaded 8 PEMs and \d+ tags into the lineage index/);
    expect(output.split('\n').at(-1)).toBe('Stopped the local Record Keeper.');
  });
});
