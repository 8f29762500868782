export { startLocalRK, openStore, DEFAULT_PEM_SIZE_LIMIT, DEFAULT_GRAPH_INTERVAL_MS, type LocalRK, type LocalRKOptions } from './server.js';
export type { AuthOptions } from './auth.js';
export { REPLY_MODES, type RepliesMode } from './replies.js';
export type { Storage, Queryable, StorageOptions } from './storage.js';
export { toPythonLiteral, type PythonValue as PyValue } from 'recordkeeper-client/wire';
export { supportedStatementsText } from './cypher.js';
