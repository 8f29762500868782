import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';

/**
 * JSON Schema validation with the specs' own schemas (OpenAPI 3.1 is JSON Schema 2020-12): the one
 * validator the local Record Keeper checks requests with and `rk conformance` checks a live RK's
 * replies with (the server imports it through `recordkeeper-client/conformance`). Errors become one
 * message that names the field, in the form the spec's examples use: `ID: must match pattern ^[0-9a-f]{32}$`.
 */

/** A JSON Schema node from a spec. */
export type JsonSchema = Record<string, unknown>;

/** One thing wrong with a value: the field it is in and a sentence that names it. */
export interface Violation {
  field: string;
  message: string;
}

/** How a SchemaValidator reports. */
export interface ValidatorOptions {
  /** Report every error (conformance lists each drift) rather than stop at the first (a server refusing a request). */
  allErrors?: boolean;
  /**
   * Check each schema against JSON Schema's meta-schema before compiling it (default true). The
   * local RK turns it off: its specs are checked by its tests, and compiling the meta-schema cost
   * about 0.1 CPU s of each process's first request.
   */
  checkSchemas?: boolean;
}

/** Ajv as the specs need it: strict about the schemas, formats unchecked (the specs use `pattern`). */
export function createAjv(options: ValidatorOptions = {}): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: options.allErrors ?? false,
    validateSchema: options.checkSchemas ?? true,
    strict: true,
    strictTypes: false,
    strictTuples: false,
    validateFormats: false,
  });
  // OpenAPI annotations and our extensions, which are not JSON Schema keywords.
  ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs', 'x-rk-role', 'x-rk-known']);
  return ajv;
}

/** Compiles each schema once (by identity) and checks values against it. */
export class SchemaValidator {
  readonly #ajv: Ajv2020;
  readonly #cache = new Map<JsonSchema, ValidateFunction>();

  constructor(options: ValidatorOptions = {}) {
    this.#ajv = createAjv(options);
  }

  /** The schema's validate function, compiled on first use. */
  compile(schema: JsonSchema): ValidateFunction {
    let validate = this.#cache.get(schema);
    if (!validate) {
      validate = this.#ajv.compile(schema);
      this.#cache.set(schema, validate);
    }
    return validate;
  }

  /** The first problem with `value`, or undefined when it fits. `root` names the value itself. */
  check(schema: JsonSchema, value: unknown, root: string): Violation | undefined {
    const validate = this.compile(schema);
    if (validate(value)) return undefined;
    return describeErrors(validate.errors ?? [], root);
  }

  /** Every error Ajv found (all of them when built with `allErrors`); empty when `value` fits. */
  errors(schema: JsonSchema, value: unknown): ErrorObject[] {
    const validate = this.compile(schema);
    return validate(value) ? [] : [...(validate.errors ?? [])];
  }
}

export type { ErrorObject };

/** Ajv's errors as one message naming the first offending field, e.g. `ID: must match pattern ^[0-9a-f]{32}$`. */
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

/** One Ajv error as a phrase: `must be string`, `must be one of "a", "b"`. */
export function problemOf(error: ErrorObject): string {
  switch (error.keyword) {
    case 'const':
      return `must be ${JSON.stringify(error.params.allowedValue)}`;
    case 'enum':
      return `must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'minLength':
      // The commonest case, a required text sent empty, said as the reference client's tests say it.
      return error.params.limit === 1 ? 'is empty' : `must be at least ${String(error.params.limit)} characters long`;
    case 'maxLength':
      return `must be at most ${String(error.params.limit)} characters long (maxLength ${String(error.params.limit)})`;
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
