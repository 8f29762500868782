import { RKAdmin, RKClient, RKQuery } from '../../src/index.js';
import type { FacadeEntry } from '../../src/facade-operations.js';

/**
 * Which operations of the generated tables no facade method wraps and src/facade-operations.ts
 * does not list as call-only, in words naming each; shared by the reachability test and the
 * regeneration drill (which runs it on a copy whose spec gained an operation).
 */
const FACADES = { RKClient, RKQuery, RKAdmin } as const;
/** The services each facade's `call` reaches. */
const CALLABLE: Record<FacadeEntry['facade'], readonly string[]> = {
  RKClient: ['receiver'],
  RKQuery: ['query'],
  RKAdmin: ['query', 'graphBuilder'],
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
