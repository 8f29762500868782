import { Service } from './core/service.js';
import type { Settings } from './core/settings.js';
import { query as facts } from './generated/facts.js';
import type { paths } from './generated/query.js';

/** The Query service as RKQuery and RKAdmin both call it, with its operations from the spec. */
export type QueryService = Service<paths, typeof facts.operations>;

export function queryService(queryUrl: string, settings: Settings): QueryService {
  return new Service<paths, typeof facts.operations>('Query', queryUrl, facts, settings);
}

export { facts as queryFacts };
