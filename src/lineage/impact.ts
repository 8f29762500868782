import { RKInvalidInputError } from '../public.js';
import type { LineageIndex } from './lineage-index.js';
import { startAt } from './paths.js';
import type { LineageStart } from './start.js';
import { resolveTagSlot } from './tags.js';
import { toSeconds, type TimeInput } from './time.js';
import { pemKey, walkDownstream, type LineageVia, type Truncation } from './walk.js';

/**
 * `impact(source)`: what a bad artifact version or PEM reached. The downstream walk of source,
 * reduced to the tagged heads in it (the PEMs some tag points to at `at`: a deployed model, say),
 * each with one proving path: the chain of edges by which the walk first reached it, so the path
 * is one of the shortest.
 */

/** What counts as impacted, and how far to look. */
export interface ImpactOptions {
  /** Only PEMs a tag points to (at `at`); false lists every PEM reached. Default true. */
  tagged?: boolean;
  /** When the tags are read (and an artifact or tag source without its own time); default: now. */
  at?: TimeInput;
  /** Default 50. */
  maxHops?: number;
  /** Default 100 000. */
  maxNodes?: number;
  via?: readonly LineageVia[];
  signal?: AbortSignal;
}

/** One impacted PEM, the tags pointing to it, and a path from the source to it. */
export interface ImpactHit {
  pem: string;
  hop: number;
  /** The tags that point to it at `at` (empty when `tagged: false` found an untagged PEM). */
  tags: Array<{ namespace: string; tag: string }>;
  /** Node keys from the source to the PEM. */
  path: string[];
}

/** Every impacted PEM, nearest first. */
export interface LineageImpact {
  source: string;
  hits: ImpactHit[];
  /** Set when the walk was cut: more heads may be impacted. */
  truncated: Truncation | null;
}

const OPERATION = 'Finding impact';

/**
 * What descends from `source` in an index: every tagged head (or, with `tagged: false`, every PEM)
 * reached downstream, each with one shortest proving path; the memory engine's `impact`.
 */
export function findImpact(index: LineageIndex, source: LineageStart, options: ImpactOptions = {}): LineageImpact {
  if (options === null || typeof options !== 'object') throw new RKInvalidInputError(OPERATION, 'options', 'must be an object like { tagged: true }');
  const at = options.at === undefined ? Infinity : toSeconds(OPERATION, 'at', options.at);
  const tagged = options.tagged ?? true;
  const walk = walkDownstream(index, startAt(source, options.at), {
    maxHops: options.maxHops ?? 50,
    maxNodes: options.maxNodes ?? 100_000,
    ...(options.via ? { via: options.via } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  // Only a tag that could point at a reached PEM is resolved: one the PEM carried, or a known move
  // naming it (a tag points only at a carrier or at a move's PEM). The same heads as resolving
  // every tag, without reading the history of tags that never reach the walk (the server engine
  // would fetch each one's carriers).
  const reached = new Set<string>();
  const candidateTags = new Set<string>();
  for (const node of walk.nodes) {
    if (node.kind !== 'pem' || node.key === walk.start) continue;
    reached.add(node.id);
    const pem = index.pem(node.id);
    if (pem && pem.tag !== '' && pem.tagNamespace !== '') candidateTags.add(`${pem.tagNamespace}\u0000${pem.tag}`);
  }
  for (const move of index.allKnownTagMoves()) if (reached.has(move.pem)) candidateTags.add(`${move.namespace}\u0000${move.tag}`);
  const heads = new Map<string, Array<{ namespace: string; tag: string }>>();
  for (const key of candidateTags) {
    const [namespace, tag] = key.split('\u0000') as [string, string];
    const slot = resolveTagSlot(index, namespace, tag, at);
    if (slot < 0) continue;
    const head = pemKey(index.idOf(slot));
    const list = heads.get(head) ?? [];
    list.push({ namespace, tag });
    heads.set(head, list);
  }
  // The first edge into a node is the one the breadth-first walk reached it by.
  const parent = new Map<string, string>();
  for (const edge of walk.edges) if (!parent.has(edge.to) && edge.to !== walk.start) parent.set(edge.to, edge.from);
  const hits: ImpactHit[] = [];
  for (const node of walk.nodes) {
    if (node.kind !== 'pem' || node.key === walk.start) continue;
    const tags = (heads.get(node.key) ?? []).sort((x, y) => (x.namespace + '\u0000' + x.tag < y.namespace + '\u0000' + y.tag ? -1 : 1));
    if (tagged && !tags.length) continue;
    const path = [node.key];
    for (let key = parent.get(node.key); key !== undefined && path.length <= walk.nodes.length; key = parent.get(key)) {
      path.push(key);
      if (key === walk.start) break;
    }
    hits.push({ pem: node.id, hop: node.hop, tags, path: path.reverse() });
  }
  hits.sort((x, y) => x.hop - y.hop);
  return { source: walk.start, hits, truncated: walk.truncated };
}
