import createClient, { type Client } from 'openapi-fetch';
import { RKAbortError, RKConnectionError, RKError, RKInvalidInputError, RKTimeoutError, RKUnexpectedResponseError } from './errors.js';
import { httpErrorFor } from './http-errors.js';
import { failure, success, type Result } from './result.js';
import type { Settings } from './settings.js';
import { withoutCredentials } from './url-text.js';

type FetchFn = typeof globalThis.fetch;

/** What openapi-fetch resolves to, reduced to what the transport reads. */
export interface RawOutcome {
  data?: unknown;
  error?: unknown;
  response: Response;
}

/** Passed to each openapi-fetch call: the attempt's signal and the fetch that sends it. */
export type SendInit = {
  signal: AbortSignal;
  fetch: FetchFn;
};

/** The facts of one operation the transport needs: from src/generated/facts.ts. */
export interface OperationFacts {
  readonly method: string;
  readonly path: string;
  readonly statuses: readonly number[];
}

/** One request of one operation: its deadline, the signals that cancel it, extra headers. */
export interface AttemptInput {
  timeoutMs: number;
  signals: readonly AbortSignal[];
  headers?: Readonly<Record<string, string>>;
  /** Bytes of the request body, named by a 413. */
  sizeBytes?: number;
}

/**
 * Exactly one request to one service, and the only module that knows openapi-fetch: the deadline
 * on the client's clock, the caller's signals, the User-Agent and credential header, and every
 * failure turned into an RKError (a non-2xx through the one status map). Retries are not here:
 * `call.ts` wraps attempts.
 */
export class Transport<Paths extends {}> {
  readonly api: Client<Paths>;
  /** The base URL as given, less one trailing slash (the reference client's rule). */
  readonly baseUrl: string;
  /** The base URL as messages show it: never with credentials. */
  readonly shownUrl: string;
  readonly settings: Settings;

  constructor(service: string, baseUrl: string, settings: Settings) {
    this.baseUrl = checkBaseUrl(`Creating the ${service} client`, service, baseUrl);
    this.shownUrl = withoutCredentials(this.baseUrl);
    this.settings = settings;
    this.api = createClient<Paths>({ baseUrl: this.baseUrl });
  }

  /**
   * One request: `send` makes it with openapi-fetch (given the signal and fetch to use), `read`
   * turns a 2xx body into the value or an error for a body it cannot use.
   */
  async attempt<T>(
    operation: string,
    facts: OperationFacts,
    input: AttemptInput,
    send: (init: SendInit) => Promise<RawOutcome>,
    read: (data: unknown, response: Response) => T | RKError,
  ): Promise<Result<T>> {
    const { timeoutMs, signals } = input;
    const alreadyAborted = signals.find((s) => s.aborted);
    if (alreadyAborted) return failure(new RKAbortError(operation, alreadyAborted.reason));
    const scope = new AbortController();
    const deadline = this.settings.clock.timeout(timeoutMs, scope.signal);
    const signal = signals.length ? AbortSignal.any([deadline, ...signals]) : deadline;
    const { userAgent, credential } = this.settings;
    const headers = input.headers;
    // openapi-fetch parses 2xx bodies itself; remembering the response lets a body that fails to
    // parse still be reported with its status.
    let seen: Response | undefined;
    const fetch: FetchFn = async (request, init) => {
      if (request instanceof Request) {
        request.headers.set('User-Agent', userAgent);
        if (credential) request.headers.set(credential.header, credential.value);
        for (const [name, value] of Object.entries(headers ?? {})) request.headers.set(name, value);
      }
      seen = await this.settings.fetch(request, init);
      return seen;
    };
    try {
      const outcome = await send({ signal, fetch });
      const { response } = outcome;
      if (!response.ok) {
        const body = outcome.error === undefined ? '' : outcome.error;
        const url = withoutCredentials(response.url || `${this.baseUrl}${facts.path}`);
        const failed = { operation, method: facts.method, url, documented: facts.statuses, sizeBytes: input.sizeBytes };
        return failure(httpErrorFor(failed, response.status, response.statusText, body, response.headers));
      }
      const value = read(outcome.data, response);
      return value instanceof RKError ? failure(value) : success(value);
    } catch (error) {
      const aborted = signals.find((s) => s.aborted);
      if (aborted) return failure(new RKAbortError(operation, aborted.reason));
      if (deadline.aborted) return failure(new RKTimeoutError(operation, this.shownUrl, timeoutMs));
      if (seen?.ok && error instanceof SyntaxError) {
        return failure(new RKUnexpectedResponseError(operation, seen.status, `not valid JSON (${error.message})`, undefined, error));
      }
      return failure(new RKConnectionError(operation, this.shownUrl, error));
    } finally {
      scope.abort();
    }
  }
}

function checkBaseUrl(operation: string, service: string, baseUrl: unknown): string {
  const hint = `pass the ${service} base URL, for example "http://127.0.0.1:8082/${service.toLowerCase().replace(' ', '-')}/"`;
  if (typeof baseUrl !== 'string' || baseUrl.trim() === '') {
    throw new RKInvalidInputError(operation, `the ${service} URL`, `is missing; ${hint}`);
  }
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new RKInvalidInputError(operation, `the ${service} URL`, `"${withoutCredentials(baseUrl)}" is not a URL; ${hint}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RKInvalidInputError(operation, `the ${service} URL`, `"${withoutCredentials(baseUrl)}" is not http(s); ${hint}`);
  }
  if (url.username || url.password) {
    // Named, never echoed: the message must not carry the secret.
    throw new RKInvalidInputError(
      operation,
      `the ${service} URL`,
      'carries a user name or password (user:password@), which fetch cannot send; remove them and pass the credential as userAuth or pucAuth',
    );
  }
  if (url.search || url.hash) {
    throw new RKInvalidInputError(operation, `the ${service} URL`, `"${baseUrl}" has a query or fragment; ${hint}`);
  }
  // Like the reference client: one trailing slash goes, then paths are appended.
  return baseUrl.endsWith('/') ? baseUrl.slice(0, -1) : baseUrl;
}
