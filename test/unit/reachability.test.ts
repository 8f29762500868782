import { describe, expect, it } from 'vitest';
import { RKAdmin, RKClient, RKQuery } from '../../src/index.js';
import { FACADE_OPERATIONS, type FacadeEntry } from '../../src/facade-operations.js';
import * as generated from '../../src/generated/operations.js';

/**
 * Every operation of every spec is reachable: a facade method wraps it, or src/facade-operations.ts
 * lists it as call-only (`method: undefined`), reached through `call(operationId, …)`. A spec that
 * gains an operation fails here, naming it, until one of the two is true.
 */

const FACADES = { RKClient, RKQuery, RKAdmin } as const;
/** The services each facade's `call` reaches. */
const CALLABLE: Record<FacadeEntry['facade'], readonly string[]> = {
  RKClient: ['receiver'],
  RKQuery: ['query'],
  RKAdmin: ['query', 'graphBuilder'],
};

/** Every generated table of operations, by its service name in FACADE_OPERATIONS. */
const TABLES: Record<string, object> = {
  receiver: generated.receiverOperations,
  query: generated.queryOperations,
  graphBuilder: generated.graphBuilderOperations,
};

export function unreachable(tables: Record<string, object>, listed: Record<string, Record<string, FacadeEntry>>): string[] {
  const problems: string[] = [];
  for (const [service, table] of Object.entries(tables)) {
    for (const id of Object.keys(table)) {
      const entry = listed[service]?.[id];
      if (!entry) {
        problems.push(`${service} ${id}: no facade method wraps it and it is not listed as call-only in src/facade-operations.ts`);
        continue;
      }
      const prototype = FACADES[entry.facade].prototype as unknown as Record<string, unknown>;
      if (entry.method !== undefined && typeof prototype[entry.method] !== 'function') {
        problems.push(`${service} ${id}: ${entry.facade}.${entry.method} is listed but does not exist`);
      }
      if (entry.method === undefined && !CALLABLE[entry.facade].some((callable) => Object.hasOwn(tables[callable] ?? {}, id))) {
        problems.push(`${service} ${id}: listed as call-only on ${entry.facade}, whose call() cannot reach it`);
      }
    }
  }
  for (const [service, entries] of Object.entries(listed)) {
    for (const id of Object.keys(entries)) {
      if (!Object.hasOwn(tables[service] ?? {}, id)) problems.push(`${service} ${id}: listed in src/facade-operations.ts but no spec has it`);
    }
  }
  return problems;
}

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
