import { graphOf, labelOf, type LineageGraphSource } from './export-graph.js';

/**
 * A Mermaid flowchart of a lineage result: PEMs as boxes, artifact versions as parallelograms,
 * predecessor hops dotted. Node ids are `n0`, `n1`, ... (Mermaid ids cannot hold IDs with `:`);
 * labels are quoted with Mermaid's entity codes for `"`, `#`, `<`, `>`.
 */
export function toMermaid(source: LineageGraphSource, options: { direction?: 'LR' | 'TB' | 'RL' | 'BT' } = {}): string {
  const { nodes, edges } = graphOf(source);
  const ids = new Map(nodes.map((node, i) => [node.key, `n${i}`]));
  const lines = [`flowchart ${options.direction ?? 'LR'}`];
  for (const node of nodes) {
    const label = escape(labelOf(node));
    const id = ids.get(node.key)!;
    lines.push(node.kind === 'pem' ? `  ${id}["${label}"]:::${node.missing ? 'missing' : 'pem'}` : `  ${id}[/"${label}"/]:::artifact`);
  }
  for (const edge of edges) {
    const from = ids.get(edge.from);
    const to = ids.get(edge.to);
    if (!from || !to) continue;
    lines.push(edge.kind === 'predecessor' ? `  ${from} -.->|predecessor| ${to}` : `  ${from} -->|${edge.kind}| ${to}`);
  }
  lines.push('  classDef pem fill:#eef3ff,stroke:#4a6fd4');
  lines.push('  classDef artifact fill:#fff7e6,stroke:#d48a1a');
  lines.push('  classDef missing fill:#fdecec,stroke:#c0392b,stroke-dasharray:4');
  return `${lines.join('\n')}\n`;
}

function escape(text: string): string {
  return text.replace(/[#"<>]/g, (ch) => `#${ch.charCodeAt(0)};`).replace(/[\r\n]+/g, ' ');
}
