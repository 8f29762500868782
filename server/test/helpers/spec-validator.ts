import { loadSpecs, matchPath, SERVICES, type ServiceName, type Specs } from '../../src/spec.js';
import { SchemaValidator } from '../../src/validation.js';

/**
 * Checks every response a test receives against the OpenAPI specs: the status must be documented
 * for the operation, the media type must be one the spec lists, and the body must validate
 * against its schema. It is built from the YAML alone (never from the server's handlers), so the
 * server, the spec and the client cannot drift apart unnoticed.
 */

export interface CheckedResponse {
  method: string;
  url: string;
  status: number;
  problems: string[];
}

export type BaseUrls = Record<ServiceName, string>;

/**
 * The specs, read once per process, and one schema validator over them: every validator of a test
 * file checks against the same schema objects, so each schema is compiled once, not once per
 * server the file starts.
 */
let shared: Promise<{ specs: Specs; schemas: SchemaValidator }> | undefined;

export class SpecResponseValidator {
  readonly seen: CheckedResponse[] = [];
  readonly #specs: Specs;
  readonly #schemas: SchemaValidator;
  readonly #bases: BaseUrls;

  private constructor(specs: Specs, schemas: SchemaValidator, bases: BaseUrls) {
    this.#specs = specs;
    this.#schemas = schemas;
    this.#bases = bases;
  }

  static async create(bases: BaseUrls): Promise<SpecResponseValidator> {
    shared ??= loadSpecs().then((specs) => ({ specs, schemas: new SchemaValidator() }));
    const { specs, schemas } = await shared.catch((error: unknown) => {
      shared = undefined;
      throw error;
    });
    return new SpecResponseValidator(specs, schemas, bases);
  }

  /** Responses that broke the spec, with what was wrong. */
  violations(): CheckedResponse[] {
    return this.seen.filter((r) => r.problems.length > 0);
  }

  /** A fetch that validates each response (reading a clone) before handing it back. */
  get fetch(): typeof globalThis.fetch {
    return async (input, init) => {
      const request = new Request(input, init);
      const response = await globalThis.fetch(request.clone());
      await this.check(request.method, request.url, response.clone());
      return response;
    };
  }

  async check(method: string, url: string, response: Response): Promise<string[]> {
    const problems = await this.#problems(method, url, response);
    this.seen.push({ method, url, status: response.status, problems });
    return problems;
  }

  async #problems(method: string, url: string, response: Response): Promise<string[]> {
    const service = SERVICES.find((s) => url.startsWith(`${this.#bases[s]}/`));
    if (!service) return [`${url} is under none of the services`];
    const rest = new URL(url).pathname.slice(new URL(this.#bases[service]).pathname.length);
    const operation = matchPath(this.#specs[service].operations, rest)
      .flatMap((m) => m.candidates)
      .find((o) => o.method === method);
    if (!operation) return [`${method} ${rest} is no operation of the ${service} spec`];
    const documented = operation.responses[String(response.status)] ?? operation.responses[`${String(response.status)[0]}XX`] ?? operation.responses.default;
    if (!documented) {
      return [`${operation.operationId} answered ${response.status}, which its spec does not document (${Object.keys(operation.responses).join(', ')})`];
    }
    const text = await response.text();
    const media = documented.content;
    if (!media || Object.keys(media).length === 0) return text === '' ? [] : [`${operation.operationId} ${response.status} has a body the spec does not describe`];
    const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    const entry = media[type];
    if (!entry) return [`${operation.operationId} ${response.status} is ${type || 'untyped'}; the spec lists ${Object.keys(media).join(', ')}`];
    let body: unknown = text;
    if (type === 'application/json' || type.endsWith('+json')) {
      try {
        body = JSON.parse(text);
      } catch {
        return [`${operation.operationId} ${response.status} is not valid JSON: ${text.slice(0, 200)}`];
      }
    }
    if (!entry.schema) return [];
    const violation = this.#schemas.check(entry.schema, body, 'body');
    return violation ? [`${operation.operationId} ${response.status}: ${violation.message} in ${text.slice(0, 300)}`] : [];
  }
}
