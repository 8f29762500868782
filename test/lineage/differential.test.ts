import { describe, expect, it } from 'vitest';
import { LineageIndex, walkDownstream, walkUpstream, type ArtifactNode, type LineagePemInput, type StoredPem } from '../../src/index.js';
import { randomHistory } from './random-history.js';

/**
 * The memory engine against a brute-force model of the written rules (src/lineage/binding.ts and
 * walk.ts), over random pipeline-shaped histories: every use's binding, and every hop of whole
 * upstream and downstream walks. The model is the rule read literally: no sorting tricks, no
 * caches, every chain walked from scratch.
 */

type Pem = StoredPem;

function model(pems: Pem[]) {
  const byId = new Map(pems.map((p) => [p.ID, p]));
  const time = (p: Pem) => p.TimestampClient;
  /** Whether `q` is reached from `p` by Predecessor links through stored PEMs stamped at or after s. */
  const follows = (p: Pem, q: Pem, s: string): boolean => {
    const seen = new Set([p.ID]);
    let current = p.Predecessor;
    while (current) {
      if (current === q.ID) return true;
      const pem = byId.get(current);
      if (!pem || time(pem) < s || seen.has(current)) return false;
      seen.add(current);
      current = pem.Predecessor;
    }
    return false;
  };
  const distance = (from: Pem, to: Pem): number => {
    let steps = 1;
    for (let c = from.Predecessor; c; c = byId.get(c)?.Predecessor ?? null, steps++) if (c === to.ID || steps > pems.length) break;
    return steps;
  };
  const bind = (user: Pem, name: string): string | null => {
    const producers = pems.filter((p) => p.ProducesArtifacts.includes(name) && time(p) <= time(user));
    const seconds = [...new Set(producers.map(time))].sort().reverse();
    for (const s of seconds) {
      const group = producers.filter((p) => time(p) === s);
      const candidates = group.filter((p) => p.ID !== user.ID && !follows(p, user, s));
      const ancestors = candidates.filter((p) => follows(user, p, s));
      if (ancestors.length) return ancestors.sort((a, b) => distance(user, a) - distance(user, b))[0]!.ID;
      const latest = candidates.filter((c) => !candidates.some((d) => d !== c && follows(d, c, s)));
      if (latest.length) return latest.map((p) => p.ID).sort().reverse()[0]!;
    }
    return null;
  };
  /** PEM-to-PEM neighbours: upstream (predecessor, producers bound to its uses) or downstream (the reverse). */
  const upstreamOf = (p: Pem): string[] => [...(p.Predecessor ? [p.Predecessor] : []), ...p.UsesArtifacts.map((n) => bind(p, n)).filter((x): x is string => x !== null)];
  const hops = (start: Pem, direction: 'up' | 'down'): Map<string, number> => {
    const down = new Map<string, string[]>();
    if (direction === 'down') for (const p of pems) for (const u of upstreamOf(p)) down.set(u, [...(down.get(u) ?? []), p.ID]);
    const dist = new Map([[start.ID, 0]]);
    let frontier = [start.ID];
    for (let hop = 1; frontier.length; hop++) {
      const next: string[] = [];
      for (const id of frontier) {
        const pem = byId.get(id);
        if (!pem && direction === 'up') continue;
        for (const n of direction === 'up' ? upstreamOf(pem!) : (down.get(id) ?? [])) {
          if (!dist.has(n)) {
            dist.set(n, hop);
            next.push(n);
          }
        }
      }
      frontier = next;
    }
    return dist;
  };
  return { bind, hops };
}

// Bounded (a few seconds alone); the timeout leaves room for a loaded machine.
describe('the memory engine against a brute-force model of the rules (random histories)', { timeout: 60_000 }, () => {
  it('binds every use as the written rule says, over 200 histories', () => {
    let uses = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const pems = randomHistory(seed, { size: 20 + (seed % 7) * 10 });
      const index = new LineageIndex();
      index.addAll(pems as LineagePemInput[]);
      const rules = model(pems);
      for (const pem of pems) {
        const walk = walkUpstream(index, pem.ID, { maxHops: 1, via: ['artifacts'], maxNodes: Infinity });
        const bound = new Map(walk.nodes.filter((n): n is ArtifactNode => n.kind === 'artifact').map((n) => [n.name, n.producer]));
        for (const name of new Set(pem.UsesArtifacts)) {
          uses++;
          expect(bound.get(name) ?? null, `seed ${seed}: ${pem.ID} uses ${name}`).toBe(rules.bind(pem, name));
        }
      }
    }
    expect(uses).toBeGreaterThan(5000);
  });

  it('numbers every PEM of a whole walk at its smallest hop, upstream and downstream, and every version at its producer\'s hop', () => {
    for (let seed = 1000; seed < 1060; seed++) {
      const pems = randomHistory(seed, { size: 40 });
      const index = new LineageIndex();
      index.addAll(pems as LineagePemInput[]);
      const rules = model(pems);
      for (const pem of pems.filter((_, i) => i % 5 === 0)) {
        for (const direction of ['up', 'down'] as const) {
          const walk = (direction === 'up' ? walkUpstream : walkDownstream)(index, pem.ID, { maxHops: Infinity, maxNodes: Infinity });
          const mine = new Map(walk.nodes.flatMap((n) => (n.kind === 'pem' ? [[n.id, n.hop] as const] : [])));
          expect(mine, `seed ${seed} ${direction} of ${pem.ID}`).toEqual(rules.hops(pem, direction));
          for (const node of walk.nodes) if (node.kind === 'artifact' && node.producer && mine.has(node.producer)) expect(node.hop).toBe(mine.get(node.producer));
        }
      }
    }
  });
});
