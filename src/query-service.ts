import { Service } from './core/service.js';
import type { Settings } from './core/settings.js';
import { query as facts } from './generated/facts.js';
import { queryOperations } from './generated/operations.js';
import type { operations as QueryOperations } from './generated/query.js';

/** The Query service as RKQuery and RKAdmin both call it, with its operations from the spec. */
export type QueryService = Service<QueryOperations, typeof queryOperations>;

export function queryService(queryUrl: string, settings: Settings): QueryService {
  return new Service('Query', queryUrl, queryOperations, facts.headers, settings);
}

export { facts as queryFacts };
