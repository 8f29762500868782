import { describe, expect, it } from 'vitest';
import { FACADE_OPERATIONS, type FacadeEntry } from '../../src/facade-operations.js';
import * as generated from '../../src/generated/operations.js';
import { unreachable } from '../helpers/reachability.js';

/**
 * Every operation of every spec is reachable: a facade method wraps it, or src/facade-operations.ts
 * lists it as call-only (`method: undefined`), reached through `call(operationId, …)`. A spec that
 * gains an operation fails here, naming it, until one of the two is true.
 */

/** Every generated table of operations, by its service name in FACADE_OPERATIONS. */
const TABLES: Record<string, object> = {
  receiver: generated.receiverOperations,
  query: generated.queryOperations,
  graphBuilder: generated.graphBuilderOperations,
};

describe('every operation of the specs is reachable', () => {
  it('is wrapped by a facade method or listed as call-only', () => {
    expect(unreachable(TABLES, FACADE_OPERATIONS)).toEqual([]);
  });

  it('names an operation a spec gained that nothing wraps', () => {
    const grown = { ...TABLES, query: { ...generated.queryOperations, listPemChildren: generated.queryOperations.listPems } };
    expect(unreachable(grown, FACADE_OPERATIONS)).toEqual([
      'query listPemChildren: no facade method wraps it and it is not listed as call-only in src/facade-operations.ts',
    ]);
  });

  it('accepts it once listed as call-only, and names a listed method that does not exist', () => {
    const grown = { ...TABLES, query: { ...generated.queryOperations, listPemChildren: generated.queryOperations.listPems } };
    const listed = {
      ...FACADE_OPERATIONS,
      query: {
        ...FACADE_OPERATIONS.query,
        listPemChildren: { facade: 'RKQuery', method: undefined, sample: '' },
        countTags: { facade: 'RKClient', method: undefined, sample: '' },
        getPem: { facade: 'RKQuery', method: 'readPem', sample: '' },
      },
    } satisfies Record<string, Record<string, FacadeEntry>>;
    expect(unreachable(grown, listed)).toEqual([
      'query getPem: RKQuery.readPem is listed but does not exist',
      'query countTags: listed as call-only on RKClient, whose call() cannot reach it',
    ]);
  });
});
