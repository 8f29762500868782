import { checked, describe, readCallOptions } from './checks.js';
import { callWithRetries, type CallHeaders } from './call.js';
import { RKError, RKInvalidInputError, RKTimeoutError } from './errors.js';
import { observerOf, type CallEventName, type CallListener, type CallStats } from './observer.js';
import type { CallOptions } from './options.js';
import { requestOf, type OperationDescription } from './operation-request.js';
import type { OperationInput, OperationValue } from './operation-types.js';
import { expectShape, jsonOf } from './responses.js';
import { failure, type Result } from './result.js';
import type { Settings } from './settings.js';
import { Transport, type AttemptInput } from './transport.js';
import type { WireAnswer } from './wire.js';

/** How a facade method runs its operation: its name in messages and what it makes of the reply. */
export interface Invocation<T> {
  /** In words, for messages: "Reading PEM". */
  operation: string;
  /** Reads a 2xx answer; by default a known reply is checked against the fields the client requires, an ours reply is its text. */
  read?: (answer: WireAnswer) => T | RKError;
  /** A POST that only reads, so it is retried like a GET. */
  idempotent?: boolean;
  /** One attempt whatever the retry policy. */
  retry?: boolean;
  /** Query parameters the spec does not list are sent as text (a listing's field filters), not refused. */
  openQuery?: boolean;
  /** A body the caller writes itself, sent as it is (the reference's raw tag body); called after the input is prepared. */
  serialized?: () => string;
}

/**
 * One RK service: its transport and its generated operations by operationId. Every operation runs
 * the same way, whether a facade method or `call` asks: input checked against the operation's
 * description (an RKInvalidInputError, nothing sent), the call retried as its method allows, the
 * reply read, every failure a Result.
 */
export class Service<Ops, Table extends Readonly<Record<keyof Ops & string, OperationDescription>>> {
  readonly transport: Transport;
  readonly operations: Table;
  readonly headers: CallHeaders;
  readonly #name: string;

  constructor(name: string, baseUrl: string, operations: Table, headers: CallHeaders, settings: Settings) {
    this.transport = new Transport(name, baseUrl, settings);
    this.operations = operations;
    this.headers = headers;
    this.#name = name;
  }

  /** Whether `id` is an operation of this service (own key: `toString` is none). */
  has(id: unknown): id is keyof Table & string {
    return typeof id === 'string' && Object.hasOwn(this.operations, id);
  }

  /** `retry` events of every call of the client these settings belong to. */
  on(event: CallEventName, listener: CallListener): () => void {
    return observerOf(this.transport.settings).on(event, listener);
  }

  /** The counters of the client's calls (shared by every service of one client). */
  stats(): CallStats {
    return observerOf(this.transport.settings).stats();
  }

  /** The typed escape hatch's run: the operation named by its operationId, its reply as the spec describes it. */
  call<T>(id: unknown, input: unknown, call: unknown): Promise<Result<T>> {
    if (!this.has(id)) return Promise.resolve(failure(unknownOperation(this.#name, id, Object.keys(this.operations))));
    return this.run<keyof Ops & keyof Table & string, T>(id as keyof Ops & keyof Table & string, () => input as OperationInput<Ops[keyof Ops & keyof Table & string]>, call, {
      operation: `Calling ${id}`,
    });
  }

  /** One operation with the client's retries, deadlines, credential and errors. Never rejects. */
  async run<Id extends keyof Ops & keyof Table & string, T = OperationValue<Ops[Id], Table[Id]>>(
    id: Id,
    prepare: () => OperationInput<Ops[Id]>,
    call: unknown,
    how: Invocation<T>,
  ): Promise<Result<T>> {
    const { operation } = how;
    const op = this.operations[id];
    const request = checked(() => requestOf(operation, id, op, prepare(), how.serialized?.(), how.openQuery === true), operation, 'input');
    if (request instanceof RKError) return failure(request);
    const callOptions = checked(() => readCallOptions(operation, call), operation, 'call');
    if (callOptions instanceof RKError) return failure(callOptions);
    const wholeList = pagesBy(op) && !request.path.includes('pageSize=');
    const read = how.read ?? ((answer: WireAnswer) => readReply<T>(operation, op, answer));
    const result = await callWithRetries<T>(
      this.transport,
      this.headers,
      {
        operation,
        facts: op,
        idempotent: op.method === 'GET' || how.idempotent === true,
        ...(how.retry === false ? { retry: false } : {}),
        ...(wholeList ? { retryTimeouts: false } : {}),
      },
      callOptions,
      request,
      read,
    );
    if (!result.ok && result.error instanceof RKTimeoutError && pagesBy(op)) suggestPaging(result.error, wholeList);
    return result;
  }

  /**
   * One attempt, no retries: for a caller that retries itself (sendPem's delivery, which queues,
   * limits and retries PEMs its own way). `serialized` is the body as the caller wrote it.
   */
  attempt<T>(id: keyof Ops & keyof Table & string, operation: string, input: AttemptInput, serialized: string, read: (answer: WireAnswer) => T | RKError): Promise<Result<T>> {
    const op = this.operations[id];
    const headers: Record<string, string> = op.body ? { 'Content-Type': op.body.media[0] ?? 'application/json' } : {};
    return this.transport.attempt(operation, op, input, { method: op.method, path: op.path, headers, body: serialized }, read);
  }
}

/**
 * A reply as the spec describes it: ours is any 2xx, its body as text; a known JSON reply is
 * parsed and must hold the fields the client requires; a known text reply is its text (or its JSON
 * when the spec allows JSON too and the answer says it is JSON).
 */
export function readReply<T>(operation: string, op: OperationDescription, answer: WireAnswer): T | RKError {
  if (op.reply === 'ours') return answer.text as T;
  const json = op.media.includes('application/json');
  const text = op.media.some((media) => media.startsWith('text/'));
  if (json && (!text || /\bjson\b/i.test(answer.header('content-type') ?? ''))) {
    return expectShape<T>(operation, op.known, jsonOf(operation, answer), answer);
  }
  return answer.text as T;
}

function unknownOperation(service: string, id: unknown, known: string[]): RKInvalidInputError {
  // Only a name that looks like an operationId is repeated: anything else may carry anything.
  const named = typeof id === 'string' && /^[A-Za-z_][A-Za-z0-9_]{0,79}$/.test(id);
  return new RKInvalidInputError(
    named ? `Calling ${id}` : 'Calling an operation',
    'operationId',
    `${named ? JSON.stringify(id) : describe(id)} is not an operation of the ${service} service; it has ${known.join(', ')}`,
  );
}

/** A list operation: one the spec gives a `pageSize` parameter. */
function pagesBy(op: OperationDescription): boolean {
  return op.parameters.some((parameter) => parameter.in === 'query' && parameter.name === 'pageSize');
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
