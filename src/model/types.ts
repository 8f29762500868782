import { describe } from '../core/checks.js';
import { RKInvalidInputError } from '../core/errors.js';
import type { components as Receiver } from '../generated/receiver.js';
import type { components as Query, operations as QueryOperations } from '../generated/query.js';
import type { components as GraphBuilder } from '../generated/graph-builder.js';
import type { query as queryFacts } from '../generated/facts.js';
import type { knownFields } from '../generated/operations.js';

/** Domain names for the shapes the specs define; nothing here restates a field. */

/**
 * A reply as the client reads it: the fields the reference client reads (the spec's `x-rk-known`)
 * are there, the others the spec describes may be missing (a real RK need not send them).
 */
type KnownOnly<T, Known extends keyof T> = Pick<T, Known> & Partial<Omit<T, Known>>;
/** The fields the specs mark as read by the reference client in the reply of operation `Id`. */
type KnownOf<Id extends keyof typeof knownFields> = (typeof knownFields)[Id][number];

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
  ? KnownPem
  : Omit<KnownPem, 'Properties'> & { Properties: P };
/** A stored PEM with the fields the reference client reads; `TimestampReceived` and `Predecessor` may be missing. */
type KnownPem = KnownOnly<Query['schemas']['StoredPem'], KnownOf<'getPem'>>;
/** The Query service's `/info`: version and whether it needs a credential. */
export type QueryInfo = Query['schemas']['QueryInfo'];
/** What `call('readLineage', ...)` asks of a local RK that lists `lineage-reads` in its `/info` (ours). */
export type LineageReadRequest = Query['schemas']['LineageReadRequest'];
/** What `readLineage` answers: the PEMs read, and which reads were done in full or capped (ours). */
export type LineageReads = Query['schemas']['LineageReads'];
/** A maintenance report (artifact connections), read with getReport: `report` and `status` are always there. */
export type Report = KnownOnly<Query['schemas']['Report'], KnownOf<'getReport'>>;
/** `r` reads, `rw` may write: the wire values. */
export type GraphQueryWireType = Query['schemas']['GraphQuery']['type'];
/** How a graph statement is run: `read` (alias `r`) or `write` (alias `rw`). */
export type GraphQueryType = GraphQueryWireType | 'read' | 'write';

/** The Graph Builder's `/info`: version and how many PEMs each database holds. */
export type GraphInfo = GraphBuilder['schemas']['GraphInfo'];

type QueryOperation = keyof QueryOperations & keyof (typeof queryFacts)['operations'];
type ListQuery<Id extends QueryOperation> = NonNullable<QueryOperations[Id]['parameters']['query']>;
/** The operation's paging and sorting parameters: those the spec marks `x-rk-role: paging`. */
type Paging<Id extends QueryOperation> = Extract<(typeof queryFacts)['operations'][Id]['query'][number], { role: 'paging' }>['name'];
/** An operation's field filters: its query parameters that are not paging. */
type FiltersOf<Id extends QueryOperation> = Omit<ListQuery<Id>, Paging<Id>>;

/** Exact-match PEM filters of getPems, sent as top-level query parameters. */
export type PemFilters = FiltersOf<'listPems'>;
/** The PEM filters of getPemsCount (its own parameters, not the list's). */
export type PemCountFilters = FiltersOf<'countPems'>;
/** Artifact filters: `Name` matches names that contain it. */
export type ArtifactFilters = FiltersOf<'listArtifacts'>;
/** The artifact filters of getArtifactsCount. */
export type ArtifactCountFilters = FiltersOf<'countArtifacts'>;

/**
 * Paging and sorting of a list; `pageIndex` counts from 0, no `pageSize` means every match.
 * `filters` is required as soon as the spec requires one of them.
 */
export type ListOptions<Id extends QueryOperation, Filters = FiltersOf<Id>> = Pick<ListQuery<Id>, Paging<Id> & keyof ListQuery<Id>> &
  ({} extends Filters ? { filters?: Filters } : { filters: Filters });

/** Paging, sorting and filters of getPems, typed from the spec. */
export type PemListOptions = ListOptions<'listPems'>;
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
export type ArtifactListOptions = ListOptions<'listArtifacts'> & {
  source?: ArtifactSource;
};
/** Filters and the database of getArtifactsCount. */
export type ArtifactCountOptions = ({} extends ArtifactCountFilters ? { filters?: ArtifactCountFilters } : { filters: ArtifactCountFilters }) & {
  source?: ArtifactSource;
};

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

