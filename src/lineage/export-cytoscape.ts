import { graphOf, labelOf, type LineageGraphSource } from './export-graph.js';

/** Cytoscape.js elements JSON (`cy.add(json.elements)` or `cytoscape({ elements })`). */
export interface CytoscapeJson {
  elements: {
    nodes: Array<{ data: { id: string; label: string; kind: 'pem' | 'artifact'; hop: number } & Record<string, unknown> }>;
    edges: Array<{ data: { id: string; source: string; target: string; kind: string } }>;
  };
}

/** The lineage result or explanation as Cytoscape.js elements JSON. */
export function toCytoscape(source: LineageGraphSource): CytoscapeJson {
  const { nodes, edges } = graphOf(source);
  const known = new Set(nodes.map((node) => node.key));
  return {
    elements: {
      nodes: nodes.map((node) => {
        const { key, kind, hop, ...rest } = node;
        return { data: { ...rest, id: key, label: labelOf(node), kind, hop } };
      }),
      edges: edges
        .filter((edge) => known.has(edge.from) && known.has(edge.to))
        .map((edge, i) => ({ data: { id: `e${i}`, source: edge.from, target: edge.to, kind: edge.kind } })),
    },
  };
}
