/** recordkeeper-client: the public API (src/README.md says how it is layered). */
export * from './public.js';

// lineage: why-did-X-happen and state-at-time answers over the Query API (src/lineage/README.md).
export * from './lineage/index.js';

// bridges: OpenLineage in and out, OpenTelemetry, MCP (src/bridges/README.md).
export * from './bridges/index.js';
