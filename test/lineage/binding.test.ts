import { describe, expect, it } from 'vitest';
import { walkUpstream, walkDownstream, type ArtifactNode } from '../../src/index.js';
import { pipeline, store } from './fixtures.js';

const producerOf = (result: ReturnType<typeof walkUpstream>, name: string) =>
  result.nodes.filter((n): n is ArtifactNode => n.kind === 'artifact' && n.name === name).map((n) => n.producer);

describe('time-correct binding', () => {
  it('binds a use to the latest producer at or before the user, never to a later one', () => {
    const { index } = pipeline();
    const first = walkUpstream(index, 'deploy1', { via: ['artifacts'] });
    expect(producerOf(first, 'model/m')).toEqual(['train1']);
    expect(producerOf(first, 'data/v')).toEqual(['ingest1']);
    expect(first.nodes.map((n) => n.kind === 'pem' && n.id).filter(Boolean)).toEqual(['deploy1', 'train1', 'ingest1']);
    const second = walkUpstream(index, 'deploy2', { via: ['artifacts'] });
    expect(producerOf(second, 'model/m')).toEqual(['train2']);
    expect(producerOf(second, 'data/v')).toEqual(['ingest2']);
  });

  it('a producer at the same second as the user counts; one a second later does not', () => {
    const { index } = store({
      a: { t: 5, produces: ['x'] },
      b: { t: 6, produces: ['x'] },
      u: { t: 5, uses: ['x'] },
    });
    expect(producerOf(walkUpstream(index, 'u'), 'x')).toEqual(['a']);
  });

  it('breaks a tie in time by the Predecessor chain: a producer following the user is excluded, one on its chain wins', () => {
    const { index } = store({
      p1: { t: 5, produces: ['x'] },
      p2: { t: 5, produces: ['x'] }, // unrelated, greater ID than p1
      u: { t: 5, pred: 'p1', uses: ['x'] },
      after: { t: 5, pred: 'u', produces: ['x'] }, // same second, but follows u
    });
    expect(producerOf(walkUpstream(index, 'u', { via: ['artifacts'] }), 'x')).toEqual(['p1']);
  });

  it('among tied producers the later one in chain order wins, then the greatest ID', () => {
    const chained = store({
      q2: { t: 5, produces: ['x'] },
      q1: { t: 5, pred: 'q2', produces: ['x'] }, // follows q2, though its ID sorts first
      u: { t: 9, uses: ['x'] },
    });
    expect(producerOf(walkUpstream(chained.index, 'u'), 'x')).toEqual(['q1']);
    const unrelated = store({
      a1: { t: 5, produces: ['x'] },
      a2: { t: 5, produces: ['x'] },
      u: { t: 9, uses: ['x'] },
    });
    expect(producerOf(walkUpstream(unrelated.index, 'u'), 'x')).toEqual(['a2']);
  });

  it('a PEM that uses and produces the same name binds to the previous producer, not to itself', () => {
    const { index } = store({
      make: { t: 1, produces: ['x'] },
      update: { t: 2, uses: ['x'], produces: ['x'] },
    });
    expect(producerOf(walkUpstream(index, 'update'), 'x')).toEqual(['make']);
  });

  it('a use that binds to nothing is reported as an unbound use (a gap), never dropped', () => {
    const { index } = store({
      early: { t: 1, uses: ['x'] },
      late: { t: 2, produces: ['x'] },
    });
    const result = walkUpstream(index, 'early');
    expect(producerOf(result, 'x')).toEqual([null]);
    expect(result.gaps).toEqual([{ kind: 'unbound-use', pem: 'early', artifact: 'x' }]);
    expect(result.edges).toContainEqual({ kind: 'used', from: 'artifact:-:x', to: 'pem:early' });
  });

  it('downstream follows only the users bound to the starting version', () => {
    const { index } = pipeline();
    const down = walkDownstream(index, 'train1', { via: ['artifacts'] });
    expect(down.nodes.filter((n) => n.kind === 'pem').map((n) => (n as { id: string }).id)).toEqual(['train1', 'deploy1']);
    const fromData = walkDownstream(index, { name: 'data/v', at: '2026-11-27 10:00:15' }, { via: ['artifacts'] });
    expect(fromData.start).toBe('artifact:ingest1:data/v');
    expect(fromData.nodes.map((n) => n.key)).toEqual(['artifact:ingest1:data/v', 'pem:train1', 'artifact:train1:model/m', 'pem:deploy1', 'artifact:deploy1:svc/prod']);
  });
});
