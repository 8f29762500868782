// The bridges' public surface; src/index.ts re-exports it in its `// bridges` block.
export { toOpenLineage, type OpenLineagePemSource } from './openlineage-out.js';
export { fromOpenLineage, describeEvent, type FromOpenLineageOptions, type OpenLineageImport } from './openlineage-in.js';
export { OpenLineageRuns } from './openlineage-runs.js';
export { datasetOf, nameOfDataset, runIdOf, pemIdOfRun, PRODUCER as OPENLINEAGE_PRODUCER, PEM_FACET_SCHEMA_URL, ARTIFACT_FACET_SCHEMA_URL } from './openlineage-names.js';
export type { OpenLineageRunEvent, OpenLineageDataset, OpenLineageFacet, OpenLineageFacets, OpenLineageEventType } from './openlineage-types.js';
export { pemsOfTrace, traceOf } from './trace.js';
