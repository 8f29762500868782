import { describe, expect, it } from 'vitest';
import { LineageIndex, RKInvalidInputError } from '../../src/index.js';
import { stored } from './fixtures.js';

describe('LineageIndex', () => {
  it('keeps one PEM per ID, reads it back, and counts what it holds', () => {
    const index = new LineageIndex();
    expect(index.add(stored('b', { t: 2, pred: 'a', uses: ['x'], produces: ['y', 'y'], tag: 'prod', ns: 'svc' }))).toBe(true);
    expect(index.add(stored('b', { t: 2 }))).toBe(false);
    expect(index.pem('b')).toEqual({
      id: 'b',
      type: 'b',
      emitter: 'pipeline',
      time: '2026-11-27 10:00:02',
      received: '2026-11-27 10:00:02',
      predecessor: 'a',
      tag: 'prod',
      tagNamespace: 'svc',
      uses: ['x'],
      produces: ['y', 'y'],
    });
    // 'a' is known only as a Predecessor: a slot, not a PEM, until it arrives.
    expect(index.has('a')).toBe(false);
    expect(index.stats()).toMatchObject({ pems: 1, missingPredecessors: 1, artifacts: 2 });
    index.add(stored('a', { t: 1, produces: ['x'] }));
    expect(index.has('a')).toBe(true);
    expect(index.stats()).toMatchObject({ pems: 2, missingPredecessors: 0 });
    expect([...index.pemIds()]).toEqual(['b', 'a']);
    expect(index.maxReceived).toBe('2026-11-27 10:00:02');
  });

  it('accepts payloads with artifact objects, as preparePem makes them', () => {
    const index = new LineageIndex();
    index.add({ ...stored('p', { t: 1 }), UsesArtifacts: [{ Name: 'in' }], ProducesArtifacts: [{ Name: 'out' }] });
    expect(index.pem('p')).toMatchObject({ uses: ['in'], produces: ['out'] });
  });

  it('interns names: a thousand PEMs naming one artifact hold it once, in typed arrays of fixed cost', () => {
    const index = new LineageIndex();
    for (let i = 0; i < 1000; i++) index.add(stored(`p${i}`, { t: i, uses: ['shared/features'], emitter: 'same' }));
    const stats = index.stats();
    expect(stats.artifacts).toBe(1);
    expect(stats.columnBytes / stats.pems).toBeLessThan(200);
  });

  it('refuses what it cannot index with a clear message', () => {
    const index = new LineageIndex();
    expect(() => index.add({ ...stored('x', { t: 1 }), TimestampClient: '27/11/2026' })).toThrow(RKInvalidInputError);
    expect(() => index.add({ ...stored('x', { t: 1 }), TimestampClient: '27/11/2026' })).toThrow('Indexing PEM failed: pem.TimestampClient of x must be "YYYY-MM-DD HH:MM:SS" (UTC), got "27/11/2026"');
    expect(() => index.add({ ...stored('x', { t: 1 }), ID: '' })).toThrow(/pem.ID must be a PEM ID/);
    expect(() => index.recordTagMove({ NamespaceID: 'n', Tag: 't', EventID: 'x', UpdatedAt: 'now' })).toThrow(/record.UpdatedAt must be/);
  });
});
