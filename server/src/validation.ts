import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { SchemaObject } from './spec.js';

/**
 * JSON Schema validation with the spec's own schemas (OpenAPI 3.1 is JSON Schema 2020-12).
 * Errors become one message that names the field, in the form the spec's examples use:
 * `ID: must match pattern ^[0-9a-f]{32}$`.
 */

export interface Violation {
  field: string;
  message: string;
}

export function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: false, strict: true, strictTypes: false, strictTuples: false, validateFormats: false });
  // OpenAPI annotations that are not JSON Schema keywords.
  ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs']);
  return ajv;
}

export class SchemaValidator {
  readonly #ajv = createAjv();
  readonly #cache = new Map<SchemaObject, ValidateFunction>();

  compile(schema: SchemaObject): ValidateFunction {
    let validate = this.#cache.get(schema);
    if (!validate) {
      validate = this.#ajv.compile(schema);
      this.#cache.set(schema, validate);
    }
    return validate;
  }

  /** The first problem with `value`, or undefined when it fits. `root` names the value itself. */
  check(schema: SchemaObject, value: unknown, root: string): Violation | undefined {
    const validate = this.compile(schema);
    if (validate(value)) return undefined;
    return describeErrors(validate.errors ?? [], root);
  }
}

export function describeErrors(errors: readonly ErrorObject[], root: string): Violation {
  const first = errors.find((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf') ?? errors[0];
  if (!first) return { field: root, message: `${root}: is not valid` };
  const parent = errors.find((e) => (e.keyword === 'oneOf' || e.keyword === 'anyOf') && first.instancePath === e.instancePath);
  let field = fieldOf(root, first.instancePath);
  let problem: string;
  if (parent) {
    // A value that fits none of the alternatives (e.g. Predecessor: an ID or null).
    const alternatives = errors.filter((e) => e !== parent && e.instancePath === parent.instancePath).map((e) => problemOf(e));
    problem = [...new Set(alternatives)].join(' or ');
  } else if (first.keyword === 'required') {
    field = joinField(field, String(first.params.missingProperty), root);
    problem = 'is required';
  } else if (first.keyword === 'additionalProperties') {
    const allowed = Object.keys((first.parentSchema?.properties as Record<string, unknown> | undefined) ?? {});
    field = joinField(field, String(first.params.additionalProperty), root);
    problem = `is not a known field${allowed.length ? `; the fields are ${allowed.join(', ')}` : ''}`;
  } else {
    problem = problemOf(first);
  }
  return { field, message: `${field}: ${problem}` };
}

function problemOf(error: ErrorObject): string {
  switch (error.keyword) {
    case 'const':
      return `must be ${JSON.stringify(error.params.allowedValue)}`;
    case 'enum':
      return `must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'minLength':
      // The commonest case, a required text sent empty, said as the reference client's tests say it.
      return error.params.limit === 1 ? 'is empty' : `must be at least ${String(error.params.limit)} characters long`;
    case 'maxProperties':
      return error.params.limit === 0 ? 'must be an empty object: send {}' : (error.message ?? 'is not valid');
    case 'type':
      return `must be ${String(error.params.type).replace(',', ' or ')}`;
    default:
      return error.message ?? 'is not valid';
  }
}

/** `/UsesArtifacts/0/Name` under root `body` becomes `UsesArtifacts[0].Name`. */
function fieldOf(root: string, instancePath: string): string {
  if (instancePath === '') return root;
  let field = root === 'body' ? '' : root;
  for (const raw of instancePath.split('/').slice(1)) {
    const part = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    field = /^\d+$/.test(part) ? `${field}[${part}]` : field ? `${field}.${part}` : part;
  }
  return field;
}

/** A property of `field`; properties of the whole body are named on their own. */
function joinField(field: string, name: string, root: string): string {
  return field === root && root === 'body' ? name : `${field}.${name}`;
}

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
