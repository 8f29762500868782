import { graphOf, labelOf, type LineageGraphSource } from './export-graph.js';

/** A Graphviz DOT digraph of a lineage result; node ids are the result's keys, quoted. */
export function toDot(source: LineageGraphSource, options: { name?: string } = {}): string {
  const { nodes, edges } = graphOf(source);
  const lines = [`digraph ${quote(options.name ?? 'lineage')} {`, '  rankdir=LR;', '  node [fontname="Helvetica"];'];
  for (const node of nodes) {
    const attributes =
      node.kind === 'pem'
        ? `shape=box, style=${node.missing ? '"dashed"' : '"rounded,filled"'}, fillcolor="#eef3ff"`
        : 'shape=parallelogram, style=filled, fillcolor="#fff7e6"';
    lines.push(`  ${quote(node.key)} [label=${quote(labelOf(node))}, ${attributes}];`);
  }
  for (const edge of edges) {
    const style = edge.kind === 'predecessor' ? ', style=dashed' : '';
    lines.push(`  ${quote(edge.from)} -> ${quote(edge.to)} [label=${quote(edge.kind)}${style}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function quote(text: string): string {
  // In a DOT quoted string only \" is an escape; a backslash before a quote or at the end is doubled
  // so that it cannot swallow the quote.
  return `"${text.replace(/\\(?=("|$))/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;
}
