import { RKInvalidInputError } from '../public.js';
import type { LineageIndex } from './lineage-index.js';
import type { LineageStart } from './start.js';
import { stateAt } from './state.js';
import type { TimeInput } from './time.js';
import { walkUpstream, type WalkOptions } from './walk.js';

/**
 * What changed in the ancestry between two points: two PEMs, two tags (or one tag at two times),
 * two artifact versions, or two times (`{ at }`: every artifact version current then). An
 * ancestry is the set of artifact versions (Name and producing PEM) and PEMs upstream of it.
 */

export type DiffSide = LineageStart | { at: TimeInput };

/** An artifact version: its Name and the PEM that produced it. */
export interface ArtifactVersion {
  name: string;
  /** null: no known PEM produced it. */
  producer: string | null;
}

/** How two ancestries differ: artifacts added, removed or rebound to another producer, and PEMs. */
export interface LineageDiff {
  /** Names only in b's ancestry, with their versions there. */
  added: ArtifactVersion[];
  /** Names only in a's ancestry. */
  removed: ArtifactVersion[];
  /** Same Name, another producer: the versions only a had, and only b has. */
  rebound: Array<{ name: string; from: Array<string | null>; to: Array<string | null> }>;
  pems: { added: string[]; removed: string[] };
  /** Whether either walk was cut (then the diff covers only what was walked). */
  truncated: boolean;
}

/** Walk limits for the two ancestries; by default they go 1000 hops and 100 000 nodes. */
export type DiffOptions = Pick<WalkOptions, 'maxHops' | 'maxNodes' | 'via' | 'signal'>;

interface Ancestry {
  versions: Map<string, Set<string | null>>;
  pems: Set<string>;
  truncated: boolean;
}

function ancestry(index: LineageIndex, side: DiffSide, options: DiffOptions, argument: string): Ancestry {
  if (side !== null && typeof side === 'object' && 'at' in side && !('name' in side) && !('tag' in side)) {
    const state = stateAt(index, side.at);
    const versions = new Map<string, Set<string | null>>();
    for (const artifact of state.artifacts) versions.set(artifact.name, new Set([artifact.producer]));
    return { versions, pems: new Set(state.artifacts.map((a) => a.producer)), truncated: false };
  }
  if (side === undefined) throw new RKInvalidInputError('Comparing lineage', argument, 'is missing');
  const walk = walkUpstream(index, side as LineageStart, { maxHops: 1000, maxNodes: 100_000, ...options });
  const versions = new Map<string, Set<string | null>>();
  const pems = new Set<string>();
  for (const node of walk.nodes) {
    if (node.kind === 'pem') pems.add(node.id);
    else {
      const set = versions.get(node.name) ?? new Set<string | null>();
      set.add(node.producer);
      versions.set(node.name, set);
    }
  }
  return { versions, pems, truncated: walk.truncated !== null };
}

/** Compares the ancestries of a and b (PEMs, or the platform at a time) artifact by artifact. */
export function diffLineage(index: LineageIndex, a: DiffSide, b: DiffSide, options: DiffOptions = {}): LineageDiff {
  const before = ancestry(index, a, options, 'a');
  const after = ancestry(index, b, options, 'b');
  const added: ArtifactVersion[] = [];
  const removed: ArtifactVersion[] = [];
  const rebound: LineageDiff['rebound'] = [];
  for (const [name, producers] of after.versions) {
    const old = before.versions.get(name);
    if (!old) {
      for (const producer of producers) added.push({ name, producer });
      continue;
    }
    const from = [...old].filter((p) => !producers.has(p));
    const to = [...producers].filter((p) => !old.has(p));
    if (from.length || to.length) rebound.push({ name, from, to });
  }
  for (const [name, producers] of before.versions) {
    if (!after.versions.has(name)) for (const producer of producers) removed.push({ name, producer });
  }
  const byName = (x: { name: string }, y: { name: string }) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0);
  return {
    added: added.sort(byName),
    removed: removed.sort(byName),
    rebound: rebound.sort(byName),
    pems: { added: [...after.pems].filter((id) => !before.pems.has(id)), removed: [...before.pems].filter((id) => !after.pems.has(id)) },
    truncated: before.truncated || after.truncated,
  };
}
