// The lineage module's public surface; src/index.ts re-exports it in its `// lineage` block.
export { RKLineage, type RKLineageOptions } from './rk-lineage.js';
export { LineageIndex, type LineagePemInput, type IndexedPem, type IndexStats, type KnownTagMove } from './lineage-index.js';
export type { LineageSource, LoadOptions, LoadProgress, LoadReport } from './loader.js';
export {
  walkUpstream,
  walkDownstream,
  resumeWalk,
  type WalkOptions,
  type StopFilter,
  type LineageVia,
  type LineageResult,
  type LineageNode,
  type PemNode,
  type ArtifactNode,
  type LineageEdge,
  type LineageGap,
  type Truncation,
} from './walk.js';
export type { LineageStart } from './start.js';
export { explainLineage, type ExplainOptions, type Explanation, type ExplainStep, type ModelFinding, type SourceFinding } from './explain.js';
export { DEFAULT_ROLES, type LineageRoles } from './roles.js';
export { stateAt, type PlatformState, type TagState, type ArtifactState, type StateAtOptions } from './state.js';
export { tagHistory, resolveTag, ASSUMPTIONS, type TagMove, type TagMoveBasis, type TagResolution } from './tags.js';
export { diffLineage, type DiffSide, type DiffOptions, type LineageDiff, type ArtifactVersion } from './diff.js';
export { lintPem, lintPems, type LintCode, type LintFinding, type LintOptions } from './lint.js';
export { registerReplicaEngine, type LineageEngine, type LineageEngineKind, type EngineLimits, type EngineWalkOptions, type ReplicaEngineFactory } from './engine.js';
export { MemoryEngine } from './memory-engine.js';
export { ServerEngine, type ServerEngineOptions, type ServerLineageSource } from './server-engine.js';
export { ReplicaEngine, ReplicaStore, syncReplica, type ReplicaOptions, type SyncOptions, type SyncReport, type SyncState } from './replica/index.js';
export { findPaths, type PathsOptions, type LineagePath, type LineagePaths } from './paths.js';
export { findImpact, type ImpactOptions, type ImpactHit, type LineageImpact } from './impact.js';
export { toMermaid } from './export-mermaid.js';
export { toDot } from './export-dot.js';
export { toProvJson, RK_PROV_NAMESPACE, type ProvJson } from './export-prov.js';
export { toCytoscape, type CytoscapeJson } from './export-cytoscape.js';
export { toHtml, pageHtml } from './export-html.js';
export {
  toPageData,
  type LineagePageData,
  type LineagePageNode,
  type LineagePageEdge,
  type LineagePageOptions,
  type LineagePageRole,
  type LineagePageSummary,
  type LineagePageTimeline,
} from './page-data.js';
export type { LineageGraphSource } from './export-graph.js';
export type { NamePattern } from './patterns.js';
export type { TimeInput } from './time.js';
