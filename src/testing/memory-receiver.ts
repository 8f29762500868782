import { VERSION } from '../core/version.js';
import { receiver as facts } from '../generated/facts.js';
import type { PemPayload, ReceiverInfo, TagRecord } from '../model/types.js';
import { decodeTagSegment } from '../wire/tag-segments.js';
import { formatTimestamp } from '../wire/timestamps.js';

/** The setTag route's template as a pattern: one group per path parameter, in order. */
const TAG_ROUTE = new RegExp(`^${facts.operations.setTag.path.replace(/\{[^}]+\}/g, '([^/]+)')}$`);

/** The size limit the mock advertises and enforces, as a Receiver would. */
export const MOCK_PEM_SIZE_LIMIT = 1024 * 1024;

/**
 * A Receiver in memory, as a `fetch`: what the mock client sends to, so the mock runs RKClient's
 * own send rules (checks, size limit, queue, events, stats) without any I/O. It stores each PEM
 * once, answers an identical resend `duplicate` and different content under a stored ID 409, and
 * records tags, as our local Record Keeper does.
 */
export class MemoryReceiver {
  /** PEMs stored, in order, as their wire JSON. */
  readonly pems: PemPayload[] = [];
  /** Tags set, in order. */
  readonly tags: TagRecord[] = [];
  readonly #bodies = new Map<string, string>();
  readonly info: ReceiverInfo = {
    version: `mock-${VERSION}`,
    pem_version: '2.0.0',
    pem_size_limit: MOCK_PEM_SIZE_LIMIT,
    auth_required: false,
    pem_auth_required: false,
  };

  readonly #failures: { failure: InjectedFailure; left: number }[] = [];

  /**
   * Makes the next request(s) fail, in the order injected: `{ status: 503 }` answers that status,
   * `{ timeout: true }` never answers (the client's own deadline or signal ends the request),
   * `{ rejectPem: 'why' }` refuses the next PEM with 422 as a Receiver does. `times` (default 1)
   * repeats it. It applies to the next sendPem or setTag request; `only` limits it to one operation
   * (`sendPem`, `setTag`, or `getReceiverInfo`, which the client also reads once before its first send).
   */
  inject(failure: InjectedFailure): this {
    this.#failures.push({ failure, left: failure.times ?? 1 });
    return this;
  }

  /** The Receiver as a `fetch`, for the `fetch` option of an RKClient. */
  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input, init);
    const path = new URL(request.url).pathname.replace(/^\/mock-receiver/, '');
    const ops = facts.operations;
    const operation =
      request.method === ops.sendPem.method && path === ops.sendPem.path
        ? 'sendPem'
        : request.method === ops.getReceiverInfo.method && path === ops.getReceiverInfo.path
          ? 'getReceiverInfo'
          : 'setTag';
    // Without `only`, the client's own read of /info (the size limit, before its first send) is left alone.
    const injected = this.#failures.find((entry) => (entry.failure.only === undefined ? operation !== 'getReceiverInfo' : entry.failure.only === operation));
    if (injected) {
      if (--injected.left <= 0) this.#failures.splice(this.#failures.indexOf(injected), 1);
      return answerInjected(injected.failure, request);
    }
    if (request.method === ops.getReceiverInfo.method && path === ops.getReceiverInfo.path) return json(200, this.info);
    if (request.method === ops.sendPem.method && path === ops.sendPem.path) return this.#storePem(await request.text());
    const tag = TAG_ROUTE.exec(path);
    if (request.method === ops.setTag.method && tag) {
      const record: TagRecord = {
        NamespaceID: decodeTagSegment(tag[1]!) ?? '',
        Tag: decodeTagSegment(tag[2]!) ?? '',
        EventID: tag[3]!,
        UpdatedAt: formatTimestamp(),
      };
      this.tags.push(record);
      return json(200, record);
    }
    return json(404, { message: `the mock Receiver has no ${request.method} ${path}`, code: 'not_found' });
  };

  /** The base URL the mock client is given; nothing listens there. */
  static readonly url = 'http://mock.invalid/mock-receiver';

  #storePem(body: string): Response {
    const pem = JSON.parse(body) as PemPayload;
    const earlier = this.#bodies.get(pem.ID);
    if (earlier === undefined) {
      this.#bodies.set(pem.ID, body);
      this.pems.push(pem);
      return json(200, { ID: pem.ID, status: 'accepted' });
    }
    if (earlier === body) return json(200, { ID: pem.ID, status: 'duplicate' });
    return json(409, { message: `PEM ${pem.ID} is already stored with different content`, code: 'conflict', field: 'ID' });
  }
}

/** A failure for MemoryReceiver.inject (and MockRKClient.inject). */
export type InjectedFailure = (
  | { /** Answer this HTTP status, with `body` (default a JSON error naming the status). */ status: number; body?: unknown }
  | { /** Never answer: the request ends by the client's timeout or signal. */ timeout: true }
  | { /** Refuse the PEM with 422 and this message, as a Receiver refusing its content does. */ rejectPem: string }
) & {
  /** How many requests fail this way. Default 1. */
  times?: number | undefined;
  /** Only requests of this operation fail. Default: sendPem and setTag. */
  only?: 'sendPem' | 'setTag' | 'getReceiverInfo' | undefined;
};

function answerInjected(failure: InjectedFailure, request: Request): Promise<Response> {
  if ('timeout' in failure) {
    return new Promise((_, reject) => {
      const signal = request.signal;
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }
  if ('rejectPem' in failure) return Promise.resolve(json(422, { message: failure.rejectPem, code: 'invalid_request' }));
  const body = failure.body ?? { message: `injected failure: HTTP ${failure.status}`, code: CODES[failure.status] ?? 'invalid_request' };
  return Promise.resolve(json(failure.status, body));
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

const CODES: Record<number, string> = { 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 409: 'conflict', 413: 'pem_too_large' };
