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
  type RKErrorKind,
} from './errors.js';
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
