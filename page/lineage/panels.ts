import type { LineagePageData, LineagePageNode, LineagePageTimeline } from '../../src/lineage/page-data.js';
import { ROLE_COLOURS } from './graph.js';

/**
 * The side panels: the explain summary, the details of the selected node, the tags at the
 * slider's time and the legend. Plain DOM; every entry that names a node is a button that selects it.
 */

export type Select = (key: string) => void;

const LIST_SHOWN = 6;

/** PEM IDs share their leading (time-ordered) digits: the end tells them apart. */
export const shortId = (id: string): string => (id.length > 10 ? `…${id.slice(-8)}` : id);

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function nodeButton(select: Select, key: string, text: string): HTMLButtonElement {
  const button = el('button', { type: 'button', class: 'link', 'data-key': key }, text);
  button.addEventListener('click', () => select(key));
  return button;
}

export function renderSummary(target: HTMLElement, data: LineagePageData, select: Select): void {
  const s = data.summary;
  target.replaceChildren(el('h2', {}, 'Why'));
  if (!s) {
    target.append(el('p', {}, `${data.direction === 'upstream' ? 'Upstream' : 'Downstream'} walk from ${data.start}: ${data.nodes.length} nodes, ${data.edges.length} edges.`));
    return;
  }
  target.append(el('p', {}, `${s.steps} step(s) led here.`));
  const list = (title: string, items: Array<Node | string>[], empty: string) => {
    target.append(el('h3', {}, title));
    if (!items.length) {
      target.append(el('p', { class: 'muted' }, empty));
      return;
    }
    // Long lists (a model retrained every night for a year) show their latest few; the rest fold away.
    const li = (children: Array<Node | string>) => el('li', {}, ...children);
    target.append(el('ul', {}, ...items.slice(0, LIST_SHOWN).map(li)));
    if (items.length > LIST_SHOWN) target.append(el('details', {}, el('summary', {}, `${items.length - LIST_SHOWN} more`), el('ul', {}, ...items.slice(LIST_SHOWN).map(li))));
  };
  list(
    'Models',
    s.models.map((m) => [
      nodeButton(select, `artifact:${m.producer ?? '-'}:${m.name}`, m.name),
      m.trainedBy.length ? ` trained by ${m.emitters.join(', ')} in ` : ' (no training found upstream)',
      ...m.trainedBy.map((pem) => nodeButton(select, `pem:${pem}`, shortId(pem))),
    ]),
    'none found',
  );
  list('Trainings', s.trainings.map((t) => [nodeButton(select, `pem:${t.pem}`, `${t.type} ${shortId(t.pem)}`), ` by ${t.emitter}, ${t.time}`]), 'none found');
  list(
    'Data sources',
    s.sources.map((src) => [nodeButton(select, `artifact:-:${src.name}`, src.name), ` (${src.reason === 'no-producer' ? 'no known producer' : src.reason === 'source-name' ? 'named as a source' : 'read by an ingest step'})`]),
    'none found',
  );
  list('Gaps', s.gaps.map((g) => [g]), 'none');
  if (s.truncated) target.append(el('p', { class: 'warn' }, `The walk was cut (${s.truncated}).`));
  if (s.assumptions.length) target.append(el('details', {}, el('summary', {}, 'This rests on'), el('ul', {}, ...s.assumptions.map((a) => el('li', {}, a)))));
}

export function renderDetails(target: HTMLElement, node: LineagePageNode | undefined, context: { live: boolean; tags: string[]; current: boolean | null; onWalk: (direction: 'upstream' | 'downstream') => void }): void {
  target.replaceChildren(el('h2', {}, 'Details'));
  if (!node) {
    target.append(el('p', { class: 'muted' }, 'Click a node, or focus the graph and use the arrow keys.'));
    return;
  }
  const rows: Array<[string, string]> = [];
  if (node.kind === 'pem') {
    rows.push(['PEM', node.id], ['Type', node.type ?? 'unknown (missing PEM)'], ['Emitter', node.emitter ?? '-'], ['Time (client)', node.time ?? '-']);
    if (node.uses?.length) rows.push(['Uses', node.uses.join(', ')]);
    if (node.produces?.length) rows.push(['Produces', node.produces.join(', ')]);
  } else {
    rows.push(['Artifact', node.id], ['Version by', node.producer ?? 'no known producer'], ['Since', node.time ?? '-']);
    if (context.current !== null) rows.push(['At the slider time', context.current ? 'current version' : 'superseded']);
  }
  rows.push(['Role', node.role], ['Hop', String(node.hop)]);
  if (context.tags.length) rows.push(['Tags', context.tags.join(', ')]);
  for (const [name, value] of Object.entries(node.properties ?? {})) rows.push([`· ${name}`, typeof value === 'string' ? value : JSON.stringify(value)]);
  target.append(el('dl', { id: 'details-list' }, ...rows.flatMap(([dt, dd]) => [el('dt', {}, dt), el('dd', { 'data-field': dt }, dd)])));
  if (node.kind !== 'pem' || node.missing) return;
  if (!context.live) {
    target.append(el('p', { class: 'muted' }, 'Open it with rk view to walk further from here.'));
    return;
  }
  const up = el('button', { type: 'button', id: 'walk-up' }, '← one hop upstream');
  const down = el('button', { type: 'button', id: 'walk-down' }, 'one hop downstream →');
  up.addEventListener('click', () => context.onWalk('upstream'));
  down.addEventListener('click', () => context.onWalk('downstream'));
  target.append(el('div', { class: 'walk' }, up, down));
}

export function renderTags(target: HTMLElement, timeline: LineagePageTimeline | null, stop: number, labelOf: (pemId: string) => string | null, select: Select): void {
  target.replaceChildren(el('h2', {}, 'Tags'));
  if (!timeline || !timeline.tags.length) {
    target.append(el('p', { class: 'muted' }, timeline ? 'No tag ever pointed into this lineage.' : 'Written without the lineage index: no time slider.'));
    return;
  }
  const items = timeline.tags.map((t) => {
    const pem = t.at[stop] ?? null;
    const name = `${t.namespace}/${t.tag}`;
    const label = pem ? labelOf(pem) : null;
    const what: Array<Node | string> = pem === null ? ['nowhere yet'] : label ? [nodeButton(select, `pem:${pem}`, `${label} ${shortId(pem)}`)] : [`PEM ${pem} (not drawn)`];
    return el('li', { 'data-tag': name, 'data-pem': pem ?? '' }, el('strong', {}, name), ' → ', ...what);
  });
  target.append(el('ul', { id: 'tag-list' }, ...items));
}

export function renderLegend(target: HTMLElement): void {
  const swatch = (role: string, text: string, shape: string) => el('li', {}, el('span', { class: `swatch ${shape}`, style: `background:${ROLE_COLOURS[role as keyof typeof ROLE_COLOURS]}` }), text);
  target.replaceChildren(
    el('h2', {}, 'Legend'),
    el(
      'ul',
      { class: 'legend' },
      swatch('step', 'PEM (a step)', 'box'),
      swatch('artifact', 'artifact version', 'round'),
      swatch('model', 'model', 'round'),
      swatch('training', 'training', 'box'),
      swatch('source', 'data source', 'round'),
      swatch('deploy', 'deploy', 'box'),
      swatch('gap', 'gap (missing)', 'box gap'),
      swatch('fold', 'folded chain or group: click to open', 'box'),
    ),
    el('p', { class: 'muted' }, 'Edges: used, produced, predecessor (dashed). Keys: arrows walk, / search, + − zoom, 0 fit.'),
  );
}
