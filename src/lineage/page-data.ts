import type { Explanation } from './explain.js';
import { graphOf, labelOf, type LineageGraphSource } from './export-graph.js';
import type { LineageIndex } from './lineage-index.js';
import { roleMatchers, type LineageRoles } from './roles.js';
import { stateAt } from './state.js';
import { tagHistory } from './tags.js';
import { formatSeconds, wireSeconds } from './time.js';
import type { LineageNode } from './walk.js';

/**
 * The data the lineage page draws, computed here in Node and embedded in the page as JSON: the
 * page lays it out and filters it by the slider, but every answer about time (where a tag
 * pointed, which artifact version was current) is a `stateAt` answer taken at each stop, so the
 * page never re-implements the binding or tag rules.
 */

/** What colours a node: its role in the answer. `step` and `artifact` are the plain ones. */
export type LineagePageRole = 'model' | 'training' | 'source' | 'deploy' | 'gap' | 'step' | 'artifact';

/** A node as the page draws it. */
export interface LineagePageNode {
  key: string;
  kind: 'pem' | 'artifact';
  label: string;
  role: LineagePageRole;
  hop: number;
  /** When it came to exist (the PEM's TimestampClient, an artifact version's producer's); null: always there. */
  time: string | null;
  /** PEM: its ID; artifact: its Name. */
  id: string;
  type?: string | null;
  emitter?: string | null;
  name?: string;
  producer?: string | null;
  uses?: string[];
  produces?: string[];
  missing?: boolean;
  stopped?: boolean;
  /** The PEM's Properties, when the caller read them (the index does not keep them). */
  properties?: Record<string, unknown>;
}

/** An edge as the page draws it: forward in time, labelled by its kind. */
export interface LineagePageEdge {
  from: string;
  to: string;
  kind: 'predecessor' | 'produced' | 'used';
}

/** The `explain` summary beside the graph. */
export interface LineagePageSummary {
  target: string;
  steps: number;
  models: Array<{ name: string; producer: string | null; trainedBy: string[]; emitters: string[] }>;
  trainings: Array<{ pem: string; type: string; emitter: string; time: string }>;
  sources: Array<{ name: string; reason: string; usedBy: string[] }>;
  gaps: string[];
  assumptions: string[];
  truncated: string | null;
}

/**
 * The slider's stops and what `stateAt` said at each: `tags[i].at[s]` is the PEM the tag pointed
 * to at stop s (null: nowhere yet); `current[key]` lists the [from, to] stop ranges in which that
 * artifact version was the current one.
 */
export interface LineagePageTimeline {
  stops: string[];
  tags: Array<{ namespace: string; tag: string; at: Array<string | null> }>;
  current: Record<string, Array<[number, number]>>;
  assumptions: string[];
}

/** Everything the lineage page draws, as embedded in it (`toPageData`). */
export interface LineagePageData {
  title: string;
  direction: 'upstream' | 'downstream';
  start: string;
  nodes: LineagePageNode[];
  edges: LineagePageEdge[];
  summary: LineagePageSummary | null;
  timeline: LineagePageTimeline | null;
  /** Whether the page can ask a page server for one hop more (`rk view`). */
  live: boolean;
}

/** What `toHtml` and `rk view` may add to the result: the index for the slider, Properties, roles. */
export interface LineagePageOptions {
  /** The page's title; default "Lineage of <start>". */
  title?: string;
  /** The index the result came from (an RKLineage's `index`): with it the page gets its time slider. */
  index?: LineageIndex;
  /** PEMs read with getPem, by ID: their Properties show in the details. */
  pems?: ReadonlyMap<string, { Properties?: Record<string, unknown> }>;
  /** Roles for colouring, replacing the defaults role by role (as in explain). */
  roles?: LineageRoles;
  /** The most slider stops; default 240 (tag moves are always kept). */
  maxStops?: number;
}

const DEPLOY_TYPE = /^(deploy|release|promote|rollout|serve)/i;
const DEPLOY_NAME = /^(deploy|deployment|deployments|endpoint|release)s?[/:]/i;

/** The page's data for a lineage result or explanation; `live` marks a page whose server can walk one hop further (`rk view`). */
export function toPageData(source: LineageGraphSource, options: LineagePageOptions = {}, live = false): LineagePageData {
  const operation = 'Drawing the lineage page';
  const explanation = 'lineage' in source ? (source as Explanation) : null;
  const result = explanation ? explanation.lineage : (source as Exclude<LineageGraphSource, Explanation>);
  const { nodes, edges } = graphOf(source);
  const roles = roleMatchers(operation, options.roles);
  const sourceNames = new Set(explanation?.sources.map((s) => s.name) ?? []);
  const typeOf = new Map(nodes.filter((n) => n.kind === 'pem').map((n) => [n.id, n.type ?? '']));
  const known = new Set(nodes.map((n) => n.key));

  const pageNodes = nodes.map((node) => pageNode(node, options, () => {
    if (node.kind === 'pem') {
      if (node.missing) return 'gap';
      const type = node.type ?? '';
      if (roles.trainingType(type)) return 'training';
      if (DEPLOY_TYPE.test(type)) return 'deploy';
      if (roles.sourceType(type)) return 'source';
      return 'step';
    }
    const producerType = node.producer ? (typeOf.get(node.producer) ?? '') : '';
    if (roles.modelName(node.name) || (node.producer !== null && roles.modelProducerType(producerType))) return 'model';
    if (node.producer === null || sourceNames.has(node.name) || roles.sourceName(node.name)) return 'source';
    if (DEPLOY_NAME.test(node.name) || DEPLOY_TYPE.test(producerType)) return 'deploy';
    return 'artifact';
  }));
  const timeOfPem = new Map(nodes.filter((n) => n.kind === 'pem').map((n) => [n.id, n.time]));
  for (const node of pageNodes) if (node.kind === 'artifact') node.time = node.producer ? (timeOfPem.get(node.producer) ?? null) : null;

  return {
    title: options.title ?? `Lineage of ${describeStart(result.start, nodes)}`,
    direction: result.direction,
    start: result.start,
    nodes: pageNodes,
    edges: edges.filter((e) => known.has(e.from) && known.has(e.to)).map((e) => ({ from: e.from, to: e.to, kind: e.kind })),
    summary: explanation ? summaryOf(explanation) : null,
    timeline: options.index ? timelineOf(options.index, pageNodes, options.maxStops ?? 240) : null,
    live,
  };
}

function pageNode(node: LineageNode, options: LineagePageOptions, role: () => LineagePageRole): LineagePageNode {
  const base = { key: node.key, kind: node.kind, label: labelOf(node), role: role(), hop: node.hop, time: null as string | null };
  if (node.kind === 'artifact') {
    return { ...base, label: node.name, id: node.name, name: node.name, producer: node.producer, ...(node.stopped ? { stopped: true } : {}) };
  }
  const properties = options.pems?.get(node.id)?.Properties;
  return {
    ...base,
    label: node.missing ? `missing …${node.id.slice(-8)}` : (node.type ?? '?'),
    time: node.time,
    id: node.id,
    type: node.type,
    emitter: node.emitter,
    uses: node.uses,
    produces: node.produces,
    ...(node.missing ? { missing: true } : {}),
    ...(node.stopped ? { stopped: true } : {}),
    ...(properties ? { properties } : {}),
  };
}

function describeStart(start: string, nodes: LineageNode[]): string {
  const node = nodes.find((n) => n.key === start);
  if (!node) return start;
  return node.kind === 'artifact' ? node.name : `${node.type ?? 'PEM'} ${node.id}`;
}

function summaryOf(why: Explanation): LineagePageSummary {
  return {
    target: why.target,
    steps: why.steps.length,
    models: why.models.map((m) => ({ name: m.name, producer: m.producer, trainedBy: m.trainedBy.pems, emitters: m.trainedBy.emitters })),
    trainings: why.trainings.map((t) => ({ pem: t.pem, type: t.type, emitter: t.emitter, time: t.time })),
    sources: why.sources.map((s) => ({ name: s.name, reason: s.reason, usedBy: s.usedBy })),
    gaps: why.gaps.map((g) =>
      g.kind === 'unbound-use'
        ? `${g.artifact}, used by ${g.pem}, has no known producer`
        : g.kind === 'missing-predecessor'
          ? `PEM ${g.pem} follows ${g.predecessor}, which Record Keeper does not hold`
          : `following Predecessor from ${g.pem} comes back to it`,
    ),
    assumptions: why.assumptions,
    truncated: why.truncated ? `${why.truncated.reason}: ${why.truncated.pending.length} PEM(s) not expanded` : null,
  };
}

/**
 * The stops are the times of the PEMs drawn and the moves of every tag that ever pointed at one
 * of them; at each, stateAt says where those tags pointed and which artifact versions were current.
 */
function timelineOf(index: LineageIndex, nodes: LineagePageNode[], maxStops: number): LineagePageTimeline | null {
  const pemIds = new Set(nodes.filter((n) => n.kind === 'pem' && !n.missing).map((n) => n.id));
  const tags: Array<{ namespace: string; tag: string }> = [];
  const tagTimes = new Set<number>();
  for (const [namespace, tag] of index.tagKeys()) {
    const history = tagHistory(index, namespace, tag);
    if (!history.some((move) => pemIds.has(move.pem))) continue;
    tags.push({ namespace, tag });
    for (const move of history) tagTimes.add(wireSeconds(move.at));
  }
  const pemTimes = [...new Set(nodes.filter((n) => n.kind === 'pem' && n.time).map((n) => wireSeconds(n.time!)))].filter(Number.isFinite).sort((a, b) => a - b);
  const kept = thin(pemTimes, Math.max(2, maxStops - tagTimes.size));
  const seconds = [...new Set([...kept, ...[...tagTimes].filter(Number.isFinite)])].sort((a, b) => a - b);
  if (!seconds.length) return null;

  const names = [...new Set(nodes.filter((n) => n.kind === 'artifact').map((n) => n.name!))];
  const namespaces = [...new Set(tags.map((t) => t.namespace))];
  // One alternation each, not a pattern per name: stateAt tests every artifact of the index against it.
  const exact = (list: string[]) => (list.length ? new RegExp(`^(?:${list.map(escapeRegExp).join('|')})$`, 's') : /$^/);
  const artifactPattern = exact(names);
  const namespacePattern = exact(namespaces);

  const artifactKeys = new Map<string, string>();
  for (const node of nodes) if (node.kind === 'artifact' && node.producer) artifactKeys.set(`${node.producer}\u0000${node.name}`, node.key);
  const tagRows = tags.map((t) => ({ ...t, at: [] as Array<string | null> }));
  const current: Record<string, Array<[number, number]>> = {};
  let assumptions: string[] = [];
  seconds.forEach((second, stop) => {
    const state = stateAt(index, second * 1000, { artifacts: artifactPattern, namespaces: namespacePattern });
    assumptions = state.assumptions;
    const pointed = new Map(state.tags.map((t) => [`${t.namespace}/${t.tag}`, t.pem]));
    for (const row of tagRows) row.at.push(pointed.get(`${row.namespace}/${row.tag}`) ?? null);
    for (const artifact of state.artifacts) {
      const key = artifactKeys.get(`${artifact.producer}\u0000${artifact.name}`);
      if (!key) continue;
      const ranges = (current[key] ??= []);
      const last = ranges[ranges.length - 1];
      if (last && last[1] === stop - 1) last[1] = stop;
      else ranges.push([stop, stop]);
    }
  });
  return { stops: seconds.map((s) => formatSeconds(s)!), tags: tagRows, current, assumptions };
}

/** At most `max` of the sorted times, evenly spread, always keeping the first and the last. */
function thin(times: number[], max: number): number[] {
  if (times.length <= max) return times;
  const out: number[] = [];
  for (let i = 0; i < max; i++) out.push(times[Math.round((i * (times.length - 1)) / (max - 1))]!);
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
