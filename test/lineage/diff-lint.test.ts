import { describe, expect, it } from 'vitest';
import { diffLineage, lintPem, lintPems } from '../../src/index.js';
import { at, pipeline, stored } from './fixtures.js';

describe('diffLineage', () => {
  it('reports rebound artifacts (same name, another producer), added and removed names, between two PEMs', () => {
    const { index } = pipeline();
    const diff = diffLineage(index, 'deploy1', 'deploy2');
    expect(diff.rebound).toEqual([
      { name: 'data/v', from: ['ingest1'], to: ['ingest2'] },
      { name: 'model/m', from: ['train1'], to: ['train2'] },
    ]);
    expect(diff.added).toEqual([{ name: 'raw/b', producer: null }]);
    expect(diff.removed).toEqual([{ name: 'raw/a', producer: null }]);
    expect(diff.pems.added.sort()).toEqual(['deploy2', 'ingest2', 'train2']);
    expect(diff.truncated).toBe(false);
  });

  it('compares a tag at two times, and two whole states by time', () => {
    const { index } = pipeline();
    const tag = diffLineage(index, { namespace: 'ml', tag: 'production', at: at(45) }, { namespace: 'ml', tag: 'production' });
    expect(tag.rebound.map((r) => r.name)).toEqual(['data/v', 'model/m']);
    const times = diffLineage(index, { at: at(25) }, { at: at(55) });
    expect(times.rebound).toEqual([
      { name: 'data/v', from: ['ingest1'], to: ['ingest2'] },
      { name: 'model/m', from: ['train1'], to: ['train2'] },
      { name: 'svc/prod', from: ['deploy1'], to: ['deploy2'] },
    ]);
    expect(times.added).toEqual([]);
  });
});

describe('lint', () => {
  it('finds dangling predecessors, cycles, unproduced uses, timestamps before the predecessor, oversize and duplicate IDs', () => {
    const pems = [
      stored('a', { t: 10, pred: 'c' }),
      stored('b', { t: 5, pred: 'a' }), // earlier than its predecessor
      stored('c', { t: 20, pred: 'b' }), // a -> c -> b -> a
      stored('d', { t: 30, pred: 'ghost', uses: ['nobody-made-this'] }),
      { ...stored('e', { t: 40 }), Properties: { blob: 'x'.repeat(2000) } },
      stored('a', { t: 10 }),
    ];
    const findings = lintPems(pems, { sizeLimit: 1024 });
    const codes = findings.map((f) => `${f.code}:${f.pem}`).sort();
    expect(codes).toEqual([
      'dangling-predecessor:d',
      'duplicate-id:a',
      'oversize:e',
      'predecessor-cycle:a',
      'predecessor-cycle:b',
      'predecessor-cycle:c',
      'timestamp-before-predecessor:a', // a (t=10) follows c (t=20)
      'timestamp-before-predecessor:b',
      'unproduced-use:d',
    ]);
    expect(findings.find((f) => f.code === 'unproduced-use')).toEqual({
      code: 'unproduced-use',
      pem: 'd',
      severity: 'info',
      message: `uses nobody-made-this, which no known PEM produced at or before ${at(30)}`,
      artifact: 'nobody-made-this',
    });
  });

  it('lintPem checks one PEM about to be sent against an index', () => {
    const { index } = pipeline();
    expect(lintPem(stored('next', { t: 60, pred: 'deploy2', uses: ['model/m'] }), index)).toEqual([]);
    expect(lintPem(stored('early', { t: 5, pred: 'deploy2', uses: ['model/m'] }), index).map((f) => f.code)).toEqual([
      'timestamp-before-predecessor',
      'unproduced-use',
    ]);
    expect(lintPem({ ...stored('bad', { t: 1 }), TimestampClient: 'now' }, index)).toEqual([
      { code: 'invalid', pem: 'bad', severity: 'error', message: 'TimestampClient "now" is not "YYYY-MM-DD HH:MM:SS"' },
    ]);
    // A payload with artifact objects, as preparePem makes it.
    expect(lintPem({ ...stored('obj', { t: 60 }), UsesArtifacts: [{ Name: 'model/m' }] }, index)).toEqual([]);
  });
});
