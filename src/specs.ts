/**
 * The three specs as code, for a Record Keeper server (recordkeeper-local) and tools: the
 * openapi-typescript types and the runtime facts (operations, statuses, required fields, headers,
 * prefixes), exported as the subpath `recordkeeper-client/specs`. Generated; nothing restated here.
 */
export type {
  paths as ReceiverPaths,
  operations as ReceiverOperations,
  components as ReceiverComponents,
} from './generated/receiver.js';
export type { paths as QueryPaths, operations as QueryOperations, components as QueryComponents } from './generated/query.js';
export type {
  paths as GraphBuilderPaths,
  operations as GraphBuilderOperations,
  components as GraphBuilderComponents,
} from './generated/graph-builder.js';
export { receiver as receiverFacts, query as queryFacts, graphBuilder as graphBuilderFacts } from './generated/facts.js';
