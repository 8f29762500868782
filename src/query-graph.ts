import { requireText } from './core/checks.js';
import { RKInvalidInputError, type RKError } from './core/errors.js';
import type { CallOptions } from './core/options.js';
import { parseRows, PythonLiteralError, type PythonValue } from './wire/python-literal.js';
import { unexpected } from './core/responses.js';
import type { Result } from './core/result.js';
import type { QueryService } from './query-service.js';
import type { GraphQueryType } from './model/types.js';

/** One row of a graph query answer. */
export type GraphRow = PythonValue[];

/**
 * Runs a Cypher statement through the Query service and parses the Python-literal rows it answers
 * with. Shared by RKQuery and RKAdmin, which both talk to the Query service.
 */
export async function runGraphQuery(
  service: QueryService,
  query: string,
  type: GraphQueryType,
  call: CallOptions | undefined,
): Promise<Result<GraphRow[]>> {
  const operation = 'Querying graph';
  const wire = type === 'read' ? 'r' : type === 'write' ? 'rw' : type;
  return service.run(
    'queryGraph',
    () => {
      requireText(operation, 'query', query, 'MATCH (a:Artifact) RETURN count(a);');
      if (wire !== 'r' && wire !== 'rw') {
        throw new RKInvalidInputError(operation, 'type', `must be "read" (or "r") or "write" (or "rw"), got ${JSON.stringify(String(type))}`);
      }
      return { body: { query, type: wire } };
    },
    call,
    {
      operation,
      read: ({ text, status }): GraphRow[] | RKError => {
        try {
          return parseRows(text);
        } catch (error) {
          if (error instanceof PythonLiteralError) return unexpected(operation, status, `rows could not be read: ${error.message}`, text);
          throw error;
        }
      },
      // A read-only statement changes nothing, so it is retried like a GET; a write only with a key.
      idempotent: wire === 'r',
    },
  );
}
