import { describe, expect, it } from 'vitest';
import { ASSUMPTIONS, LineageIndex, RKInvalidInputError, resolveTag, stateAt, tagHistory } from '../../src/index.js';
import { at, pipeline, stored } from './fixtures.js';

describe('tag history and state at a time', () => {
  it('builds a tag history from the PEMs that carried it, each move marked with its assumption', () => {
    const { index } = pipeline();
    expect(tagHistory(index, 'ml', 'production')).toEqual([
      { namespace: 'ml', tag: 'production', pem: 'deploy1', at: at(20), basis: 'pem', assumption: ASSUMPTIONS.pemMovesTag },
      { namespace: 'ml', tag: 'production', pem: 'deploy2', at: at(50), basis: 'pem', assumption: ASSUMPTIONS.pemMovesTag },
    ]);
    expect(resolveTag(index, 'ml', 'production', { at: at(19) })).toBeNull();
    expect(resolveTag(index, 'ml', 'production', { at: at(49) })).toEqual({
      pem: 'deploy1',
      since: at(20),
      basis: 'pem',
      assumptions: [ASSUMPTIONS.pemMovesTag, ASSUMPTIONS.tagsNotRead],
    });
    expect(() => tagHistory(index, '', 'production')).toThrow(RKInvalidInputError);
  });

  it('moves a tag at the TimestampClient of the PEM carrying it, and marks a carrier that arrived out of order', () => {
    const index = new LineageIndex();
    index.add(stored('late', { t: 10, lag: 100, tag: 'prod', ns: 'svc' })); // received at 110
    index.add(stored('newer', { t: 20, lag: 0, tag: 'prod', ns: 'svc' })); // received at 20, before 'late'
    // Class D of issue 20: the late PEM is the one marked, never the move it undid.
    expect(resolveTag(index, 'svc', 'prod', { at: at(15) })).toMatchObject({ pem: 'late', assumptions: [ASSUMPTIONS.arrivedOutOfOrder, ASSUMPTIONS.tagsNotRead] });
    expect(resolveTag(index, 'svc', 'prod', { at: at(30) })).toMatchObject({ pem: 'newer', assumptions: [ASSUMPTIONS.pemMovesTag, ASSUMPTIONS.tagsNotRead] });
    expect(tagHistory(index, 'svc', 'prod').map((move) => [move.pem, move.assumption === ASSUMPTIONS.arrivedOutOfOrder])).toEqual([
      ['late', true],
      ['newer', false],
    ]);
  });

  it('adds setTag moves from /tags (current state only) and from the client record', () => {
    const { index } = pipeline();
    // setTag moved production back to deploy1 at t=70; recorded by this client at t=60 to train2 (odd but allowed).
    index.recordTagMove({ NamespaceID: 'ml', Tag: 'production', EventID: 'train2', UpdatedAt: at(60) });
    index.setCurrentTags([{ NamespaceID: 'ml', Tag: 'production', EventID: 'deploy1', UpdatedAt: at(70) }]);
    expect(tagHistory(index, 'ml', 'production').map((m) => [m.pem, m.at, m.basis])).toEqual([
      ['deploy1', at(20), 'pem'],
      ['deploy2', at(50), 'pem'],
      ['train2', at(60), 'recorded'],
      ['deploy1', at(70), 'tags'],
    ]);
    expect(resolveTag(index, 'ml', 'production')).toEqual({ pem: 'deploy1', since: at(70), basis: 'tags', assumptions: [ASSUMPTIONS.tagsCurrentOnly] });
    expect(resolveTag(index, 'ml', 'production', { at: at(65) })).toMatchObject({ pem: 'train2', basis: 'recorded', assumptions: [] });
  });

  it('/tags confirming the last PEM adds no move', () => {
    const { index } = pipeline();
    index.setCurrentTags([{ NamespaceID: 'ml', Tag: 'production', EventID: 'deploy2', UpdatedAt: at(50) }]);
    expect(tagHistory(index, 'ml', 'production')).toHaveLength(2);
  });

  it('stateAt: where each tag pointed and which PEM produced each artifact\'s current version', () => {
    const { index } = pipeline();
    const before = stateAt(index, at(45));
    expect(before.at).toBe(at(45));
    expect(before.tags).toEqual([{ namespace: 'ml', tag: 'production', pem: 'deploy1', since: at(20), basis: 'pem', assumptions: [ASSUMPTIONS.pemMovesTag, ASSUMPTIONS.tagsNotRead] }]);
    expect(before.artifacts.map((a) => [a.name, a.producer])).toEqual([
      ['data/v', 'ingest2'],
      ['model/m', 'train2'],
      ['svc/prod', 'deploy1'],
    ]);
    expect(before.artifacts[1]).toEqual({ name: 'model/m', producer: 'train2', type: 'train', emitter: 'trainer', producedAt: at(40) });
    expect(before.assumptions).toEqual([ASSUMPTIONS.clientClocks, ASSUMPTIONS.tagsNotRead]);
    expect(stateAt(index, at(5), { artifacts: 'model/*' }).artifacts).toEqual([]);
    expect(stateAt(index, new Date(Date.parse('2026-11-27T10:00:15Z')), { artifacts: /^model/ }).artifacts.map((a) => a.producer)).toEqual(['train1']);
    expect(() => stateAt(index, 'soon')).toThrow('Reading state at a time failed: time must be a time');
  });
});
