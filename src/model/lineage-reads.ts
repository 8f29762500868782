import { query } from '../generated/facts.js';

/**
 * The most items one `readLineage` request may carry in any of its lists (the spec's `maxItems`
 * of LineageReadRequest): a longer round is split into several requests.
 */
export const LINEAGE_READS_MAX_ITEMS: number = Math.min(...Object.values(query.maxItems.LineageReadRequest));
