import type cytoscape from 'cytoscape';
import type { LineagePageData, LineagePageEdge, LineagePageNode } from '../../src/lineage/page-data.js';
import { createGraph, elementsOf, FOLD_ABOVE, foldsOf, layoutOf, withDisplay, type Fold } from './graph.js';
import { bindKeys } from './keyboard.js';
import { el, renderDetails, renderLegend, renderSummary, renderTags } from './panels.js';

/**
 * The lineage page: reads the JSON that toHtml embedded, draws it and wires the slider, search,
 * details and keyboard. `window.rkPage` lets tests (and a curious user in the console) read what is
 * drawn; nothing on the page loads from the network except, in `rk view`, one-hop walks from its
 * own page server.
 */

interface PageApi {
  ready: boolean;
  /** Elements drawn now (not hidden by the slider), folded or not. */
  drawn(): { nodes: number; edges: number };
  /** From the script's start to the page being drawn, in ms. */
  renderMs: number;
  /** Of which parsing the data, creating the graph and its layout. */
  layoutMs: number;
  cy: cytoscape.Core;
}

declare global {
  interface Window {
    rkPage?: PageApi;
  }
}

const started = performance.now();
const data = JSON.parse(document.getElementById('rk-data')!.textContent!) as LineagePageData;
const byKey = new Map<string, LineagePageNode>(data.nodes.map((n) => [n.key, n]));
const drawnFirst = new Set(data.nodes.map((n) => n.key));
const edgeKeys = new Set(data.edges.map((e) => `${e.from}>${e.to}:${e.kind}`));
const open = new Set<string>();
let folds: Map<string, Fold> = foldsOf(data.nodes, data.edges);
const timeline = data.timeline;
let stop = timeline ? timeline.stops.length - 1 : 0;
let selected: string | null = null;

// The skeleton. The graph takes the room; the aside holds details, tags, the summary and a legend.
const search = el('input', { id: 'search', type: 'search', placeholder: 'Search name or ID  ( / )', 'aria-label': 'Search nodes by name or ID', autocomplete: 'off' });
const searchCount = el('span', { id: 'search-count', 'aria-live': 'polite' });
const slider = el('input', { id: 'slider', type: 'range', min: '0', max: String(timeline ? timeline.stops.length - 1 : 0), value: String(stop), step: '1', 'aria-label': 'Time: the lineage as it was then' });
const sliderTime = el('output', { id: 'slider-time', for: 'slider' });
const graphBox = el('section', { id: 'graph', tabindex: '0', 'aria-label': 'Lineage graph. Arrow keys walk along edges, Enter opens a folded node.' });
const details = el('section', { id: 'details', 'aria-live': 'polite' });
const tags = el('section', { id: 'tags' });
const summary = el('section', { id: 'summary' });
const legend = el('section', { id: 'legend' });
document.body.append(
  el(
    'header',
    {},
    el('h1', {}, data.title),
    el('div', { class: 'search' }, search, searchCount),
    el('div', { class: 'timeline', ...(timeline ? {} : { hidden: '' }) }, el('label', { for: 'slider' }, 'As it was at'), slider, sliderTime),
  ),
  el('main', {}, graphBox, el('aside', {}, details, tags, summary, legend)),
);

const cy = createGraph(graphBox, data, elementsOf(data.nodes, data.edges, folds, open));
/** A big graph fitted whole is a hairline: it opens at a readable zoom on the node asked about instead. */
function frame(on: string): void {
  if (cy.nodes().length <= FOLD_ABOVE) return;
  const fold = folds.get(on);
  const node = cy.getElementById(fold && !open.has(fold.key) ? fold.key : on);
  cy.zoom(0.9);
  if (!node.empty()) cy.center(node);
}
frame(data.start);
const laidOutMs = performance.now() - started;

function labelOfPem(id: string): string | null {
  const node = byKey.get(`pem:${id}`);
  return node ? (node.type ?? 'PEM') : null;
}

/** Applies the stop: hides what did not exist yet, dims superseded versions, moves the tag badges. */
function applyStop(): void {
  if (!timeline) return;
  const at = timeline.stops[stop]!;
  sliderTime.textContent = `${at} UTC${stop === timeline.stops.length - 1 ? ' (latest)' : ''}`;
  const tagged = new Map<string, string[]>();
  for (const t of timeline.tags) {
    const pem = t.at[stop];
    if (pem) (tagged.get(`pem:${pem}`) ?? tagged.set(`pem:${pem}`, []).get(`pem:${pem}`)!).push(t.tag);
  }
  cy.batch(() => {
    cy.nodes().forEach((node) => {
      const time = node.data('time') as string;
      node.toggleClass('future', time !== '' && time > at);
      const key = node.id();
      const ranges = timeline.current[key];
      const page = byKey.get(key);
      // Versions walked to later (rk view) have no stateAt answer: they are not judged.
      node.toggleClass('superseded', drawnFirst.has(key) && page?.kind === 'artifact' && page.producer !== null && !(ranges ?? []).some(([a, b]) => a <= stop && stop <= b));
      const now = (tagged.get(key) ?? []).join(', ');
      if (now !== node.data('tagged')) node.data({ tagged: now, ...withDisplay({ label: node.data('label') as string, tagged: now, kind: node.data('kind') as string }) });
    });
    cy.edges().forEach((edge) => {
      edge.toggleClass('future', edge.source().hasClass('future') || edge.target().hasClass('future'));
    });
  });
  renderTags(tags, timeline, stop, labelOfPem, select);
  showDetails();
}

function currentAt(key: string): boolean | null {
  const node = byKey.get(key);
  if (!timeline || !node || node.kind !== 'artifact' || node.producer === null) return null;
  return (timeline.current[key] ?? []).some(([a, b]) => a <= stop && stop <= b);
}

function showDetails(): void {
  const node = selected ? byKey.get(selected) : undefined;
  const tagsHere = timeline && node ? timeline.tags.filter((t) => t.at[stop] === node.id).map((t) => `${t.namespace}/${t.tag}`) : [];
  renderDetails(details, node, { live: data.live, tags: tagsHere, current: selected ? currentAt(selected) : null, onWalk: (direction) => void walk(direction) });
}

/** Selects a node by its key, opening the fold it is in, and brings it into view. */
function select(key: string): void {
  const fold = folds.get(key);
  if (fold && !open.has(fold.key)) unfold(fold.key);
  const node = cy.getElementById(key);
  if (node.empty()) return;
  cy.elements(':selected').unselect();
  node.select();
  selected = key;
  cy.animate({ center: { eles: node }, duration: 150 });
  showDetails();
}

function relayout(): void {
  cy.elements().remove();
  cy.add(elementsOf(data.nodes, data.edges, folds, open));
  cy.layout(layoutOf(cy)).run();
  applyStop();
}

function unfold(key: string): void {
  open.add(key);
  relayout();
  const first = folds.get(key) ? key : [...folds.values()].find((f) => f.key === key)?.members[0];
  if (first) frame(first);
}

/** rk view only: asks the page server for one hop more from the selected PEM and adds what is new. */
async function walk(direction: 'upstream' | 'downstream'): Promise<void> {
  const node = selected ? byKey.get(selected) : undefined;
  if (!node) return;
  details.querySelectorAll('button').forEach((b) => (b.disabled = true));
  try {
    const response = await fetch(`api/hop?pem=${encodeURIComponent(node.id)}&direction=${direction}`);
    const body = (await response.json()) as { nodes?: LineagePageNode[]; edges?: LineagePageEdge[]; error?: string };
    if (!response.ok || !body.nodes || !body.edges) throw new Error(body.error ?? `the page server answered ${response.status}`);
    let added = 0;
    for (const n of body.nodes) {
      if (byKey.has(n.key)) continue;
      byKey.set(n.key, n);
      data.nodes.push(n);
      added++;
    }
    for (const e of body.edges) {
      const id = `${e.from}>${e.to}:${e.kind}`;
      if (edgeKeys.has(id) || !byKey.has(e.from) || !byKey.has(e.to)) continue;
      edgeKeys.add(id);
      data.edges.push(e);
    }
    folds = foldsOf(data.nodes, data.edges);
    relayout();
    select(node.key);
    details.append(el('p', { class: 'muted', id: 'walk-result' }, added ? `${added} node(s) added ${direction}.` : `Nothing more ${direction}.`));
  } catch (error) {
    details.append(el('p', { class: 'warn', id: 'walk-result' }, `Could not walk ${direction}: ${error instanceof Error ? error.message : String(error)}`));
    details.querySelectorAll('button').forEach((b) => (b.disabled = false));
  }
}

// Search by name, ID, type or emitter; Enter steps through the matches.
let matches: string[] = [];
let matchAt = -1;
search.addEventListener('input', () => {
  const q = search.value.trim().toLowerCase();
  cy.nodes().removeClass('match');
  matches = q ? data.nodes.filter((n) => [n.id, n.label, n.type ?? '', n.emitter ?? ''].some((v) => v.toLowerCase().includes(q))).map((n) => n.key) : [];
  matchAt = -1;
  for (const key of matches) cy.getElementById(folds.has(key) && !open.has(folds.get(key)!.key) ? folds.get(key)!.key : key).addClass('match');
  searchCount.textContent = q ? `${matches.length} match${matches.length === 1 ? '' : 'es'}${matches.length ? ', Enter to go' : ''}` : '';
});
search.addEventListener('keydown', (event) => {
  if (event.key !== 'Enter' || !matches.length) return;
  matchAt = (matchAt + 1) % matches.length;
  select(matches[matchAt]!);
});

slider.addEventListener('input', () => {
  stop = Number(slider.value);
  applyStop();
});

cy.on('tap', 'node', (event) => {
  const key = (event.target as cytoscape.NodeSingular).id();
  if (key.startsWith('chain:') || key.startsWith('group:')) unfold(key);
  else select(key);
});
cy.on('tap', (event) => {
  if (event.target === cy) {
    cy.elements(':selected').unselect();
    selected = null;
    showDetails();
  }
});

bindKeys({ cy, graphBox, search, select: (key) => (key.startsWith('chain:') || key.startsWith('group:') ? unfold(key) : select(key)), selected: () => selected });

renderSummary(summary, data, select);
renderLegend(legend);
applyStop();
if (!timeline) renderTags(tags, null, 0, labelOfPem, select);
showDetails();

window.rkPage = {
  ready: true,
  cy,
  renderMs: performance.now() - started,
  layoutMs: laidOutMs,
  drawn: () => ({ nodes: cy.nodes().filter((n) => !n.hasClass('future')).length, edges: cy.edges().filter((e) => !e.hasClass('future')).length }),
};
