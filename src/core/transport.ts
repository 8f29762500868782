import createClient, { type Client, type Middleware } from 'openapi-fetch';
import {
  RKAbortError,
  RKConnectionError,
  RKError,
  RKHttpError,
  RKInvalidInputError,
  RKTimeoutError,
  RKUnexpectedResponseError,
} from './errors.js';
import { consoleLogger, type Logger } from './logger.js';
import {
  DEFAULT_PUC_AUTH_HEADER,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_USER_AUTH_HEADER,
  type CallOptions,
  type RKOptions,
} from './options.js';
import { RetryBudget } from '../resilience/budget.js';
import { systemClock, type Clock } from '../resilience/clock.js';
import { checkBudgetOptions, isSafeMethod, resolveRetryPolicy, type RetryPolicy } from './retry-policy.js';
import { withRetries, type AttemptOutput } from './call.js';
import { holdProcess } from '../resilience/keep-alive.js';
import { failure, success, type Result } from './result.js';
import { VERSION } from './version.js';
import { withoutCredentials } from './url-text.js';

type FetchFn = typeof globalThis.fetch;

/** What openapi-fetch resolves to, reduced to what the transport reads. */
interface RawOutcome {
  data?: unknown;
  error?: unknown;
  response: Response;
}

/** Passed to each openapi-fetch call: the combined signal and a fetch that remembers the response. */
export type SendInit = {
  signal: AbortSignal;
  fetch: FetchFn;
};

/**
 * The only module that knows about openapi-fetch: it owns deadlines, cancellation, TLS, auth and
 * the mapping of every failure to an RKError, so the facade only says which operation to call and
 * how to read its answer.
 */
export class Transport<Paths extends {}> {
  readonly api: Client<Paths>;
  readonly baseUrl: string;
  readonly logger: Logger;
  /** Time source of every deadline and retry wait. */
  readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly clientSignal: AbortSignal | undefined;
  private readonly fetchImpl: FetchFn;
  /** Unset only with `retry: false`: otherwise `run` retries by HTTP method. */
  private readonly retry: { policy: RetryPolicy; budget: RetryBudget | undefined; random: () => number } | undefined;

  /** The client-wide retry budget: the same bucket for every call and every sendPem of a client. */
  get retryBudget(): RetryBudget | undefined {
    return this.retry?.budget;
  }

  constructor(service: string, baseUrl: string, options: RKOptions = {}) {
    const creating = `Creating the ${service} client`;
    this.baseUrl = checkBaseUrl(creating, service, baseUrl);
    const timeoutMs = checkTimeout(creating, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    if (timeoutMs instanceof RKError) throw timeoutMs;
    this.timeoutMs = timeoutMs;
    this.clientSignal = options.signal;
    this.logger = options.logger ?? consoleLogger;
    this.clock = options.clock ?? systemClock;
    const base = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.fetchImpl = options.insecure ? insecureFetch(base, options.fetch !== undefined) : base;
    this.api = createClient<Paths>({ baseUrl: this.baseUrl });
    this.api.use(identify(creating, options));
    if (options.retry !== false) {
      const budget = checkBudgetOptions(creating, options.retry?.budget);
      this.retry = {
        policy: resolveRetryPolicy(creating, options.retry),
        budget: budget === false ? undefined : new RetryBudget(budget),
        random: options.random ?? Math.random,
      };
    }
  }

  /**
   * Runs one call under a fresh deadline and the caller's signals, and turns whatever happens into
   * a Result: `read` sees only a 2xx body and returns the value, or an error for a body it cannot use.
   *
   * Unless the client was made with `retry: false`, failed requests are tried again: a GET whenever the
   * failure is transient, any other method only when the request provably never left or the call
   * carries an `idempotencyKey`. `how.retry: false` makes a single attempt regardless;
   * `how.idempotent: true` marks a POST that only reads (so it is retried like a GET).
   */
  async run<T>(
    operation: string,
    call: CallOptions | undefined,
    send: (init: SendInit) => Promise<RawOutcome>,
    read: (data: unknown, response: Response) => T | RKError,
    how: { retry?: boolean; idempotent?: boolean } = {},
  ): Promise<Result<T>> {
    const timeoutMs = call?.timeoutMs === undefined ? this.timeoutMs : checkTimeout(operation, call.timeoutMs);
    if (timeoutMs instanceof RKError) return failure(timeoutMs);
    const signals = [this.clientSignal, call?.signal].filter((s): s is AbortSignal => s !== undefined);
    const alreadyAborted = signals.find((s) => s.aborted);
    if (alreadyAborted) return failure(new RKAbortError(operation, alreadyAborted.reason));
    const key = call?.idempotencyKey;
    const headers: Record<string, string> = key === undefined ? {} : { [IDEMPOTENCY_HEADER]: key };

    const retry = how.retry === false ? undefined : this.retry;
    if (!retry) return (await this.attempt(operation, { timeoutMs, signals, headers }, send, read)).result;
    const totalTimeoutMs =
      call?.totalTimeoutMs === undefined ? retry.policy.totalTimeoutMs : checkTimeout(operation, call.totalTimeoutMs);
    if (totalTimeoutMs instanceof RKError) return failure(totalTimeoutMs);
    // A backoff wait has no socket open: without a hold the process could exit mid-call.
    const release = holdProcess();
    try {
      const outcome = await withRetries<T>({
        operation,
        url: this.baseUrl,
        policy: retry.policy,
        totalTimeoutMs,
        attemptTimeoutMs: timeoutMs,
        clock: this.clock,
        random: retry.random,
        budget: retry.budget,
        signals,
        idempotent: (method) => how.idempotent === true || isSafeMethod(method) || key !== undefined,
        attempt: ({ attempt, timeoutMs: attemptMs, signal }) =>
          this.attempt(operation, { timeoutMs: attemptMs, signals: [signal], headers: { ...headers, [ATTEMPT_HEADER]: String(attempt) } }, send, read),
      });
      return outcome.result;
    } finally {
      release();
    }
  }

  /**
   * Exactly one request, no retry: a deadline of `timeoutMs` on this transport's clock, the given
   * signals (any of them aborting is reported as RKAbortError), and extra request headers. Reports
   * the HTTP method the request used, so a retry policy can tell reads from writes.
   */
  async attempt<T>(
    operation: string,
    input: { timeoutMs: number; signals: readonly AbortSignal[]; headers?: Readonly<Record<string, string>> },
    send: (init: SendInit) => Promise<RawOutcome>,
    read: (data: unknown, response: Response) => T | RKError,
  ): Promise<AttemptOutput<T>> {
    const { timeoutMs, signals, headers } = input;
    const alreadyAborted = signals.find((s) => s.aborted);
    if (alreadyAborted) return { result: failure(new RKAbortError(operation, alreadyAborted.reason)) };
    const scope = new AbortController();
    const deadline = this.clock.timeout(timeoutMs, scope.signal);
    const signal = signals.length ? AbortSignal.any([deadline, ...signals]) : deadline;
    // openapi-fetch parses 2xx bodies itself; remembering the response lets a body that fails to
    // parse still be reported with its status.
    let seen: Response | undefined;
    let method: string | undefined;
    const fetch: FetchFn = async (request, init) => {
      if (request instanceof Request) {
        method = request.method;
        for (const [name, value] of Object.entries(headers ?? {})) request.headers.set(name, value);
      } else {
        method = init?.method ?? 'GET';
      }
      seen = await this.fetchImpl(request, init);
      return seen;
    };
    try {
      const outcome = await send({ signal, fetch });
      const { response } = outcome;
      if (!response.ok) {
        const body = outcome.error === undefined ? '' : outcome.error;
        return { method, result: failure(new RKHttpError(operation, response.status, response.statusText, body, response.headers)) };
      }
      const value = read(outcome.data, response);
      return { method, result: value instanceof RKError ? failure(value) : success(value) };
    } catch (error) {
      const aborted = signals.find((s) => s.aborted);
      if (aborted) return { method, result: failure(new RKAbortError(operation, aborted.reason)) };
      if (deadline.aborted) return { method, result: failure(new RKTimeoutError(operation, this.baseUrl, timeoutMs)) };
      if (seen?.ok && error instanceof SyntaxError) {
        return {
          method,
          result: failure(new RKUnexpectedResponseError(operation, seen.status, `not valid JSON (${error.message})`, undefined, error)),
        };
      }
      return { method, result: failure(new RKConnectionError(operation, this.baseUrl, error)) };
    } finally {
      scope.abort();
    }
  }
}

// The specs declare these headers (openapi/common.yaml); a unit test keeps the names equal.
/** Sent with every attempt of a retried call: 1 for the first. */
export const ATTEMPT_HEADER = 'X-RK-Attempt';
/** The same on every attempt of one logical call, so a resend is recognised. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

function checkBaseUrl(operation: string, service: string, baseUrl: unknown): string {
  const hint = `pass the ${service} base URL, for example "http://127.0.0.1:8082/receiver/"`;
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
    throw new RKInvalidInputError(operation, `the ${service} URL`, `"${withoutCredentials(baseUrl)}" has a query or fragment; ${hint}`);
  }
  // Like the reference client: one trailing slash goes, then paths are appended.
  return baseUrl.endsWith('/') ? baseUrl.slice(0, -1) : baseUrl;
}

function checkTimeout(operation: string, timeoutMs: unknown): number | RKInvalidInputError {
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > 2 ** 31 - 1) {
    return new RKInvalidInputError(
      operation,
      'timeoutMs',
      `must be a positive number of milliseconds below 2^31, got ${String(timeoutMs)}`,
    );
  }
  return timeoutMs;
}

/** User-Agent and at most one credential header; the user credential wins, as in the reference client. */
function identify(operation: string, options: RKOptions): Middleware {
  const userAgent = options.userAgent ?? `recordkeeper-client-${VERSION}`;
  const credential = options.userAuth
    ? { header: options.userAuthHeader ?? DEFAULT_USER_AUTH_HEADER, value: options.userAuth }
    : options.pucAuth
      ? { header: options.pucAuthHeader ?? DEFAULT_PUC_AUTH_HEADER, value: options.pucAuth }
      : undefined;
  for (const [name, value] of [
    ['userAuthHeader', options.userAuthHeader],
    ['pucAuthHeader', options.pucAuthHeader],
  ] as const) {
    if (value !== undefined && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value)) {
      throw new RKInvalidInputError(operation, name, `"${value}" is not a valid HTTP header name`);
    }
  }
  return {
    onRequest({ request }) {
      request.headers.set('User-Agent', userAgent);
      if (credential) request.headers.set(credential.header, credential.value);
      return request;
    },
  };
}

/**
 * Certificate checks off for this client only: an undici dispatcher of its own, never the process
 * environment. undici is loaded on first use so clients that verify TLS never pay for it.
 */
function insecureFetch(base: FetchFn, injected: boolean): FetchFn {
  let ready: Promise<{ fetch: FetchFn; dispatcher: unknown }> | undefined;
  const load = () =>
    (ready ??= import('undici').then((undici) => ({
      fetch: undici.fetch as unknown as FetchFn,
      dispatcher: new undici.Agent({ connect: { rejectUnauthorized: false } }),
    })));
  return async (input, init) => {
    const { fetch, dispatcher } = await load();
    if (injected) return base(input, { ...init, dispatcher } as RequestInit);
    // undici's own fetch with its own Agent: mixing an npm undici Agent into Node's bundled fetch
    // is not supported across major versions.
    const request = input instanceof Request ? input : new Request(input, init);
    const body = request.body ? await request.arrayBuffer() : undefined;
    return fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body,
      signal: request.signal,
      redirect: request.redirect,
      dispatcher,
    } as RequestInit);
  };
}
