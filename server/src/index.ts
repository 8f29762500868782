export { startLocalRK, DEFAULT_PEM_SIZE_LIMIT, DEFAULT_GRAPH_INTERVAL_MS, type LocalRK, type LocalRKOptions } from './server.js';
export type { AuthOptions } from './auth.js';
export { REPLY_MODES, type RepliesMode } from './replies.js';
export type { Storage, Queryable } from './storage.js';
export { toPythonLiteral, type PyValue } from './python-literal.js';
export { supportedStatementsText } from './cypher.js';
