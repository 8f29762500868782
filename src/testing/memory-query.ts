import { VERSION } from '../core/version.js';
import { query as facts } from '../generated/facts.js';
import type { PemPayload, QueryInfo, StoredPem, TagRecord } from '../model/types.js';
import { decodeTagSegment } from '../wire/tag-segments.js';
import type { MemoryReceiver } from './memory-receiver.js';

/**
 * The Query service over a MemoryReceiver's PEMs and tags, as a `fetch`: what MockRKQuery reads
 * from, so code under test reads back exactly what it sent through a MockRKClient. It answers
 * getInfo, getPem, the PEM and tag lists and counts (filters match exactly, paging and sorting
 * as the spec describes) and the artifact list; graph queries and reports answer 501.
 */
export class MemoryQuery {
  readonly info: QueryInfo = { version: `mock-${VERSION}`, auth_required: false };

  constructor(readonly receiver: MemoryReceiver) {}

  /** The base URL MockRKQuery is given; nothing listens there. */
  static readonly url = 'http://mock.invalid/mock-query';

  /** The service as a `fetch`, for the `fetch` option of an RKQuery. */
  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input, init);
    const url = new URL(request.url);
    const path = url.pathname.replace(/^\/mock-query/, '');
    const ops = facts.operations;
    if (request.method !== 'GET') return json(501, { message: `the mock Query service does not answer ${request.method} ${path}`, code: 'not_found' });
    if (path === ops.getQueryInfo.path) return json(200, this.info);
    const pemMatch = /^\/pem\/([^/]+)$/.exec(path);
    if (pemMatch) {
      const pem = this.#pems().find((p) => p.ID === pemMatch[1]);
      return pem ? json(200, pem) : json(404, { message: `No PEM with ID ${pemMatch[1]}`, code: 'not_found' });
    }
    if (path === ops.listPems.path) return json(200, page(filter(this.#pems(), url.searchParams, ops.listPems.query), url.searchParams));
    if (path === ops.countPems.path) return json(200, { pems_count: filter(this.#pems(), url.searchParams, ops.countPems.query).length });
    if (path === ops.listTags.path) return json(200, this.#tags());
    if (path === ops.countTags.path) return json(200, { tags_count: this.#tags().length });
    if (path === ops.listArtifacts.path || path === ops.countArtifacts.path) {
      const name = url.searchParams.get('Name') ?? '';
      const artifacts = this.receiver.pems.flatMap((p) => [...p.UsesArtifacts, ...p.ProducesArtifacts]).filter((a) => a.Name.includes(name));
      const unique = [...new Map(artifacts.map((a) => [a.Name, a])).values()];
      return path === ops.countArtifacts.path ? json(200, { artifacts_count: unique.length }) : json(200, page(unique, url.searchParams));
    }
    const tagMatch = /^\/tag\/([^/]+)\/([^/]+)$/.exec(path);
    if (tagMatch) {
      const namespace = decodeTagSegment(tagMatch[1]!);
      const tag = decodeTagSegment(tagMatch[2]!);
      const found = this.#tags().find((t) => t.NamespaceID === namespace && t.Tag === tag);
      if (!found) return json(404, { message: `No tag ${JSON.stringify(tag)} in namespace ${JSON.stringify(namespace)}`, code: 'not_found' });
      return new Response(found.EventID, { status: 200, headers: { 'Content-Type': 'text/plain' } });
    }
    return json(404, { message: `the mock Query service has no GET ${path}`, code: 'not_found' });
  };

  /** The PEMs as the Query service returns them: artifact names instead of objects. */
  #pems(): StoredPem[] {
    return this.receiver.pems.map((pem) => stored(pem));
  }

  /** Tags where they point now: the last move of each, including the ones PEMs carry. */
  #tags(): TagRecord[] {
    const latest = new Map<string, TagRecord>();
    for (const pem of this.receiver.pems) {
      if (pem.Tag !== '' && pem.TagNamespace !== '') {
        latest.set(`${pem.TagNamespace}\u0000${pem.Tag}`, { NamespaceID: pem.TagNamespace, Tag: pem.Tag, EventID: pem.ID, UpdatedAt: pem.TimestampClient });
      }
    }
    for (const tag of this.receiver.tags) latest.set(`${tag.NamespaceID}\u0000${tag.Tag}`, tag);
    return [...latest.values()];
  }
}

function stored(pem: PemPayload): StoredPem {
  return {
    ID: pem.ID,
    Type: pem.Type,
    Predecessor: pem.Predecessor,
    Emitter: pem.Emitter,
    TimestampClient: pem.TimestampClient,
    TimestampReceived: pem.TimestampClient,
    Properties: pem.Properties,
    Tag: pem.Tag,
    TagNamespace: pem.TagNamespace,
    UsesArtifacts: pem.UsesArtifacts.map((a) => a.Name),
    ProducesArtifacts: pem.ProducesArtifacts.map((a) => a.Name),
  };
}

function filter<T extends object>(items: T[], params: URLSearchParams, query: readonly { name: string; role: string }[]): T[] {
  const filters = query.filter((q) => q.role === 'filter' && params.has(q.name)).map((q) => [q.name, params.get(q.name)] as const);
  return items.filter((item) => filters.every(([name, value]) => String((item as Record<string, unknown>)[name]) === value));
}

function page<T extends object>(items: T[], params: URLSearchParams): T[] {
  const field = params.get('sortField');
  const sorted = field === null ? items : [...items].sort((a, b) => String((a as Record<string, unknown>)[field]).localeCompare(String((b as Record<string, unknown>)[field])));
  if (params.get('sortOrder') === 'desc') sorted.reverse();
  const size = params.get('pageSize');
  if (size === null) return sorted;
  const index = Number(params.get('pageIndex') ?? 0);
  return sorted.slice(index * Number(size), (index + 1) * Number(size));
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}
