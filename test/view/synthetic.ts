import { explainLineage, LineageIndex, type Explanation } from '../../src/index.js';
// @ts-expect-error: a plain ES module shared with bench/lineage-page.mjs
import { syntheticExplanation as made } from '../../bench/synthetic-lineage.mjs';

/** bench/synthetic-lineage.mjs's pipeline-shaped lineage, on src/: the explanation of its last deploy with exactly `nodes` nodes. */
export function syntheticExplanation(nodes: number): { index: LineageIndex; explanation: Explanation } {
  return (made as (n: number, lib: unknown) => { index: LineageIndex; explanation: Explanation })(nodes, { LineageIndex, explainLineage });
}
