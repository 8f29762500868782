import { VERSION } from '../public.js';

/**
 * Names and identifiers shared by both directions of the OpenLineage mapping: schema URLs, facet
 * names, this client as a producer, run IDs as PEM IDs, and artifact Names as datasets.
 */

/** The RunEvent schema this client writes (OpenLineage 2-0-2). */
export const RUN_EVENT_SCHEMA_URL = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';
/** The standard parent facet (1-1-0). */
export const PARENT_FACET_SCHEMA_URL = 'https://openlineage.io/spec/facets/1-1-0/ParentRunFacet.json#/$defs/ParentRunFacet';

/** The run facet that carries the rest of a PEM, and the dataset facet that carries an artifact. */
export const PEM_FACET = 'recordkeeper_pem';
export const ARTIFACT_FACET = 'recordkeeper_artifact';

const SCHEMA_BASE = `https://raw.githubusercontent.com/recordkeeper/recordkeeper-client/v${VERSION}/schemas/openlineage`;
/** Where the custom facets' JSON Schemas are published (this repository's `schemas/openlineage/`). */
export const PEM_FACET_SCHEMA_URL = `${SCHEMA_BASE}/RecordKeeperPemRunFacet.json#/$defs/RecordKeeperPemRunFacet`;
/** Where the artifact dataset facet's JSON Schema is published. */
export const ARTIFACT_FACET_SCHEMA_URL = `${SCHEMA_BASE}/RecordKeeperArtifactDatasetFacet.json#/$defs/RecordKeeperArtifactDatasetFacet`;

/** `producer` and `_producer` of what this client writes: the client and its version. */
export const PRODUCER = `https://github.com/recordkeeper/recordkeeper-client/tree/v${VERSION}`;

/** The dataset namespace of artifact Names that are not URIs with a path. */
export const DEFAULT_DATASET_NAMESPACE = 'recordkeeper';

const HEX_ID = /^[0-9a-f]{32}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A PEM ID (32 hex digits) as the dashed UUID OpenLineage's `runId` is. */
export function runIdOf(pemId: string): string {
  const hex = pemId.toLowerCase();
  if (!HEX_ID.test(hex)) return uuidFromName(pemId);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The PEM ID of a run: the run's UUID without dashes, so a PEM exported and imported again keeps
 * its ID. A runId that is not a UUID (the spec asks for one, not every producer sends one) gets a
 * name-based UUID (version 5 style, SHA-1) of the text, the same every time.
 */
export function pemIdOfRun(runId: string): string {
  if (UUID.test(runId)) return runId.replaceAll('-', '').toLowerCase();
  return uuidFromName(runId).replaceAll('-', '');
}

const FNV_PRIME = 0x0000000001000000000000000000013bn;
const FNV_OFFSET = 0x6c62272e07bb014262b821756295c58dn;
const MASK = (1n << 128n) - 1n;

/**
 * A name-based UUID (version 5 layout) from a 128-bit FNV-1a hash of the UTF-8 text: deterministic
 * and without node:crypto, so the mapping runs wherever the client does. Not a security hash: it
 * only has to give the same run the same ID.
 */
function uuidFromName(name: string): string {
  let hash = FNV_OFFSET;
  for (const byte of new TextEncoder().encode(`openlineage-run:${name}`)) hash = ((hash ^ BigInt(byte)) * FNV_PRIME) & MASK;
  const hex = hash.toString(16).padStart(32, '0').split('');
  hex[12] = '5';
  hex[16] = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  const text = hex.join('');
  return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20)}`;
}

const URI_WITH_PATH = /^([a-z][a-z0-9+.-]*:\/\/[^/]+)\/(.+)$/i;

/**
 * An RK artifact Name as an OpenLineage dataset. A URI with a path splits as OpenLineage's naming
 * convention does (`s3://bucket/a/b.csv` is namespace `s3://bucket`, name `a/b.csv`); any other
 * Name is kept whole under the `recordkeeper` namespace. `nameOfDataset` is its inverse.
 */
export function datasetOf(artifactName: string): { namespace: string; name: string } {
  const match = URI_WITH_PATH.exec(artifactName);
  if (match) return { namespace: match[1]!, name: match[2]! };
  return { namespace: DEFAULT_DATASET_NAMESPACE, name: artifactName };
}

/** The RK artifact Name of a dataset: `recordkeeper` datasets by name, others as `<namespace>/<name>`. */
export function nameOfDataset(namespace: string, name: string): string {
  if (namespace === DEFAULT_DATASET_NAMESPACE) return name;
  return `${namespace.replace(/\/+$/, '')}/${name.replace(/^\/+/, '')}`;
}

/** `2020-12-08 22:06:40` (RK, UTC) as `2020-12-08T22:06:40Z`. */
export function eventTimeOf(timestampClient: string): string {
  return `${timestampClient.replace(' ', 'T')}Z`;
}

/**
 * An OpenLineage `eventTime` (ISO 8601 with an offset) as RK's UTC `YYYY-MM-DD HH:MM:SS`; null when
 * it is not a date-time with a time zone. Fractions of a second are dropped (RK keeps seconds).
 */
export function timestampOf(eventTime: string): string | null {
  if (!/^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/i.test(eventTime)) return null;
  const ms = Date.parse(eventTime.replace(' ', 'T'));
  if (Number.isNaN(ms)) return null;
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}
