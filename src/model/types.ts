import { describe } from '../core/checks.js';
import { RKInvalidInputError } from '../core/errors.js';
import type { components as Receiver } from '../generated/receiver.js';
import type { components as Query, operations as QueryOperations } from '../generated/query.js';
import type { components as GraphBuilder } from '../generated/graph-builder.js';

/** Domain names for the shapes the specs define; nothing here restates a field. */

/** A PEM as it travels to the Receiver (the exact wire JSON). */
export type PemPayload = Receiver['schemas']['Pem'];
/** An artifact: `CreatedAt` is null when sent and the Receiver's time of first sight when read back. */
export type Artifact = Receiver['schemas']['Artifact'];
/** String properties of an artifact. */
export type ArtifactProperties = Artifact['Properties'];
/** Any JSON object describing an event. */
export type PemProperties = PemPayload['Properties'];
/** The Receiver's acknowledgement of a PEM: `accepted`, or `duplicate` for an identical resend. */
export type PemAck = Receiver['schemas']['PemAck'];
/** The Receiver's `/info`: version, PEM version, size limit, whether credentials are needed. */
export type ReceiverInfo = Receiver['schemas']['ReceiverInfo'];
/** Where a tag points and since when. */
export type TagRecord = Receiver['schemas']['TagRecord'];

/**
 * A PEM as the Query service reads it back: artifacts by Name, with the time it was received.
 * `P` is the type its Properties are expected to have (`getPem<TrainRun>(id)`): a promise of the
 * caller, not checked at run time.
 */
export type StoredPem<P extends object = PemProperties> = P extends PemProperties
  ? Query['schemas']['StoredPem']
  : Omit<Query['schemas']['StoredPem'], 'Properties'> & { Properties: P };
/** The Query service's `/info`: version and whether it needs a credential. */
export type QueryInfo = Query['schemas']['QueryInfo'];
/** A maintenance report (artifact connections), read with getReport. */
export type Report = Query['schemas']['Report'];
/** `r` reads, `rw` may write: the wire values. */
export type GraphQueryWireType = Query['schemas']['GraphQuery']['type'];
/** How a graph statement is run: `read` (alias `r`) or `write` (alias `rw`). */
export type GraphQueryType = GraphQueryWireType | 'read' | 'write';

/** The Graph Builder's `/info`: version and how many PEMs each database holds. */
export type GraphInfo = GraphBuilder['schemas']['GraphInfo'];

type ListQuery<Op extends { parameters: { query?: unknown } }> = NonNullable<Op['parameters']['query']>;
type Paging = 'pageIndex' | 'pageSize' | 'sortField' | 'sortOrder';

/** Exact-match PEM filters, sent as top-level query parameters. */
export type PemFilters = Omit<ListQuery<QueryOperations['listPems']>, Paging>;
/** Artifact filters: `Name` matches names that contain it. */
export type ArtifactFilters = Omit<ListQuery<QueryOperations['listArtifacts']>, Paging>;

/** Paging and sorting of a list; `pageIndex` counts from 0, no `pageSize` means every match. */
export type ListOptions<Op extends { parameters: { query?: unknown } }, Filters> = Pick<ListQuery<Op>, Paging & keyof ListQuery<Op>> & {
  filters?: Filters;
};

/** Paging, sorting and filters of getPems, typed from the spec. */
export type PemListOptions = ListOptions<QueryOperations['listPems'], PemFilters>;
/**
 * Where artifacts are read from: the tables (`'tables'`, the default) or the lineage graph
 * (`'graph'`). `'sqldb'` and `'graphdb'` are the reference client's names for the same two.
 */
export type ArtifactSource = 'tables' | 'graph' | 'sqldb' | 'graphdb';

/** The domain name of a source, or an RKInvalidInputError naming the four accepted. */
export function artifactSourceOf(operation: string, source: unknown): 'tables' | 'graph' | RKInvalidInputError {
  if (source === undefined || source === 'tables' || source === 'sqldb') return 'tables';
  if (source === 'graph' || source === 'graphdb') return 'graph';
  return new RKInvalidInputError(operation, 'source', `must be "tables" (or "sqldb") or "graph" (or "graphdb"), got ${describe(source)}`);
}
/** Paging, sorting, filters and the database (`sqldb` or `graphdb`) of getArtifacts. */
export type ArtifactListOptions = ListOptions<QueryOperations['listArtifacts'], ArtifactFilters> & {
  source?: ArtifactSource;
};
/** Filters and the database of getArtifactsCount. */
export type ArtifactCountOptions = { filters?: ArtifactFilters; source?: ArtifactSource };

/** What `RKAdmin.checkConnections` reports when both services answer. */
export interface ConnectionReport {
  graphBuilder: GraphInfo;
  query: QueryInfo;
}

/** What `RKAdmin.graphFlush` reports. */
export interface FlushReport {
  /** The Graph Builder's message ('' when it sent none); `message` is the same text. */
  msg: string;
  message: string;
  /** How long the flush took, as measured by the client. */
  durationMs: number;
}

