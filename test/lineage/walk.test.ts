import { describe, expect, it } from 'vitest';
import { LineageIndex, RKInvalidInputError, resumeWalk, walkDownstream, walkUpstream, type LineageResult } from '../../src/index.js';
import { pipeline, store, stored } from './fixtures.js';

const keys = (result: LineageResult) => result.nodes.map((n) => `${n.key}@${n.hop}`);

describe('upstream and downstream walks', () => {
  it('numbers hops PEM to PEM and reports each artifact at the hop of its producer', () => {
    const { index } = pipeline();
    const up = walkUpstream(index, 'deploy2');
    expect(keys(up)).toEqual([
      'pem:deploy2@0',
      'pem:train2@1',
      'artifact:train2:model/m@1',
      'pem:ingest2@2',
      'artifact:ingest2:data/v@2',
      'artifact:-:raw/b@3',
    ]);
    expect(up.edges).toEqual([
      { kind: 'predecessor', from: 'pem:train2', to: 'pem:deploy2' },
      { kind: 'produced', from: 'pem:train2', to: 'artifact:train2:model/m' },
      { kind: 'used', from: 'artifact:train2:model/m', to: 'pem:deploy2' },
      { kind: 'predecessor', from: 'pem:ingest2', to: 'pem:train2' },
      { kind: 'produced', from: 'pem:ingest2', to: 'artifact:ingest2:data/v' },
      { kind: 'used', from: 'artifact:ingest2:data/v', to: 'pem:train2' },
      { kind: 'used', from: 'artifact:-:raw/b', to: 'pem:ingest2' },
    ]);
    expect(up.truncated).toBeNull();
    expect(up.cursor).toBeNull();
    const down = walkDownstream(index, 'ingest1');
    // Breadth first: each PEM comes with the versions it produced, so hops never go down.
    expect(keys(down)).toEqual(['pem:ingest1@0', 'artifact:ingest1:data/v@0', 'pem:train1@1', 'artifact:train1:model/m@1', 'pem:deploy1@2', 'artifact:deploy1:svc/prod@2']);
  });

  it('starts from an artifact name (latest or { name, at }) and from a tag (now or { at })', () => {
    const { index } = pipeline();
    expect(walkUpstream(index, 'model/m').start).toBe('artifact:train2:model/m');
    expect(walkUpstream(index, { name: 'model/m', at: '2026-11-27 10:00:39' }).start).toBe('artifact:train1:model/m');
    expect(walkUpstream(index, { name: 'raw/a' }).nodes.map((n) => n.key)).toEqual(['artifact:-:raw/a']);
    expect(walkUpstream(index, { namespace: 'ml', tag: 'production' }).start).toBe('pem:deploy2');
    expect(walkUpstream(index, { namespace: 'ml', tag: 'production', at: '2026-11-27 10:00:45' }).start).toBe('pem:deploy1');
    expect(() => walkUpstream(index, 'nothing-like-this')).toThrow(RKInvalidInputError);
    expect(() => walkUpstream(index, 'nothing-like-this')).toThrow(/neither a PEM ID nor an artifact Name/);
    expect(() => walkUpstream(index, { namespace: 'ml', tag: 'production', at: 'yesterday-ish' })).toThrow(/must be a time/);
  });

  it('follows only the hops asked for with via', () => {
    const { index } = pipeline();
    expect(keys(walkUpstream(index, 'deploy2', { via: ['predecessor'] }))).toEqual(['pem:deploy2@0', 'pem:train2@1', 'pem:ingest2@2']);
    expect(() => walkUpstream(index, 'deploy2', { via: ['sideways' as 'artifacts'] })).toThrow(/via must list/);
  });

  it('stops at PEMs and artifacts matching the stop filter, with or without them', () => {
    const { index } = pipeline();
    const withStop = walkUpstream(index, 'deploy2', { stop: { type: 'train' } });
    expect(withStop.nodes.find((n) => n.key === 'pem:train2')).toMatchObject({ stopped: true });
    expect(withStop.nodes.some((n) => n.key === 'pem:ingest2')).toBe(false);
    const without = walkUpstream(index, 'deploy2', { stop: { emitter: /^train/ }, includeStop: false });
    expect(keys(without)).toEqual(['pem:deploy2@0', 'artifact:train2:model/m@1']);
    const byArtifact = walkUpstream(index, 'deploy2', { stop: { artifact: 'model/*' }, via: ['artifacts'] });
    expect(keys(byArtifact)).toEqual(['pem:deploy2@0', 'artifact:train2:model/m@1']);
    expect(byArtifact.nodes[1]).toMatchObject({ stopped: true });
  });

  it('cuts at maxHops with truncated and a cursor that continues further', () => {
    const { index } = pipeline();
    const first = walkUpstream(index, 'deploy2', { maxHops: 1 });
    expect(keys(first)).toEqual(['pem:deploy2@0', 'pem:train2@1', 'artifact:train2:model/m@1']);
    expect(first.truncated).toEqual({ reason: 'maxHops', pending: ['train2'] });
    // The next page goes maxHops (1) further; hops stay counted from the original start.
    const next = resumeWalk(index, first.cursor!);
    expect(keys(next)).toEqual(['pem:ingest2@2', 'artifact:ingest2:data/v@2']);
    expect(next.truncated?.reason).toBe('maxHops');
    const rest = resumeWalk(index, next.cursor!, { maxHops: 10 });
    expect(keys(rest)).toEqual(['artifact:-:raw/b@3']);
    expect(rest.truncated).toBeNull();
  });

  it('cuts at maxNodes exactly; resuming page by page gives the same nodes and edges as one walk', () => {
    const specs: Record<string, Parameters<typeof stored>[1]> = {};
    // A fan-in: 30 ingests feed one train, which feeds a deploy.
    const inputs: string[] = [];
    for (let i = 0; i < 30; i++) {
      specs[`ingest${i}`] = { t: i, uses: [`raw/${i}`], produces: [`data/${i}`] };
      inputs.push(`data/${i}`);
    }
    specs.train0 = { t: 100, uses: inputs, produces: ['model/m'] };
    specs.deploy0 = { t: 200, uses: ['model/m'] };
    const { index } = store(specs);
    const whole = walkUpstream(index, 'deploy0', { maxNodes: Infinity });
    expect(whole.nodes).toHaveLength(2 + 1 + 30 * 3);
    const pages: LineageResult[] = [walkUpstream(index, 'deploy0', { maxNodes: 7 })];
    while (pages.at(-1)!.cursor) pages.push(resumeWalk(index, pages.at(-1)!.cursor!, { maxNodes: 7 }));
    for (const page of pages) expect(page.nodes.length).toBeLessThanOrEqual(7);
    expect(pages[0]!.truncated?.reason).toBe('maxNodes');
    expect(pages.flatMap((p) => p.nodes.map((n) => n.key)).sort()).toEqual(whole.nodes.map((n) => n.key).sort());
    expect(pages.flatMap((p) => p.edges).length).toBe(whole.edges.length);
    expect(new Set(pages.flatMap((p) => p.edges.map((e) => JSON.stringify(e))))).toEqual(new Set(whole.edges.map((e) => JSON.stringify(e))));
    expect(() => resumeWalk(index, 'not a cursor')).toThrow(/is not a cursor/);
  });

  it('reports a missing predecessor and a predecessor cycle as gaps, and terminates', () => {
    const index = new LineageIndex();
    index.add(stored('a', { t: 1, pred: 'c' }));
    index.add(stored('b', { t: 2, pred: 'a' }));
    index.add(stored('c', { t: 3, pred: 'b' }));
    index.add(stored('d', { t: 4, pred: 'ghost' }));
    const cycle = walkUpstream(index, 'c');
    expect(keys(cycle)).toEqual(['pem:c@0', 'pem:b@1', 'pem:a@2']);
    expect(cycle.gaps).toEqual([{ kind: 'predecessor-cycle', pem: 'a', predecessor: 'c' }]);
    const down = walkDownstream(index, 'a');
    expect(down.gaps).toEqual([{ kind: 'predecessor-cycle', pem: 'a', predecessor: 'c' }]);
    const missing = walkUpstream(index, 'd');
    expect(missing.nodes[1]).toMatchObject({ kind: 'pem', id: 'ghost', missing: true, type: null });
    expect(missing.gaps).toEqual([{ kind: 'missing-predecessor', pem: 'd', predecessor: 'ghost' }]);
  });

  it('an aborted signal ends the walk with truncated "aborted" and a cursor', () => {
    const { index } = pipeline();
    const controller = new AbortController();
    controller.abort();
    const result = walkUpstream(index, 'deploy2', { signal: controller.signal });
    expect(result.truncated?.reason).toBe('aborted');
    expect(keys(resumeWalk(index, result.cursor!))).toHaveLength(5);
  });

  it('refuses bad options with a clear message', () => {
    const { index } = pipeline();
    expect(() => walkUpstream(index, 'deploy2', { maxHops: -1 })).toThrow('Walking upstream failed: maxHops must be a whole number from 0');
    expect(() => walkDownstream(index, 'deploy2', { maxNodes: 0 })).toThrow(/maxNodes must be a whole number from 1/);
    expect(() => walkUpstream(index, 'deploy2', { stop: { type: 3 as unknown as string } })).toThrow(/stop.type must be a string/);
  });
});
