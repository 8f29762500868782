export { RKClient, type RKClientLike } from './client.js';
export { RKQuery } from './query.js';
export { RKAdmin, type GraphVerifyOptions } from './admin.js';
export { RKClientFactory } from './factory.js';
export { MockRKClient } from './mock-client.js';
export { Pem, prepareArtifact, PEM_VERSION, type PreparePemOptions } from './pem.js';
export {
  RKError,
  RKHttpError,
  RKConnectionError,
  RKTimeoutError,
  RKAbortError,
  RKInvalidInputError,
  RKSizeLimitError,
  RKUnexpectedResponseError,
  RKRejectedPemError,
  RKAuthError,
  RKPemTooLargeError,
  RKQueueFullError,
  RKShutdownError,
  type RKErrorKind,
} from './errors.js';
export type { SendAck, DeliveryReport, DeliveryStats, QueueOptions } from './delivery/delivery.js';
export type { DeliveryEvents, DeliveryEventName, DeliveryListener, DropReason } from './delivery/events.js';
export type { OutboxOptions, OutboxControl, OutboxStats } from './delivery/outbox.js';
export type { DeadLetter } from './delivery/outbox-store.js';
export type { RetryOptions } from './delivery/policy.js';
export type { RetryBudgetOptions } from './delivery/budget.js';
export { systemClock, type Clock } from './delivery/clock.js';
export { closeOnSignals, type CloseOnSignalsOptions, type Closable } from './delivery/shutdown.js';
export type { Result } from './result.js';
export type { RKOptions, CallOptions } from './options.js';
export type { Logger } from './logger.js';
export type { GraphRow } from './graph-query.js';
export type { PythonValue } from './python-literal.js';
export { VERSION } from './version.js';
export type {
  Artifact,
  ArtifactCountOptions,
  ArtifactFilters,
  ArtifactListOptions,
  ArtifactProperties,
  ArtifactSource,
  ConnectionReport,
  FlushReport,
  GraphInfo,
  GraphQueryType,
  PemAck,
  PemFilters,
  PemListOptions,
  PemPayload,
  PemProperties,
  QueryInfo,
  ReceiverInfo,
  Report,
  StoredPem,
  TagRecord,
} from './types.js';

// lineage: why-did-X-happen and state-at-time answers over the Query API (src/lineage/README.md).
// src/lineage imports only this file's public exports.
export * from './lineage/index.js';
// end lineage
