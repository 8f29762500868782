import cytoscape from 'cytoscape';
import dagre from 'cytoscape-dagre';
import type { LineagePageData, LineagePageEdge, LineagePageNode, LineagePageRole } from '../../src/lineage/page-data.js';

/**
 * The graph: Cytoscape.js draws it, dagre lays it out left to right. Edges point forward in time
 * (producer to artifact to user, predecessor to follower), so dagre's ranks read as time order.
 * Big answers are folded: a run of single-input, single-output nodes becomes one "chain" node and
 * more than FAN_OUT leaves hanging off one node become one "group" node; clicking either unfolds it.
 */

cytoscape.use(dagre);

/** Answers up to this many nodes are drawn whole, node for node. */
export const FOLD_ABOVE = 200;
const FAN_OUT = 8;
const CHAIN = 4;

/** Fill colours: each keeps the dark label text at WCAG AA contrast (4.5:1 or more). */
export const ROLE_COLOURS: Record<LineagePageRole | 'fold', string> = {
  model: '#ffd166',
  training: '#f4a29b',
  source: '#9fd3ec',
  deploy: '#9be0b8',
  gap: '#ffffff',
  step: '#dcd6f7',
  artifact: '#eeeeee',
  fold: '#fff3c4',
};

export interface Fold {
  key: string;
  kind: 'chain' | 'group';
  members: string[];
  label: string;
}

/** Which nodes fold into which chain or group, for an answer over FOLD_ABOVE nodes. */
export function foldsOf(nodes: LineagePageNode[], edges: LineagePageEdge[]): Map<string, Fold> {
  const folded = new Map<string, Fold>();
  if (nodes.length <= FOLD_ABOVE) return folded;
  const ins = new Map<string, Set<string>>();
  const outs = new Map<string, Set<string>>();
  const flowIns = new Map<string, Set<string>>();
  const flowOuts = new Map<string, Set<string>>();
  const add = (map: Map<string, Set<string>>, key: string, value: string) => (map.get(key) ?? map.set(key, new Set()).get(key)!).add(value);
  for (const edge of edges) {
    add(outs, edge.from, edge.to);
    add(ins, edge.to, edge.from);
    // Predecessor edges run beside the artifact flow; a chain is judged on the flow alone.
    if (edge.kind !== 'predecessor') {
      add(flowOuts, edge.from, edge.to);
      add(flowIns, edge.to, edge.from);
    }
  }
  const degree = (key: string) => new Set([...(ins.get(key) ?? []), ...(outs.get(key) ?? [])]).size;
  const byKey = new Map(nodes.map((n) => [n.key, n]));

  // Fan-outs: leaves (one neighbour in all) hanging off one node on one side.
  for (const node of nodes) {
    for (const side of ['out', 'in'] as const) {
      const leaves = [...((side === 'out' ? outs : ins).get(node.key) ?? [])].filter((k) => degree(k) === 1 && !folded.has(k));
      if (leaves.length <= FAN_OUT) continue;
      const kinds = new Set(leaves.map((k) => byKey.get(k)?.kind));
      const noun = kinds.size === 1 && kinds.has('artifact') ? 'artifacts' : kinds.size === 1 ? 'PEMs' : 'nodes';
      const fold: Fold = { key: `group:${side}:${node.key}`, kind: 'group', members: leaves, label: `+${leaves.length} ${noun}` };
      for (const leaf of leaves) folded.set(leaf, fold);
    }
  }

  // Chains: follow single flow links while each node has one flow input and one flow output.
  const single = (key: string) => !folded.has(key) && (flowIns.get(key)?.size ?? 0) === 1 && (flowOuts.get(key)?.size ?? 0) === 1;
  const seen = new Set<string>();
  for (const node of nodes) {
    if (seen.has(node.key) || !single(node.key)) continue;
    const before = [...flowIns.get(node.key)!][0]!;
    if (single(before)) continue; // not the head of its run
    const run: string[] = [];
    for (let key: string | undefined = node.key; key && single(key) && !seen.has(key); key = [...flowOuts.get(key)!][0]) {
      seen.add(key);
      run.push(key);
    }
    if (run.length < CHAIN) continue;
    const first = byKey.get(run[0]!)!;
    const last = byKey.get(run[run.length - 1]!)!;
    const fold: Fold = { key: `chain:${first.key}`, kind: 'chain', members: run, label: `${run.length} steps\n${first.label} … ${last.label}` };
    for (const key of run) folded.set(key, fold);
  }
  return folded;
}

/**
 * The text a node shows (its label, and the tags on it) and a box that fits it. Sized here from
 * the text, not measured by Cytoscape: measuring every label costs seconds at a thousand nodes.
 */
export function withDisplay(data: { label: string; tagged: string; kind: string }): { display: string; w: number; h: number } {
  const lines = data.label.split('\n').map((line) => (line.length > 34 ? `${line.slice(0, 33)}…` : line));
  if (data.tagged) lines.push(`⚑ ${data.tagged}`);
  const widest = Math.max(...lines.map((line) => line.length));
  const round = data.kind === 'artifact' ? 1.3 : 1;
  return { display: lines.join('\n'), w: Math.round((widest * 6.6 + 18) * round), h: Math.round((lines.length * 15 + 12) * (round === 1 ? 1 : 1.15)) };
}

/** Cytoscape elements for the nodes and edges, with unfolded folds drawn node for node. */
export function elementsOf(nodes: LineagePageNode[], edges: LineagePageEdge[], folds: Map<string, Fold>, open: Set<string>): cytoscape.ElementDefinition[] {
  const shown = (key: string) => {
    const fold = folds.get(key);
    return fold && !open.has(fold.key) ? fold.key : key;
  };
  const out: cytoscape.ElementDefinition[] = [];
  const folded = new Map<string, { fold: Fold; time: string | null }>();
  for (const node of nodes) {
    const at = shown(node.key);
    if (at === node.key) {
      const shown = { label: node.label, tagged: '', kind: node.kind };
      out.push({ group: 'nodes', data: { id: node.key, ...shown, ...withDisplay(shown), role: node.role, time: node.time ?? '' }, classes: `${node.kind} role-${node.role}${node.missing ? ' missing' : ''}` });
      continue;
    }
    const entry = folded.get(at);
    // A fold exists from its earliest member's time on.
    if (!entry) folded.set(at, { fold: folds.get(node.key)!, time: node.time });
    else if (node.time && (!entry.time || node.time < entry.time)) entry.time = node.time;
  }
  for (const [key, { fold, time }] of folded) {
    const shown = { label: fold.label, tagged: '', kind: fold.kind };
    out.push({ group: 'nodes', data: { id: key, ...shown, ...withDisplay(shown), role: 'fold', time: time ?? '', members: fold.members.length }, classes: `fold role-fold ${fold.kind}` });
  }
  const drawn = new Set<string>();
  edges.forEach((edge, i) => {
    const from = shown(edge.from);
    const to = shown(edge.to);
    if (from === to) return;
    const id = from === edge.from && to === edge.to ? `e${i}` : `f:${from}>${to}:${edge.kind}`;
    if (drawn.has(id)) return;
    drawn.add(id);
    out.push({ group: 'edges', data: { id, source: from, target: to, kind: edge.kind }, classes: edge.kind });
  });
  return out;
}

export function styleOf(big: boolean): cytoscape.StylesheetJson {
  const roles = Object.entries(ROLE_COLOURS).map(([role, colour]) => ({ selector: `node.role-${role}`, style: { 'background-color': colour } }));
  return [
    {
      selector: 'node',
      style: {
        label: 'data(display)',
        'text-wrap': 'wrap',
        'text-max-width': '170px',
        'text-valign': 'center',
        'text-halign': 'center',
        'font-size': 12,
        'font-family': 'system-ui, sans-serif',
        color: '#111111',
        width: 'data(w)',
        height: 'data(h)',
        'border-width': 1,
        'border-color': '#555555',
        'min-zoomed-font-size': 6,
      },
    },
    { selector: 'node.pem', style: { shape: 'round-rectangle' } },
    { selector: 'node.artifact', style: { shape: 'ellipse' } },
    { selector: 'node.fold', style: { shape: 'round-tag', 'border-style': 'double', 'border-width': 3 } },
    ...roles,
    { selector: 'node.role-gap, node.missing', style: { 'border-color': '#b00020', 'border-style': 'dashed', 'border-width': 2, color: '#b00020' } },
    { selector: 'node[tagged != ""]', style: { 'border-width': 3, 'border-color': '#1b4332' } },
    { selector: 'node.superseded', style: { opacity: 0.45, 'border-style': 'dotted' } },
    { selector: 'node.future, edge.future', style: { display: 'none' } },
    { selector: 'node.match', style: { 'overlay-color': '#0057b7', 'overlay-opacity': 0.25, 'overlay-padding': 6 } },
    { selector: 'node:selected', style: { 'border-width': 4, 'border-color': '#0057b7' } },
    {
      selector: 'edge',
      style: {
        width: 1.5,
        'curve-style': big ? 'straight' : 'bezier',
        'target-arrow-shape': 'triangle',
        'arrow-scale': 0.9,
        // Edge labels cost a text measurement each: on a big graph the kind shows by colour and dash only.
        label: big ? '' : 'data(kind)',
        'font-size': 9,
        color: '#333333',
        'text-background-color': '#ffffff',
        'text-background-opacity': 0.85,
        'text-rotation': 'autorotate',
        'min-zoomed-font-size': 8,
      },
    },
    { selector: 'edge.used', style: { 'line-color': '#3d5a80', 'target-arrow-color': '#3d5a80' } },
    { selector: 'edge.produced', style: { 'line-color': '#2d6a4f', 'target-arrow-color': '#2d6a4f' } },
    { selector: 'edge.predecessor', style: { 'line-color': '#777777', 'target-arrow-color': '#777777', 'line-style': 'dashed' } },
  ] as unknown as cytoscape.StylesheetJson;
}

/**
 * The layout, left to right. Up to FOLD_ABOVE nodes: dagre (network-simplex ranks, crossing
 * reduction). Above: dagre's crossing reduction alone takes seconds, so ranks are longest paths
 * and each rank is ordered by where its inputs sit (one barycentre sweep, ties by time): linear
 * in the graph, and still time order from left to right because every edge points forward in time.
 */
export function layoutOf(cy: cytoscape.Core): cytoscape.LayoutOptions {
  if (cy.nodes().length <= FOLD_ABOVE) return { name: 'dagre', rankDir: 'LR', nodeSep: 24, rankSep: 70, edgeSep: 6, fit: true, padding: 24, animate: false } as cytoscape.LayoutOptions;
  const positions = layered(cy);
  return { name: 'preset', positions: (node: cytoscape.NodeSingular) => positions.get(node.id())!, fit: false, animate: false } as cytoscape.LayoutOptions;
}

function layered(cy: cytoscape.Core): Map<string, { x: number; y: number }> {
  const ids = cy.nodes().map((n) => n.id());
  const ins = new Map<string, string[]>(ids.map((id) => [id, []]));
  const outs = new Map<string, string[]>(ids.map((id) => [id, []]));
  cy.edges().forEach((e) => {
    ins.get(e.target().id())!.push(e.source().id());
    outs.get(e.source().id())!.push(e.target().id());
  });
  // Kahn's order; anything left in a cycle goes last.
  const waiting = new Map(ids.map((id) => [id, ins.get(id)!.length]));
  const queue = ids.filter((id) => waiting.get(id) === 0);
  const order: string[] = [];
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i]!;
    order.push(id);
    for (const next of outs.get(id)!) {
      const left = waiting.get(next)! - 1;
      waiting.set(next, left);
      if (left === 0) queue.push(next);
    }
  }
  const placed = new Set(order);
  for (const id of ids) if (!placed.has(id)) order.push(id);
  const rank = new Map<string, number>();
  for (const id of order) rank.set(id, Math.max(0, ...ins.get(id)!.map((from) => (rank.has(from) ? rank.get(from)! + 1 : 0))));
  // A node with no inputs (a source file) sits just before its first user, not in column 0.
  for (let i = order.length - 1; i >= 0; i--) {
    const id = order[i]!;
    const users = outs.get(id)!.filter((to) => rank.has(to));
    if (!ins.get(id)!.length && users.length) rank.set(id, Math.max(0, Math.min(...users.map((to) => rank.get(to)!)) - 1));
  }
  const ranks: string[][] = [];
  for (const id of order) (ranks[rank.get(id)!] ??= []).push(id);
  const slot = new Map<string, number>();
  const timeOf = (id: string) => String(cy.getElementById(id).data('time') ?? '');
  const positions = new Map<string, { x: number; y: number }>();
  let x = 0;
  for (const column of ranks) {
    if (!column) continue;
    const centre = (id: string) => {
      const from = ins.get(id)!.filter((f) => slot.has(f));
      return from.length ? from.reduce((sum, f) => sum + slot.get(f)!, 0) / from.length : Number.MAX_SAFE_INTEGER;
    };
    column.sort((a, b) => centre(a) - centre(b) || (timeOf(a) < timeOf(b) ? -1 : timeOf(a) > timeOf(b) ? 1 : 0));
    const widest = Math.max(...column.map((id) => Number(cy.getElementById(id).data('w'))));
    let y = 0;
    column.forEach((id, i) => {
      slot.set(id, i);
      const h = Number(cy.getElementById(id).data('h'));
      positions.set(id, { x: x + widest / 2, y: y + h / 2 });
      y += h + 14;
    });
    // Centre each column on the same line, so a long pipeline reads as one band.
    for (const id of column) positions.get(id)!.y -= y / 2;
    x += widest + 60;
  }
  return positions;
}

export function createGraph(container: HTMLElement, data: LineagePageData, elements: cytoscape.ElementDefinition[]): cytoscape.Core {
  const big = elements.length > 1500;
  const cy = cytoscape({
    container,
    elements,
    style: styleOf(data.nodes.length > FOLD_ABOVE),
    // Positions come from layoutOf, run once the elements are in (it reads their sizes).
    layout: { name: 'preset' },
    minZoom: 0.05,
    maxZoom: 4,
    boxSelectionEnabled: false,
    selectionType: 'single',
    // At thousands of elements, panning moves a snapshot and edges hide while the view moves.
    textureOnViewport: big,
    hideEdgesOnViewport: big,
    pixelRatio: big ? 1 : 'auto',
  });
  cy.layout(layoutOf(cy)).run();
  return cy;
}
