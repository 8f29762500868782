/**
 * `recordkeeper-client/conformance`: checks a live Record Keeper against the specs (what
 * `rk conformance` runs), and the JSON Schema validator it shares with the local RK. Not part of
 * the main entry: it loads Ajv, which importing the client never does. `checkConformance` loads the
 * engine on first use, so a server importing only the validator does not load the facade.
 */
import type { ConformanceOptions, ConformanceReport } from './check.js';

export { createAjv, describeErrors, problemOf, SchemaValidator, type ErrorObject, type JsonSchema, type ValidatorOptions, type Violation } from './schema-validator.js';
export type { ConformanceOptions, ConformanceReport, OperationReport, Outcome } from './check.js';
export type { Drift } from './reply-check.js';

/**
 * Calls every read-only operation of the configured services (and with `write: true` the writes,
 * with its own emitter and tag namespace) and checks each reply's status, media type, headers and
 * body against the operation's documented responses. Never rejects for a service's failure: a
 * service that does not answer is an operation `skipped` with why.
 */
export async function checkConformance(options: ConformanceOptions): Promise<ConformanceReport> {
  const { checkConformance: check } = await import('./check.js');
  return check(options);
}
