import { checked, readCallOptions } from './checks.js';
import { callWithRetries, type CallHeaders } from './call.js';
import { RKError, RKTimeoutError } from './errors.js';
import { observerOf, type CallEventName, type CallListener, type CallStats } from './observer.js';
import type { CallOptions } from './options.js';
import { expectShape, type ResponseShape } from './responses.js';
import { failure, type Result } from './result.js';
import type { Settings } from './settings.js';
import { Transport, type OperationFacts, type RawOutcome, type SendInit } from './transport.js';

/** An operation as facts.ts states it. */
export interface OperationSpec extends OperationFacts {
  readonly reply: string;
  readonly response?: ResponseShape;
}

/** A service's facts as facts.ts states them. */
export interface ServiceFacts {
  readonly headers: { readonly idempotencyKey: string; readonly attempt: string };
  readonly operations: Readonly<Record<string, OperationSpec>>;
}

/** How one facade method calls its operation. */
export interface Invocation<I, T> {
  /** In words, for messages: "Reading PEM". */
  operation: string;
  /** Checks and shapes the caller's input; throws RKInvalidInputError (reported, never thrown on). */
  prepare: () => I;
  send: (input: I, init: SendInit) => Promise<RawOutcome>;
  /** Reads a 2xx body; by default a known reply is checked against the spec's required fields. */
  read?: (data: unknown, response: Response, input: I) => T | RKError;
  /** A POST that only reads, so it is retried like a GET. */
  idempotent?: boolean;
  /** One attempt whatever the retry policy. */
  retry?: boolean;
}

/**
 * One RK service as the facades see it: its transport and its operations by operationId. Every
 * facade method is one `invoke`: input checked, the call retried as its method allows, the body
 * read, every failure a Result.
 */
export class Service<Paths extends {}, Ops extends Readonly<Record<string, OperationSpec>>> {
  readonly transport: Transport<Paths>;
  readonly operations: Ops;
  readonly #headers: CallHeaders;

  constructor(name: string, baseUrl: string, facts: ServiceFacts & { readonly operations: Ops }, settings: Settings) {
    this.transport = new Transport<Paths>(name, baseUrl, settings);
    this.operations = facts.operations;
    this.#headers = facts.headers;
  }

  /** `retry` events of every call of the client these settings belong to. */
  on(event: CallEventName, listener: CallListener): () => void {
    return observerOf(this.transport.settings).on(event, listener);
  }

  /** The counters of the client's calls (shared by every service of one client). */
  stats(): CallStats {
    return observerOf(this.transport.settings).stats();
  }

  get api(): Transport<Paths>['api'] {
    return this.transport.api;
  }

  async invoke<I, T>(id: keyof Ops & string, call: CallOptions | undefined, how: Invocation<I, T>): Promise<Result<T>> {
    const facts = this.operations[id]!;
    const input = checked(how.prepare, how.operation);
    if (input instanceof RKError) return failure(input);
    const callOptions = checked(() => readCallOptions(how.operation, call), how.operation, 'call');
    if (callOptions instanceof RKError) return failure(callOptions);
    call = callOptions;
    const wholeList = pagesBy(facts) && !paged(input);
    const read = how.read ?? ((data: unknown, response: Response) => expectShape<T>(how.operation, facts.response, data, response));
    const result = await callWithRetries<T>(
      this.transport as Transport<{}>,
      this.#headers,
      {
        operation: how.operation,
        facts,
        idempotent: facts.method === 'GET' || how.idempotent === true,
        ...(how.retry === false ? { retry: false } : {}),
        ...(wholeList ? { retryTimeouts: false } : {}),
      },
      call,
      (init) => how.send(input, init),
      (data, response) => read(data, response, input),
    );
    if (!result.ok && result.error instanceof RKTimeoutError && pagesBy(facts)) suggestPaging(result.error, wholeList);
    return result;
  }
}

/** A list operation: one the spec gives a `pageSize` parameter. */
function pagesBy(facts: OperationSpec): boolean {
  const query = (facts as { query?: readonly { name: string }[] }).query;
  return query?.some((parameter) => parameter.name === 'pageSize') === true;
}

/** The request asks for one page, not for every match. */
function paged(input: unknown): boolean {
  return typeof input === 'object' && input !== null && (input as { pageSize?: unknown }).pageSize !== undefined;
}

/**
 * A list that does not arrive in time is usually too long for one answer: waiting longer only
 * postpones the next timeout, fetching it in pages does not. The hint says so first. A whole
 * list that timed out was not sent again (the same request would be as slow); a page was.
 */
function suggestPaging(error: RKTimeoutError, wholeList: boolean): void {
  error.message = error.message.replace(
    /raise (\w+) if the service is slow$/,
    wholeList
      ? 'a list this slow is usually too long for one answer, so it was not sent again: fetch it in pages ({ pageSize: 1000, pageIndex: 0, 1, ... }, or iterate pems(), artifacts() or tags()), or raise $1'
      : 'a page this slow is usually too large: ask for a smaller pageSize, or raise $1',
  );
}
