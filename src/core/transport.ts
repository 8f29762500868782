import { RKAbortError, RKConnectionError, RKError, RKInvalidInputError, RKTimeoutError } from './errors.js';
import { httpErrorFor } from './http-errors.js';
import { failure, success, type Result } from './result.js';
import type { Settings } from './settings.js';
import { withoutCredentials } from './url-text.js';
import { startTimer, timeoutError } from '../resilience/clock.js';
import { abortedOf, linkSignals } from '../resilience/signals.js';
import { Cancel, type WireAnswer } from './wire.js';
import { isSuccess, redirectMethod } from './statuses.js';

/** The facts of one operation the transport names in errors: from the generated operations. */
export interface OperationFacts {
  readonly method: string;
  readonly path: string;
  /** Every documented status: a 404 the spec does not document means a wrong base URL. */
  readonly statuses: readonly number[];
}

/** One request as the operation built it: the path relative to the service, filled in, with its query. */
export interface RequestParts {
  method: string;
  path: string;
  /** Content-Type and the operation's own header parameters. */
  headers?: Readonly<Record<string, string>> | undefined;
  body?: string | undefined;
}

/** One attempt of a call: its deadline, the signals that cancel it, the call's headers. */
export interface AttemptInput {
  timeoutMs: number;
  signals: readonly AbortSignal[];
  headers?: Readonly<Record<string, string>>;
  /** Bytes of the request body, named by a 413. */
  sizeBytes?: number;
}

/** As many as fetch follows. */
const MAX_REDIRECTS = 20;

/**
 * Exactly one request to one service, on the client's Wire (settings.ts chose it): the deadline on
 * the client's clock, the caller's signals, the User-Agent and the credential, redirects, and
 * every failure turned into an RKError (a non-2xx through the one status map). Retries are not
 * here: `call.ts` wraps attempts.
 *
 * The credential goes only to the origin the client was made for. A redirect to the same origin is
 * followed with every header; one to another origin is followed without the credential header (as
 * fetch drops `Authorization`), and it stays dropped for the rest of that request's redirects.
 * Being one loop above the Wire, this holds for every wire alike.
 *
 * Per request: one timer (cleared, never aborted to clear it), one listener per caller signal
 * (removed when the request ends), and an AbortController only when the wire reads a signal.
 */
export class Transport {
  /** The base URL as given, less one trailing slash (the reference client's rule). */
  readonly baseUrl: string;
  /** The base URL as messages show it: never with credentials. */
  readonly shownUrl: string;
  readonly settings: Settings;
  readonly #origin: string;
  readonly #prefix: string;

  constructor(service: string, baseUrl: string, settings: Settings) {
    this.baseUrl = checkBaseUrl(`Creating the ${service} client`, service, baseUrl);
    this.shownUrl = withoutCredentials(this.baseUrl);
    this.settings = settings;
    const url = new URL(this.baseUrl);
    this.#origin = url.origin;
    this.#prefix = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  }

  /** One request; `read` turns a 2xx answer into the value, or an error for a body it cannot use. */
  async attempt<T>(
    operation: string,
    facts: OperationFacts,
    input: AttemptInput,
    request: RequestParts,
    read: (answer: WireAnswer) => T | RKError,
  ): Promise<Result<T>> {
    const { timeoutMs, signals } = input;
    const alreadyAborted = abortedOf(signals);
    if (alreadyAborted) return failure(new RKAbortError(operation, alreadyAborted.reason));
    const settings = this.settings;
    const wire = settings.wire;
    // Loading the HTTP library is not the service's time: the deadline starts once it is there.
    if (wire.loading) await wire.loading;
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
    let headers: Record<string, string> = { 'User-Agent': userAgent };
    if (credential) headers[credential.header] = credential.value;
    if (request.headers) for (const name in request.headers) headers[name] = request.headers[name]!;
    if (input.headers) for (const name in input.headers) headers[name] = input.headers[name]!;
    let origin = this.#origin;
    let path = `${this.#prefix}${request.path}`;
    let method = request.method;
    let body = request.body;
    let status: number | undefined;
    let outcomeText = '';
    try {
      let answer: WireAnswer;
      for (let hops = 0; ; hops++) {
        answer = await wire.request({ origin, path, method, headers, body, cancel });
        status = answer.status;
        const redirected = redirectMethod(answer.status, method);
        const location = redirected === undefined ? undefined : answer.header('location');
        if (redirected === undefined || location === undefined) break;
        if (hops === MAX_REDIRECTS) throw new TypeError(`more than ${MAX_REDIRECTS} redirects`);
        const next = new URL(location, `${origin}${path}`);
        if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new TypeError(`a redirect to a ${next.protocol} URL`);
        if (next.origin !== this.#origin && credential !== undefined && credential.header in headers) {
          // The credential was given for the configured origin only.
          headers = { ...headers };
          delete headers[credential.header];
        }
        if (redirected !== method) {
          method = redirected;
          body = undefined;
          headers = { ...headers };
          delete headers['Content-Type'];
        }
        origin = next.origin;
        path = `${next.pathname}${next.search}`;
      }
      if (debug) outcomeText = String(answer.status);
      if (!isSuccess(answer.status)) {
        const url = withoutCredentials(`${origin}${path}`);
        const failed = { operation, method: facts.method, url, documented: facts.statuses, sizeBytes: input.sizeBytes };
        return failure(httpErrorFor(failed, answer.status, answer.statusText, errorBodyOf(answer.text), answer.headers));
      }
      const value = read(answer);
      return value instanceof RKError ? failure(value) : success(value);
    } catch (error) {
      const aborted = abortedOf(signals);
      if (debug) outcomeText = aborted ? 'aborted' : timedOut ? 'timeout' : status !== undefined ? String(status) : 'connection failed';
      if (aborted) return failure(new RKAbortError(operation, aborted.reason));
      if (timedOut) return failure(new RKTimeoutError(operation, this.shownUrl, timeoutMs));
      if (error instanceof RKInvalidInputError) return failure(error);
      return failure(new RKConnectionError(operation, this.shownUrl, error));
    } finally {
      cancelTimer();
      unlink();
      if (debug) debug(`${method} ${withoutCredentials(`${origin}${path}`)} ${outcomeText} ${(performance.now() - started).toFixed(1)} ms (${operation})`);
    }
  }
}

/** An error body as the server sent it: its JSON when it is JSON, else its text ('' when empty). */
function errorBodyOf(text: string): unknown {
  if (text === '') return '';
  try {
    return JSON.parse(text);
  } catch {
    return text;
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
