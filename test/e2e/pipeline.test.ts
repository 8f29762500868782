import { describe, expect, it } from 'vitest';
import { runPipeline } from '../../examples/pipeline.js';

describe('the example pipeline (npm start)', { timeout: 120_000 }, () => {
  it('runs ingest, train, evaluate and deploy on an embedded Record Keeper and prints the deployed model\'s lineage', async () => {
    const lines: string[] = [];
    const outcome = await runPipeline({ print: (line) => lines.push(line) });
    const expected = 'raw/customers.csv -> ingest -> dataset/customers-v1 -> train -> model/churn-v1 -> deploy -> deployment/churn-prod';
    expect(outcome.chain).toBe(expected);
    const output = lines.join('\n');
    expect(output).toContain(`Lineage of the deployed model:\n  ${expected}`);
    expect(output).toMatch(/Tagged churn-pipeline\/production -> [0-9a-f]{32}/);
    expect(output).toContain(`Production runs PEM ${outcome.deployedPemId} (deploy,`);
    expect(output).toContain('Record Keeper holds 4 PEMs from churn-pipeline and 5 artifacts');
    expect(output).toMatch(/evaluated by PEM [0-9a-f]{32}, producing report\/churn-v1-evaluation/);
    expect(output.split('\n').at(-1)).toBe('Stopped the local Record Keeper.');
  });
});
