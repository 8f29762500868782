import createClient, { type Client } from 'openapi-fetch';
import { RKAbortError, RKConnectionError, RKError, RKInvalidInputError, RKTimeoutError, RKUnexpectedResponseError } from './errors.js';
import { httpErrorFor } from './http-errors.js';
import { failure, success, type Result } from './result.js';
import type { Settings } from './settings.js';
import { withoutCredentials } from './url-text.js';
import { startTimer, timeoutError } from '../resilience/clock.js';
import { abortedOf, linkSignals } from '../resilience/signals.js';
import type { NodeWire, WireCancel, WireResponse } from './node-wire.js';

type FetchFn = typeof globalThis.fetch;

/** What openapi-fetch resolves to, reduced to what the transport reads. */
export interface RawOutcome {
  data?: unknown;
  error?: unknown;
  response: Response;
}

/** The request as the transport has built it, for the direct (Node) path; never enumerated by openapi-fetch. */
const DIRECT: unique symbol = Symbol('rk.direct');

interface DirectContext {
  /** Every header of the request. */
  headers: Record<string, string>;
  cancel: Cancel;
  seen: (response: Response) => void;
}

/** Passed to each openapi-fetch call: the attempt's signal and the fetch that sends it. */
export type SendInit = {
  signal: AbortSignal;
  fetch: FetchFn;
  [DIRECT]?: DirectContext;
};

/**
 * An attempt's cancellation. The AbortController is made only when something reads `signal`
 * (openapi-fetch and fetch do); the direct path never does, and is told through `onAbort`.
 */
class Cancel implements WireCancel {
  aborted = false;
  reason: unknown;
  onAbort: ((reason: unknown) => void) | undefined;
  #controller: AbortController | undefined;

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.aborted) this.#controller.abort(this.reason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.#controller?.abort(reason);
    this.onAbort?.(reason);
  }
}

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

/** What the direct path reads of an openapi-fetch call's options. */
interface PostOptions {
  body?: unknown;
  bodySerializer?: (body: unknown) => unknown;
  querySerializer?: unknown;
  params?: unknown;
  headers?: unknown;
  pathSerializer?: unknown;
  parseAs?: string;
  signal?: AbortSignal;
  [DIRECT]?: DirectContext;
}

type Call = (path: string, init?: PostOptions) => Promise<RawOutcome>;

/** Statuses fetch follows (redirect: 'follow'); the direct path hands such an answer back to fetch. */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Exactly one request to one service, and the only module that knows openapi-fetch: the deadline
 * on the client's clock, the caller's signals, the User-Agent and credential header, and every
 * failure turned into an RKError (a non-2xx through the one status map). Retries are not here:
 * `call.ts` wraps attempts.
 *
 * Per request: one AbortController, one timer (cleared, never aborted to clear it), one listener
 * per caller signal (removed when the request ends: a long-lived client signal retains nothing).
 * On Node without an injected fetch, a POST of a body already serialized to a path without
 * parameters (POST /pem, `postSerialized`) skips openapi-fetch, Headers and Request and goes to an
 * undici Pool (node-wire.ts); the answer takes the same status map and the same error classes as
 * fetch's, and a redirect is handed back to fetch, which follows it. GETs stay on fetch: through
 * the Pool a listing peaked higher in RSS (BENCHMARKS.md, "Client performance").
 */
export class Transport<Paths extends {}> {
  readonly api: Client<Paths>;
  /** The base URL as given, less one trailing slash (the reference client's rule). */
  readonly baseUrl: string;
  /** The base URL as messages show it: never with credentials. */
  readonly shownUrl: string;
  readonly settings: Settings;
  /** Set once node-wire.ts and undici are loaded (or known missing: `failed`). */
  #wire: NodeWire | undefined;
  #Response: typeof WireResponse | undefined;
  /** Loading the wire: node-wire.ts is imported on Node only, and not by `import` of the client. */
  #loading: Promise<void> | undefined;
  #wireFailed = false;
  readonly #origin: string;
  readonly #prefix: string;

  constructor(service: string, baseUrl: string, settings: Settings) {
    this.baseUrl = checkBaseUrl(`Creating the ${service} client`, service, baseUrl);
    this.shownUrl = withoutCredentials(this.baseUrl);
    this.settings = settings;
    const url = new URL(this.baseUrl);
    this.#origin = url.origin;
    this.#prefix = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
    const api = createClient<Paths>({ baseUrl: this.baseUrl });
    if (settings.nodeWire) {
      const post = api.POST.bind(api) as unknown as Call;
      const direct = (path: string, init?: PostOptions) => {
        const context = init?.[DIRECT];
        return context !== undefined && isDirect(init!) ? this.#direct(path, init!, context, post) : post(path, init);
      };
      this.api = { ...api, POST: direct } as unknown as Client<Paths>;
    } else {
      this.api = api;
    }
  }

  /**
   * Lets this service's serialized POSTs (POST /pem) go straight to undici, on Node without an
   * injected fetch; undici is loaded now, in the background, so the first send rarely waits for it.
   * Only the Receiver asks: a client that never sends (RKQuery, RKAdmin) never loads undici.
   */
  sendDirect(): void {
    if (!this.settings.nodeWire || this.#loading) return;
    const insecure = this.settings.insecure;
    this.#loading = import('./node-wire.js').then(
      async ({ NodeWire, WireResponse }) => {
        const wire = new NodeWire(insecure);
        await wire.load();
        if (wire.failed) this.#wireFailed = true;
        this.#Response = WireResponse;
        this.#wire = wire;
      },
      () => {
        this.#wireFailed = true;
      },
    );
  }

  /**
   * A POST of a body already serialized to a path without parameters, answered as text (POST
   * /pem): straight to the wire when it is there, without building an options object (reading
   * `init.signal` would make the AbortController the direct path does without).
   */
  postSerialized(path: string, body: string, init: SendInit): Promise<RawOutcome> {
    const context = init[DIRECT];
    const options: PostOptions = { body, bodySerializer: () => body, parseAs: 'text' };
    const fallback = () => (this.api.POST as unknown as Call)(path, { ...options, ...init, [DIRECT]: undefined });
    if (context !== undefined) return this.#direct(path, options, context, fallback);
    return fallback();
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
    const alreadyAborted = abortedOf(signals);
    if (alreadyAborted) return failure(new RKAbortError(operation, alreadyAborted.reason));
    const settings = this.settings;
    // Loading undici is not the service's time: the deadline starts once it is there.
    if (this.#loading && this.#wire === undefined && !this.#wireFailed) await this.#loading;
    const cancel = new Cancel();
    let timedOut = false;
    const cancelTimer = startTimer(settings.clock, timeoutMs, () => {
      timedOut = true;
      cancel.abort(timeoutError(timeoutMs));
    });
    const unlink = linkSignals(signals, (reason) => cancel.abort(reason));
    const debug = settings.debug;
    const started = debug ? performance.now() : 0;
    const { userAgent, credential } = settings;
    const headers = input.headers;
    // openapi-fetch parses 2xx bodies itself; remembering the response lets a body that fails to
    // parse still be reported with its status.
    let seen: Response | undefined;
    const fetch: FetchFn = async (request, init) => {
      if (request instanceof Request) {
        request.headers.set('User-Agent', userAgent);
        if (credential) request.headers.set(credential.header, credential.value);
        if (headers) for (const name in headers) request.headers.set(name, headers[name]!);
      }
      seen = await settings.fetch(request, init);
      return seen;
    };
    // An accessor, so that only a request that goes through fetch makes the AbortController.
    const init = {
      get signal() {
        return cancel.signal;
      },
      fetch,
    } as SendInit;
    if (this.#wire?.ready) {
      // The whole header set of a direct request (a POST of JSON), built once.
      const all: Record<string, string> = { 'Content-Type': 'application/json', 'User-Agent': userAgent };
      if (credential) all[credential.header] = credential.value;
      if (headers) for (const name in headers) all[name] = headers[name]!;
      init[DIRECT] = { headers: all, cancel, seen: (response) => (seen = response) };
    }
    let outcomeText = '';
    try {
      const outcome = await send(init);
      const { response } = outcome;
      if (debug) outcomeText = String(response.status);
      if (!response.ok) {
        const body = outcome.error === undefined ? '' : outcome.error;
        const url = withoutCredentials(response.url || `${this.baseUrl}${facts.path}`);
        const failed = { operation, method: facts.method, url, documented: facts.statuses, sizeBytes: input.sizeBytes };
        return failure(httpErrorFor(failed, response.status, response.statusText, body, response.headers));
      }
      const value = read(outcome.data, response);
      return value instanceof RKError ? failure(value) : success(value);
    } catch (error) {
      const aborted = abortedOf(signals);
      if (debug) outcomeText = aborted ? 'aborted' : timedOut ? 'timeout' : seen ? String(seen.status) : 'connection failed';
      if (aborted) return failure(new RKAbortError(operation, aborted.reason));
      if (timedOut) return failure(new RKTimeoutError(operation, this.shownUrl, timeoutMs));
      if (seen?.ok && error instanceof SyntaxError) {
        return failure(new RKUnexpectedResponseError(operation, seen.status, `not valid JSON (${error.message})`, undefined, error));
      }
      return failure(new RKConnectionError(operation, this.shownUrl, error));
    } finally {
      cancelTimer();
      unlink();
      if (debug) {
        const url = withoutCredentials(seen?.url || `${this.baseUrl}${facts.path}`);
        debug(`${facts.method} ${url} ${outcomeText} ${(performance.now() - started).toFixed(1)} ms (${operation})`);
      }
    }
  }

  /** POST of a body already serialized, straight to undici: what openapi-fetch would do, without its objects. */
  async #direct(schemaPath: string, init: PostOptions, context: DirectContext, fallback: Call): Promise<RawOutcome> {
    const { cancel } = context;
    const origin = this.#origin;
    const path = `${this.#prefix}${schemaPath}`;
    const body = String(init.bodySerializer!(init.body));
    const headers = context.headers;
    let answer;
    try {
      answer = await this.#wire!.request({ origin, path, method: 'POST', headers, body, cancel });
    } catch (error) {
      // fetch's shape of a network failure, so both paths give the same RKConnectionError.
      if (cancel.aborted) throw cancel.reason;
      throw new TypeError('fetch failed', { cause: error });
    }
    if (REDIRECTS.has(answer.status) && answer.headers.location !== undefined) {
      // fetch follows redirects and undici's Pool does not: the request goes again, through fetch.
      return fallback(schemaPath, { ...init, [DIRECT]: undefined, signal: cancel.signal });
    }
    const response = new this.#Response!(answer, `${this.baseUrl}${schemaPath}`) as unknown as Response;
    context.seen(response);
    const text = answer.text;
    // No body (a 204, Content-Length 0, an empty chunked answer): nothing to parse, as openapi-fetch.
    if (text === '') return response.ok ? { data: undefined, response } : { error: undefined, response };
    if (response.ok) return { data: init.parseAs === 'text' ? text : JSON.parse(text), response };
    let error: unknown = text;
    try {
      error = JSON.parse(text);
    } catch {
      // text it stays, as openapi-fetch keeps it
    }
    return { error, response };
  }
}

/** A request the direct path carries: a serialized body to a path without parameters, nothing to fill in. */
function isDirect(init: PostOptions): boolean {
  return (
    typeof init.bodySerializer === 'function' &&
    init.params === undefined &&
    init.headers === undefined &&
    init.pathSerializer === undefined &&
    init.querySerializer === undefined &&
    (init.parseAs === 'text' || init.parseAs === undefined || init.parseAs === 'json')
  );
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
