/**
 * The parts of the OpenLineage object model (spec/OpenLineage.json, 2-0-2) this client reads and
 * writes. Everything else an event carries is kept as it is (`[key: string]: unknown`).
 */

/** The run states of the spec; `RUNNING` arrived in 2-0-x. */
export type OpenLineageEventType = 'START' | 'RUNNING' | 'COMPLETE' | 'ABORT' | 'FAIL' | 'OTHER';

/** A facet: any object with the two base fields (`_producer`, `_schemaURL`). */
export interface OpenLineageFacet {
  _producer: string;
  _schemaURL: string;
  _deleted?: boolean;
  [field: string]: unknown;
}

/** Facets by name, as OpenLineage carries them on runs, jobs and datasets; unknown ones are kept as they are. */
export type OpenLineageFacets = Record<string, OpenLineageFacet>;

/** A dataset (input or output): `namespace` and `name` identify it. */
export interface OpenLineageDataset {
  namespace: string;
  name: string;
  facets?: OpenLineageFacets;
  inputFacets?: OpenLineageFacets;
  outputFacets?: OpenLineageFacets;
  [field: string]: unknown;
}

/** A RunEvent: one transition of one run of one job. */
export interface OpenLineageRunEvent {
  eventType?: OpenLineageEventType;
  eventTime: string;
  run: { runId: string; facets?: OpenLineageFacets; [field: string]: unknown };
  job: { namespace: string; name: string; facets?: OpenLineageFacets; [field: string]: unknown };
  inputs?: OpenLineageDataset[];
  outputs?: OpenLineageDataset[];
  producer: string;
  schemaURL: string;
  [field: string]: unknown;
}
