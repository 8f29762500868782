import { RKInvalidInputError } from '../public.js';
import type { LineageIndex } from './lineage-index.js';
import { resolveStart, type LineageStart } from './start.js';
import { toSeconds, wireSeconds, type TimeInput } from './time.js';
import { artifactKey, pemKey, walkDownstream, type LineageEdge, type LineageNode, type LineageVia, type Truncation } from './walk.js';

/**
 * `paths(a, b)`: every time-correct causal path from a down to b, read off a downstream walk of
 * a (so it follows exactly the bindings a walk follows). When b is not downstream of a but a is
 * downstream of b, the paths from b down to a are given (`reversed`). `at` resolves an artifact
 * or tag endpoint that has no `at` of its own, and leaves out PEMs stamped after it.
 */

/** Limits of a paths question. */
export interface PathsOptions {
  /** The time the endpoints are read at, and after which no PEM counts; default: now. */
  at?: TimeInput;
  /** The longest path, in PEM hops; default 10. */
  maxHops?: number;
  /** The most paths listed; default 100. */
  maxPaths?: number;
  /** The most nodes the walk behind the answer may visit; default 10 000. */
  maxNodes?: number;
  via?: readonly LineageVia[];
  signal?: AbortSignal;
}

/** One causal path: node keys from the upstream end to the downstream end, and the PEMs that bind its hops. */
export interface LineagePath {
  nodes: string[];
  /** The PEM IDs on the path, in order: each artifact hop is bound by the PEM before it. */
  pems: string[];
}

/** Every path found between two nodes, with the nodes and edges they use. */
export interface LineagePaths {
  /** Key of the upstream end. */
  from: string;
  /** Key of the downstream end. */
  to: string;
  /** True when the paths run from b down to a. */
  reversed: boolean;
  paths: LineagePath[];
  /** The nodes on some path. */
  nodes: LineageNode[];
  /** The edges on some path. */
  edges: LineageEdge[];
  /** Set when the walk was cut or maxPaths reached: more paths may exist. */
  truncated: Truncation | null;
}

const OPERATION = 'Finding lineage paths';

/** Applies `at` to a start that names an artifact or a tag without its own time. */
export function startAt(start: LineageStart, at: TimeInput | undefined): LineageStart {
  if (at === undefined || start === null || typeof start !== 'object') return start;
  if (('name' in start || 'tag' in start) && !('at' in start && start.at !== undefined)) return { ...start, at } as LineageStart;
  return start;
}

/** The key a start resolves to (a PEM or an artifact version). */
export function startKey(index: LineageIndex, start: LineageStart, operation: string): string {
  const resolved = resolveStart(index, start, operation);
  if (resolved.kind === 'pem') return pemKey(index.idOf(resolved.slot));
  return artifactKey(index.artifactName(resolved.artifact), resolved.producer >= 0 ? index.idOf(resolved.producer) : null);
}

/** Every path from a down to b (or b down to a). */
export function findPaths(index: LineageIndex, a: LineageStart, b: LineageStart, options: PathsOptions = {}): LineagePaths {
  if (options === null || typeof options !== 'object') throw new RKInvalidInputError(OPERATION, 'options', 'must be an object like { maxHops: 10 }');
  const maxPaths = options.maxPaths ?? 100;
  if (!Number.isInteger(maxPaths) || maxPaths < 1) throw new RKInvalidInputError(OPERATION, 'maxPaths', `must be a whole number from 1, got ${String(options.maxPaths)}`);
  const before = options.at === undefined ? Infinity : toSeconds(OPERATION, 'at', options.at);
  const first = startAt(a, options.at);
  const second = startAt(b, options.at);
  const keyA = startKey(index, first, OPERATION);
  const keyB = startKey(index, second, OPERATION);
  const forward = pathsBetween(index, first, keyA, keyB, before, maxPaths, options);
  if (forward.paths.length || keyA === keyB) return forward;
  const backward = pathsBetween(index, second, keyB, keyA, before, maxPaths, options);
  return backward.paths.length ? { ...backward, reversed: true } : forward;
}

function pathsBetween(index: LineageIndex, start: LineageStart, from: string, to: string, before: number, maxPaths: number, options: PathsOptions): LineagePaths {
  const walkOptions = { maxHops: options.maxHops ?? 10, maxNodes: options.maxNodes ?? 10_000, ...(options.via ? { via: options.via } : {}), ...(options.signal ? { signal: options.signal } : {}) };
  const walk = walkDownstream(index, start, walkOptions);
  const byKey = new Map(walk.nodes.map((node) => [node.key, node]));
  const late = (key: string) => {
    const node = byKey.get(key);
    return node?.kind === 'pem' && node.time !== null && wireSeconds(node.time) > before;
  };
  const edges = walk.edges.filter((edge) => !late(edge.from) && !late(edge.to));
  // Only nodes from which `to` can be reached matter; found by walking the edges backwards.
  const into = new Map<string, LineageEdge[]>();
  for (const edge of edges) push(into, edge.to, edge);
  const reaches = new Set<string>([to]);
  const stack = [to];
  while (stack.length) {
    for (const edge of into.get(stack.pop()!) ?? []) {
      if (!reaches.has(edge.from)) {
        reaches.add(edge.from);
        stack.push(edge.from);
      }
    }
  }
  const out = new Map<string, LineageEdge[]>();
  const seenEdge = new Set<string>();
  for (const edge of edges) {
    const id = `${edge.from}\u0000${edge.to}`;
    if (reaches.has(edge.from) && reaches.has(edge.to) && !seenEdge.has(id)) {
      seenEdge.add(id);
      push(out, edge.from, edge);
    }
  }
  const paths: LineagePath[] = [];
  let cut = false;
  if (reaches.has(from) && byKey.has(to)) {
    const trail = [from];
    const onTrail = new Set(trail);
    const visit = (key: string): void => {
      if (cut) return;
      if (key === to) {
        if (paths.length >= maxPaths) {
          cut = true;
          return;
        }
        paths.push({ nodes: [...trail], pems: trail.filter((k) => k.startsWith('pem:')).map((k) => k.slice(4)) });
        return;
      }
      for (const edge of out.get(key) ?? []) {
        if (onTrail.has(edge.to)) continue;
        trail.push(edge.to);
        onTrail.add(edge.to);
        visit(edge.to);
        trail.pop();
        onTrail.delete(edge.to);
      }
    };
    visit(from);
  }
  const used = new Set(paths.flatMap((path) => path.nodes));
  const usedEdges = new Set<string>();
  for (const path of paths) for (let i = 1; i < path.nodes.length; i++) usedEdges.add(`${path.nodes[i - 1]}\u0000${path.nodes[i]}`);
  let truncated: Truncation | null = walk.truncated;
  if (cut) truncated = { reason: 'maxPaths', pending: [] };
  return {
    from,
    to,
    reversed: false,
    paths,
    nodes: walk.nodes.filter((node) => used.has(node.key)),
    edges: [...seenEdge].filter((id) => usedEdges.has(id)).map((id) => (out.get(id.split('\u0000')[0]!) ?? []).find((edge) => `${edge.from}\u0000${edge.to}` === id)!),
    truncated,
  };
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
