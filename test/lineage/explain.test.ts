import { describe, expect, it } from 'vitest';
import { DEFAULT_ROLES, explainLineage } from '../../src/index.js';
import { pipeline, store } from './fixtures.js';

describe('explain: why did this happen', () => {
  it('tells the ordered steps, the models with who trained them, the data sources and the gaps', () => {
    const { index } = pipeline();
    const why = explainLineage(index, { namespace: 'ml', tag: 'production' });
    expect(why.target).toBe('pem:deploy2');
    expect(why.steps.map((s) => [s.pem, s.type, s.emitter, s.time, s.hop])).toEqual([
      ['ingest2', 'ingest', 'pipeline', '2026-11-27 10:00:30', 2],
      ['train2', 'train', 'trainer', '2026-11-27 10:00:40', 1],
      ['deploy2', 'deploy', 'pipeline', '2026-11-27 10:00:50', 0],
    ]);
    expect(why.steps[1]!.uses).toEqual([{ name: 'data/v', producer: 'ingest2' }]);
    expect(why.steps[1]!.produces).toEqual(['model/m']);
    expect(why.models).toEqual([{ name: 'model/m', producer: 'train2', hop: 1, trainedBy: { pems: ['train2'], emitters: ['trainer'] } }]);
    expect(why.trainings.map((t) => t.pem)).toEqual(['train2']);
    expect(why.sources).toEqual([{ name: 'raw/b', usedBy: ['ingest2'], hop: 3, reason: 'no-producer' }]);
    expect(why.gaps).toEqual([{ kind: 'unbound-use', pem: 'ingest2', artifact: 'raw/b' }]);
    expect(why.truncated).toBeNull();
    expect(why.assumptions[0]).toMatch(/TimestampClient/);
  });

  it('before the retrain, the same tag is explained by the first training', () => {
    const { index } = pipeline();
    const why = explainLineage(index, { namespace: 'ml', tag: 'production', at: '2026-11-27 10:00:45' });
    expect(why.models.map((m) => [m.name, m.producer])).toEqual([['model/m', 'train1']]);
    expect(why.sources.map((s) => s.name)).toEqual(['raw/a']);
  });

  it('finds the training behind a model that a later step only registered, and takes roles from options', () => {
    const { index } = store({
      fit1: { t: 1, uses: ['features'], produces: ['weights.bin'], emitter: 'gpu-box' },
      register1: { t: 2, uses: ['weights.bin'], produces: ['registry/churn'], emitter: 'registry' },
      serve1: { t: 3, uses: ['registry/churn'] },
    });
    const defaults = explainLineage(index, 'serve1');
    expect(defaults.models).toEqual([]); // neither name looks like a model to the defaults
    const roles = explainLineage(index, 'serve1', {
      roles: { model: { names: ['registry/*'] }, training: { types: ['fit'] }, source: { names: ['features'] } },
    });
    expect(roles.models).toEqual([{ name: 'registry/churn', producer: 'register1', hop: 1, trainedBy: { pems: ['fit1'], emitters: ['gpu-box'] } }]);
    expect(roles.sources).toEqual([{ name: 'features', usedBy: ['fit1'], hop: 3, reason: 'no-producer' }]);
    expect(DEFAULT_ROLES.training.types.some((p) => p.test('retrain'))).toBe(true);
  });

  it('marks the answer as partial when the walk was cut', () => {
    const { index } = pipeline();
    const why = explainLineage(index, 'deploy2', { maxHops: 1 });
    expect(why.truncated?.reason).toBe('maxHops');
    expect(why.assumptions.join('\n')).toMatch(/the walk was cut \(maxHops\)/);
    expect(why.lineage.cursor).toEqual(expect.any(String));
  });
});
