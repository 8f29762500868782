/**
 * Validation with the spec's own schemas: the validator itself (Ajv 2020 over the specs' schemas,
 * errors as one message that names the field) lives in the client package, so the local RK checks
 * requests with the very validator `rk conformance` checks a live RK's replies with. What only a
 * server needs, the checks of what PostgreSQL cannot store, stays here.
 */
import type { Violation } from 'recordkeeper-client/conformance';

export { createAjv, describeErrors, SchemaValidator, type Violation } from 'recordkeeper-client/conformance';

/**
 * What the schemas allow but PostgreSQL cannot store faithfully: NUL characters (text and JSON
 * refuse them), unpaired UTF-16 surrogates (they would be stored as U+FFFD), numbers JSON.parse
 * turned into Infinity, and nesting deep enough to exhaust the database's stack. Checked without
 * recursion so hostile input cannot overflow this process's stack either.
 */
export function findUnstorable(value: unknown, root: string, maxDepth = 100): Violation | undefined {
  const stack: { value: unknown; field: string; depth: number }[] = [{ value, field: root, depth: 0 }];
  while (stack.length) {
    const item = stack.pop()!;
    const { field, depth } = item;
    if (typeof item.value === 'string') {
      const problem = textProblem(item.value);
      if (problem) return { field, message: `${field}: ${problem}` };
    } else if (typeof item.value === 'number') {
      if (!Number.isFinite(item.value)) return { field, message: `${field}: is a number too large to store` };
    } else if (item.value !== null && typeof item.value === 'object') {
      if (depth >= maxDepth) return { field, message: `${field}: is nested more than ${maxDepth} levels deep` };
      if (Array.isArray(item.value)) {
        item.value.forEach((v, i) => stack.push({ value: v, field: `${field}[${i}]`, depth: depth + 1 }));
      } else {
        for (const [key, v] of Object.entries(item.value)) {
          const keyProblem = textProblem(key);
          if (keyProblem) return { field, message: `${field}: has a key that ${keyProblem}` };
          stack.push({ value: v, field: field === 'body' ? key : `${field}.${key}`, depth: depth + 1 });
        }
      }
    }
  }
  return undefined;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function textProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'contains a NUL character (\\u0000), which cannot be stored';
  if (LONE_SURROGATE.test(text)) return 'contains an unpaired UTF-16 surrogate, which is not valid Unicode text';
  return undefined;
}
