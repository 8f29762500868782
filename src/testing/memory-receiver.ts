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

  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input, init);
    const path = new URL(request.url).pathname.replace(/^\/mock-receiver/, '');
    const ops = facts.operations;
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

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}
