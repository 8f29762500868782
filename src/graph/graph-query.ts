import { checked, requireText } from '../core/checks.js';
import { RKError, RKInvalidInputError } from '../core/errors.js';
import type { paths } from '../generated/query.js';
import type { CallOptions } from '../core/options.js';
import { parseRows, PythonLiteralError, type PythonValue } from '../wire/python-literal.js';
import { unexpected } from '../core/responses.js';
import { failure, type Result } from '../core/result.js';
import type { Transport } from '../core/transport.js';
import type { GraphQueryType } from '../types.js';

/** One row of a graph query answer. */
export type GraphRow = PythonValue[];

/**
 * Runs a Cypher statement through the Query service and parses the Python-literal rows it answers
 * with. Shared by RKQuery and RKAdmin, which both talk to the Query service.
 */
export async function runGraphQuery(
  transport: Transport<paths>,
  query: string,
  type: GraphQueryType,
  call: CallOptions | undefined,
): Promise<Result<GraphRow[]>> {
  const operation = 'Querying graph';
  const body = checked(() => {
    requireText(operation, 'query', query, 'MATCH (a:Artifact) RETURN count(a);');
    if (type !== 'r' && type !== 'rw') {
      throw new RKInvalidInputError(operation, 'type', `must be "r" (read) or "rw" (write), got ${JSON.stringify(type)}`);
    }
    return { query, type };
  });
  if (body instanceof RKError) return failure(body);
  return transport.run(
    operation,
    call,
    (init) => transport.api.POST('/query', { body, parseAs: 'text', ...init }),
    (data, response): GraphRow[] | RKError => {
      const text = typeof data === 'string' ? data : '';
      try {
        return parseRows(text);
      } catch (error) {
        if (error instanceof PythonLiteralError) return unexpected(operation, response.status, `rows could not be read: ${error.message}`, text);
        throw error;
      }
    },
    // A read-only statement changes nothing, so it is retried like a GET; `rw` only with a key.
    { idempotent: type === 'r' },
  );
}
