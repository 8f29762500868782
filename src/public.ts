/**
 * The public API of the client without the answers built on it: what lineage/ and cli/ import
 * (they sit above it, so they may not import index.ts, which re-exports them).
 */
export { RKClient, type RKClientLike, type SendOptions, type PemLint, type LintFindingLike } from './client.js';
export { RKQuery } from './query.js';
export { RKAdmin, type GraphVerifyOptions } from './admin.js';
export { RKClientFactory } from './testing/factory.js';
export { MockRKClient } from './testing/mock-client.js';
export { Pem, prepareArtifact, PEM_VERSION, type PreparePemOptions } from './model/pem.js';
export { LINEAGE_READS_MAX_ITEMS } from './model/lineage-reads.js';
export {
  RKError,
  RKConnectionError,
  RKTimeoutError,
  RKAbortError,
  RKInvalidInputError,
  RKSizeLimitError,
  RKUnexpectedResponseError,
  RKQueueFullError,
  RKShutdownError,
  type RKErrorKind,
} from './core/errors.js';
export {
  RKHttpError,
  RKAuthError,
  RKNotFoundError,
  RKRejectedError,
  /** The name earlier releases used for a refused PEM; the same class as RKRejectedError. */
  RKRejectedError as RKRejectedPemError,
  RKPemTooLargeError,
  type HttpErrorKind,
} from './core/http-errors.js';
export type { SendAck, DeliveryReport, DeliveryStats } from './delivery/delivery.js';
export type { DeliveryEvents, DeliveryEventName, DeliveryListener, DropReason } from './delivery/events.js';
export type { OutboxControl, OutboxStats } from './delivery/outbox/outbox.js';
export type { DeadLetter } from './delivery/outbox/store.js';
export type { RetryBudgetOptions } from './resilience/budget.js';
export { systemClock, type Clock } from './resilience/clock.js';
export { closeOnSignals, type CloseOnSignalsOptions, type Closable, type StopSignal } from './delivery/shutdown.js';
export type { Result } from './core/result.js';
export { asFailure, type RKFailure } from './core/failure.js';
export type { ReceiverAck, TagAck } from './core/replies.js';
export type { RKOptions, CallOptions, RetryOptions, QueueOptions, OutboxOptions } from './core/options.js';
export type { Logger } from './core/logger.js';
export type { CallRetryEvent, CallStats, CallEventName, CallListener } from './core/observer.js';
export type { PageOptions, PageProgress } from './core/pages.js';
export type { GraphRow } from './query-graph.js';
export type { PythonValue } from './wire/python-literal.js';
export { VERSION } from './core/version.js';
export { loadTelemetry } from './core/telemetry.js';
export type {
  Artifact,
  ArtifactCountFilters,
  ArtifactCountOptions,
  ArtifactFilters,
  ArtifactListOptions,
  ArtifactProperties,
  ArtifactSource,
  ConnectionReport,
  FlushReport,
  GraphInfo,
  GraphQueryType,
  GraphQueryWireType,
  LineageReadRequest,
  LineageReads,
  ListOptions,
  PemAck,
  PemCountFilters,
  PemFilters,
  PemListOptions,
  PemPayload,
  PemProperties,
  QueryInfo,
  ReceiverInfo,
  Report,
  StoredPem,
  TagRecord,
} from './model/types.js';

