import type { Artifact, Pem, PemPayload, PemProperties, StoredPem } from '../public.js';
import type { LineageGraphSource, PemNode } from '../lineage/index.js';
import {
  ARTIFACT_FACET,
  ARTIFACT_FACET_SCHEMA_URL,
  datasetOf,
  eventTimeOf,
  PARENT_FACET_SCHEMA_URL,
  PEM_FACET,
  PEM_FACET_SCHEMA_URL,
  PRODUCER,
  RUN_EVENT_SCHEMA_URL,
  runIdOf,
} from './openlineage-names.js';
import type { OpenLineageDataset, OpenLineageFacets, OpenLineageRunEvent } from './openlineage-types.js';

/** A PEM as toOpenLineage reads it: as sent (artifacts as objects) or as stored (artifacts as Names). */
export type OpenLineagePemSource = PemPayload | StoredPem | Pem<object>;

/**
 * One `COMPLETE` RunEvent per PEM, in the order given. Takes PEMs (every field is carried) or a
 * lineage walk or explanation (its PEMs as the index knows them: type, emitter, time, artifacts
 * and predecessor, without Properties or Tag, which the index does not keep).
 *
 * - `run.runId` is the PEM ID as a UUID; `job.namespace` the TagNamespace (else the Emitter);
 *   `job.name` the Type; `eventTime` the TimestampClient; `producer` this client and its version.
 * - `inputs`/`outputs` are the used and produced artifacts (`datasetOf` says how a Name maps);
 *   each carries a `recordkeeper_artifact` facet with the exact Name and its Properties.
 * - A Predecessor becomes the standard `parent` run facet. OpenLineage's parent means containment
 *   (the DAG run that ran this task), RK's Predecessor means cause (the event this one follows):
 *   consumers that draw parents as boxes around children will draw RK chains that way.
 * - The whole PEM (ID, Emitter, Type, Predecessor, Tag, TagNamespace, Properties) rides in the
 *   `recordkeeper_pem` run facet, so `fromOpenLineage` gives back the same PEM.
 */
export function toOpenLineage(source: LineageGraphSource | readonly OpenLineagePemSource[]): OpenLineageRunEvent[] {
  const pems = Array.isArray(source) ? (source as readonly OpenLineagePemSource[]).map(pemFields) : pemsOfGraph(source as LineageGraphSource);
  const jobs = new Map(pems.map((pem) => [pem.ID, jobOf(pem)]));
  return pems.map((pem) => eventOf(pem, jobs));
}

/** The fields an event is made of, whatever the PEM's origin. */
type PemFields = Pick<StoredPem, 'ID' | 'Type' | 'Emitter' | 'TimestampClient'> &
  Partial<Pick<StoredPem, 'Properties' | 'Tag' | 'TagNamespace'>> &
  Record<'Predecessor', string | null> &
  Record<'UsesArtifacts' | 'ProducesArtifacts', ReadonlyArray<string | Artifact>>;

function pemFields(pem: OpenLineagePemSource): PemFields {
  const json = (typeof (pem as Pem<object>).toJSON === 'function' ? (pem as Pem<object>).toJSON() : pem) as PemPayload | StoredPem;
  return {
    ID: json.ID,
    Type: json.Type,
    Emitter: json.Emitter,
    Predecessor: json.Predecessor ?? null,
    TimestampClient: json.TimestampClient,
    Properties: json.Properties as PemProperties,
    ...(json.Tag === undefined ? {} : { Tag: json.Tag }),
    ...(json.TagNamespace === undefined ? {} : { TagNamespace: json.TagNamespace }),
    UsesArtifacts: json.UsesArtifacts ?? [],
    ProducesArtifacts: json.ProducesArtifacts ?? [],
  };
}

function pemsOfGraph(source: LineageGraphSource): PemFields[] {
  const result = 'lineage' in source ? source.lineage : source;
  const predecessors = new Map<string, string>();
  for (const edge of result.edges) if (edge.kind === 'predecessor') predecessors.set(edge.to, edge.from.replace(/^pem:/, ''));
  return result.nodes
    .filter((node): node is PemNode => node.kind === 'pem' && !node.missing && node.type !== null && node.emitter !== null && node.time !== null)
    .map((node) => ({
      ID: node.id,
      Type: node.type!,
      Emitter: node.emitter!,
      Predecessor: predecessors.get(node.key) ?? null,
      TimestampClient: node.time!,
      UsesArtifacts: node.uses,
      ProducesArtifacts: node.produces,
    }));
}

function jobOf(pem: PemFields): { namespace: string; name: string } {
  return { namespace: pem.TagNamespace || pem.Emitter, name: pem.Type };
}

function eventOf(pem: PemFields, jobs: ReadonlyMap<string, { namespace: string; name: string }>): OpenLineageRunEvent {
  const job = jobOf(pem);
  const facets: OpenLineageFacets = {};
  if (pem.Predecessor) {
    facets['parent'] = {
      _producer: PRODUCER,
      _schemaURL: PARENT_FACET_SCHEMA_URL,
      run: { runId: runIdOf(pem.Predecessor) },
      // The parent's job when it is exported too; otherwise only its run is known.
      job: jobs.get(pem.Predecessor) ?? { namespace: job.namespace, name: 'unknown' },
    };
  }
  facets[PEM_FACET] = {
    _producer: PRODUCER,
    _schemaURL: PEM_FACET_SCHEMA_URL,
    id: pem.ID,
    type: pem.Type,
    emitter: pem.Emitter,
    predecessor: pem.Predecessor,
    ...(pem.Tag === undefined ? {} : { tag: pem.Tag }),
    ...(pem.TagNamespace === undefined ? {} : { tagNamespace: pem.TagNamespace }),
    ...(pem.Properties === undefined ? {} : { properties: pem.Properties }),
  };
  return {
    eventType: 'COMPLETE',
    eventTime: eventTimeOf(pem.TimestampClient),
    run: { runId: runIdOf(pem.ID), facets },
    job,
    inputs: pem.UsesArtifacts.map(datasetOfArtifact),
    outputs: pem.ProducesArtifacts.map(datasetOfArtifact),
    producer: PRODUCER,
    schemaURL: RUN_EVENT_SCHEMA_URL,
  };
}

function datasetOfArtifact(artifact: string | Artifact): OpenLineageDataset {
  const name = typeof artifact === 'string' ? artifact : artifact.Name;
  const properties = typeof artifact === 'string' ? undefined : artifact.Properties;
  return {
    ...datasetOf(name),
    facets: {
      [ARTIFACT_FACET]: {
        _producer: PRODUCER,
        _schemaURL: ARTIFACT_FACET_SCHEMA_URL,
        name,
        ...(properties === undefined ? {} : { properties }),
      },
    },
  };
}
