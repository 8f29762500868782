import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { graphBuilder, query, receiver } from '../../src/generated/facts.js';
import { PLAN } from '../../src/conformance/plan.js';

/**
 * rk conformance accounts for every operation of the specs (called, or skipped with why), and
 * loading the client never loads its engine or Ajv.
 */

describe('rk conformance plan', () => {
  it('has one step for every operation of the three specs', () => {
    const specs = [...Object.keys(receiver.operations), ...Object.keys(query.operations), ...Object.keys(graphBuilder.operations)];
    expect(PLAN.map((s) => s.operationId).sort()).toEqual(specs.sort());
  });

  it('never calls what erases or rebuilds, and calls every other POST only with --write', () => {
    expect(PLAN.filter((s) => s.never).map((s) => s.operationId).sort()).toEqual(['cleanDatabases', 'rebuildGraph', 'removeUnconnectedArtifacts']);
    const facts: Record<string, { method: string }> = { ...receiver.operations, ...query.operations, ...graphBuilder.operations };
    // The POSTs that only read: queryGraph (the spec's read-only example, type r) and readLineage (ours).
    const readingPosts = PLAN.filter((s) => !s.never && !s.writes && facts[s.operationId]!.method === 'POST').map((s) => s.operationId);
    expect(readingPosts.sort()).toEqual(['queryGraph', 'readLineage']);
  });
});

describe('loading the client', () => {
  const src = new URL('../../src/', import.meta.url).pathname;
  /** Files reached from `file` by static imports (a dynamic import() is not followed: it loads on use). */
  function closure(file: string, seen = new Map<string, string>()): Map<string, string> {
    if (seen.has(file)) return seen;
    const text = readFileSync(file, 'utf8');
    seen.set(file, text);
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s(?!type\b)[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      closure(normalize(join(dirname(file), m[1]!)).replace(/\.js$/, '.ts'), seen);
    }
    return seen;
  }

  it('the main entry and the rk command table never load the conformance engine or Ajv', () => {
    for (const entry of ['index.ts', 'cli/main.ts']) {
      const files = closure(join(src, entry));
      expect(files.size).toBeGreaterThan(20);
      const ajv = [...files].filter(([, text]) => /from\s*['"]ajv/.test(text)).map(([file]) => file);
      expect(ajv, `${entry} loads Ajv through`).toEqual([]);
      expect([...files.keys()].filter((file) => file.includes('/conformance/'))).toEqual([]);
    }
  });
});
