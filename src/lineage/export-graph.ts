import type { Explanation } from './explain.js';
import type { LineageEdge, LineageNode, LineageResult } from './walk.js';

/** What every exporter accepts: a walk, or an explanation (its walk). */
export type LineageGraphSource = LineageResult | Explanation;

export function graphOf(source: LineageGraphSource): { nodes: LineageNode[]; edges: LineageEdge[] } {
  const result = 'lineage' in source ? source.lineage : source;
  return { nodes: result.nodes, edges: result.edges };
}

/** A short human label: `train (trainer, 2026-11-27 22:06:40)` for a PEM, the Name for an artifact. */
export function labelOf(node: LineageNode): string {
  if (node.kind === 'artifact') return node.producer ? node.name : `${node.name} (no known producer)`;
  if (node.missing) return `missing PEM ${node.id}`;
  return `${node.type} (${node.emitter}, ${node.time})`;
}
