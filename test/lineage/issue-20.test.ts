import { describe, expect, it } from 'vitest';
import { explainLineage, resumeWalk, walkDownstream, walkUpstream, type ArtifactNode, type LineageResult, type PemNode } from '../../src/index.js';
import { store } from './fixtures.js';

/** Each class of issue 20, built from its example. */

const producerOf = (result: LineageResult, name: string) =>
  result.nodes.filter((n): n is ArtifactNode => n.kind === 'artifact' && n.name === name).map((n) => n.producer);
const pemIds = (result: LineageResult) => result.nodes.filter((n): n is PemNode => n.kind === 'pem').map((n) => n.id);

describe('issue 20: lineage answers that were wrong', () => {
  it('A: a producer that follows the user on its chain never binds its use, even stamped seconds earlier', () => {
    // U uses X at t=10; F (Predecessor U, a skewed clock) and G both produce X at t=8; F has the greater ID.
    const { index } = store({
      u: { t: 10, uses: ['x'] },
      zf: { t: 8, pred: 'u', produces: ['x'] },
      g: { t: 8, produces: ['x'] },
    });
    const up = walkUpstream(index, 'u');
    expect(producerOf(up, 'x')).toEqual(['g']);
    expect(pemIds(up)).not.toContain('zf');
    expect(pemIds(walkDownstream(index, 'u'))).toContain('zf');
  });

  it('A: the same holds down a longer chain and when no other producer is left (the use is then unbound)', () => {
    const { index } = store({
      u: { t: 10, uses: ['x'] },
      mid: { t: 10, pred: 'u' },
      late: { t: 9, pred: 'mid', produces: ['x'] },
    });
    const up = walkUpstream(index, 'u');
    expect(producerOf(up, 'x')).toEqual([null]);
    expect(up.gaps).toEqual([{ kind: 'unbound-use', pem: 'u', artifact: 'x' }]);
  });

  it('B: an artifact version is reported at the hop of the PEM that produced it', () => {
    // I produces data and data-test, T turns data into a model, D uses the model and data-test.
    const { index } = store({
      i: { t: 0, produces: ['data', 'data-test'] },
      t: { t: 10, uses: ['data'], produces: ['model'] },
      d: { t: 20, uses: ['model', 'data-test'] },
    });
    const up = walkUpstream(index, 'd');
    const hopOf = (key: string) => up.nodes.find((n) => n.key === key)?.hop;
    expect(hopOf('pem:i')).toBe(1);
    expect(hopOf('artifact:i:data')).toBe(1);
    expect(hopOf('artifact:i:data-test')).toBe(1);
    for (const node of up.nodes) {
      if (node.kind === 'artifact' && node.producer) expect([node.key, node.hop]).toEqual([node.key, hopOf(`pem:${node.producer}`)]);
    }
    const why = explainLineage(index, 'd');
    expect(why.models.map((m) => [m.name, m.hop])).toEqual([['model', 1]]);
  });

  it('C: trainedBy is the nearest training only, not every training reachable around it', () => {
    const { index } = store({
      t2: { type: 'train', t: 0, produces: ['base'] },
      prep: { type: 'prepare', t: 5, uses: ['base'], produces: ['features'] },
      t1: { type: 'train', t: 10, produces: ['weights'] },
      pack: { type: 'package', t: 20, uses: ['weights', 'features'], produces: ['model/m'] },
      serve: { type: 'deploy', t: 30, uses: ['model/m'] },
    });
    const why = explainLineage(index, 'serve');
    expect(why.models.map((m) => [m.name, m.trainedBy.pems])).toEqual([['model/m', ['t1']]]);
  });

  it('E: a downstream page cut by maxNodes is breadth first, and the pages together are the whole walk', () => {
    const { index } = store({
      p: { t: 0, produces: ['x'] },
      child: { t: 1, pred: 'p', produces: ['y'] },
      user: { t: 2, uses: ['x'], produces: ['z'] },
      next: { t: 3, uses: ['y', 'z'] },
    });
    const whole = walkDownstream(index, 'p');
    const seen: string[] = [];
    let page = walkDownstream(index, 'p', { maxNodes: 2 });
    expect(page.nodes.map((n) => `${n.key}@${n.hop}`)).toEqual(['pem:p@0', 'artifact:p:x@0']);
    for (let guard = 0; guard < 20; guard++) {
      const hops = page.nodes.map((n) => n.hop);
      expect(hops).toEqual([...hops].sort((a, b) => a - b));
      seen.push(...page.nodes.map((n) => `${n.key}@${n.hop}`));
      if (!page.cursor) break;
      page = resumeWalk(index, page.cursor, { maxNodes: 2 });
    }
    expect(seen.sort()).toEqual(whole.nodes.map((n) => `${n.key}@${n.hop}`).sort());
  });

  it('F: an exactly full page with nothing left is not truncated (includeStop: false)', () => {
    const { index } = store({
      s: { type: 'ingest', t: 0, produces: ['x'] },
      u: { type: 'train', t: 10, pred: 's', uses: ['x'] },
    });
    const up = walkUpstream(index, 'u', { stop: { type: 'ingest' }, includeStop: false, maxNodes: 2 });
    expect(up.nodes.map((n) => n.key)).toEqual(['pem:u', 'artifact:s:x']);
    expect(up.truncated).toBeNull();
    expect(up.cursor).toBeNull();
  });

  it('a same-second chain binds each use to the previous link (the nearest producer on its own chain)', () => {
    const specs: Parameters<typeof store>[0] = {};
    const n = 60;
    // IDs run against the chain order, so the greatest ID would be wrong at every link.
    for (let k = 1; k <= n; k++) specs[`c${String(1000 - k)}`] = { t: 5, pred: k > 1 ? `c${String(1001 - k)}` : null, uses: ['ckpt'], produces: ['ckpt'] };
    specs.other = { t: 5, produces: ['ckpt'] };
    const { index } = store(specs);
    for (let k = 2; k <= n; k++) {
      const up = walkUpstream(index, `c${String(1000 - k)}`, { maxHops: 1, via: ['artifacts'] });
      expect(producerOf(up, 'ckpt')).toEqual([`c${String(1001 - k)}`]);
    }
    // The head has only followers and an unrelated producer at that second: the unrelated one.
    expect(producerOf(walkUpstream(index, 'c999', { maxHops: 1, via: ['artifacts'] }), 'ckpt')).toEqual(['other']);
  });
});
