import { checked, isPlainObject, requireHexId, requireText } from './core/checks.js';
import { isHexId } from './model/ids.js';
import { RKError, RKHttpError, RKInvalidInputError } from './core/errors.js';
import type { paths } from './generated/query.js';
import { runGraphQuery, type GraphRow } from './graph/graph-query.js';
import { graphArtifacts, GRAPH_ARTIFACT_COUNT } from './graph/graph-artifacts.js';
import type { CallOptions, RKOptions } from './core/options.js';
import { expectArray, expectCount, expectObject, unexpected } from './core/responses.js';
import { failure, success, type Result } from './core/result.js';
import { encodeTagSegment, tagPathSerializer } from './wire/tag-segments.js';
import { Transport } from './core/transport.js';
import type {
  Artifact,
  ArtifactCountOptions,
  ArtifactFilters,
  ArtifactListOptions,
  GraphQueryType,
  PemFilters,
  PemListOptions,
  QueryInfo,
  StoredPem,
  TagRecord,
} from './types.js';

/** Reads PEMs, artifacts and tags back from the Record Keeper Query service. */
export class RKQuery {
  readonly #query: Transport<paths>;

  /** @param queryUrl the Query service's base URL */
  constructor(queryUrl: string, options: RKOptions = {}) {
    this.#query = new Transport<paths>('Query', queryUrl, options);
  }

  /** The Query service's version and whether it needs a credential. */
  getInfo(call?: CallOptions): Promise<Result<QueryInfo>> {
    return readQueryInfo(this.#query, call);
  }

  /** One PEM by ID. A missing PEM is an RKHttpError with status 404. */
  async getPem(pemId: string, call?: CallOptions): Promise<Result<StoredPem>> {
    const operation = 'Reading PEM';
    const pem_id = checked(() => requireHexId(operation, 'pemId', pemId));
    if (pem_id instanceof RKError) return failure(pem_id);
    return this.#query.run(
      operation,
      call,
      (init) => this.#query.api.GET('/pem/{pem_id}', { params: { path: { pem_id } }, ...init }),
      (data, response) => expectObject<StoredPem>(operation, data, response, ['ID', 'Type']),
    );
  }

  /** PEMs matching every filter exactly, one page at a time (`pageIndex` from 0). */
  async getPems(options: PemListOptions = {}, call?: CallOptions): Promise<Result<StoredPem[]>> {
    const operation = 'Listing PEMs';
    const query = checked(() => listQuery(operation, options));
    if (query instanceof RKError) return failure(query);
    return this.#query.run(
      operation,
      call,
      (init) => this.#query.api.GET('/pems', { params: { query }, ...init }),
      (data, response) => expectArray<StoredPem>(operation, data, response),
    );
  }

  /** How many PEMs match every filter. */
  async getPemsCount(filters: PemFilters = {}, call?: CallOptions): Promise<Result<number>> {
    const operation = 'Counting PEMs';
    const query = checked(() => filterQuery(operation, filters));
    if (query instanceof RKError) return failure(query);
    return this.#query.run(
      operation,
      call,
      (init) => this.#query.api.GET('/pems_count', { params: { query }, ...init }),
      (data, response) => expectCount(operation, data, response, 'pems_count'),
    );
  }

  /** The artifact with exactly this Name, or null when there is none. */
  async getArtifact(name: string, options: { source?: ArtifactListOptions['source'] } = {}, call?: CallOptions): Promise<Result<Artifact | null>> {
    const operation = 'Reading artifact';
    const checkedName = checked(() => requireText(operation, 'name', name, 'dataset-a'));
    if (checkedName instanceof RKError) return failure(checkedName);
    // The Name filter matches names that contain it; the exact match is picked here.
    const list = await this.getArtifacts({ ...options, filters: { Name: checkedName } }, call);
    if (!list.ok) return list;
    return success(list.value.find((artifact) => artifact.Name === checkedName) ?? null);
  }

  /**
   * The most recently created artifact whose Name contains `name` (as the reference client asks:
   * one item, sorted by CreatedAt descending), or null when none matches.
   */
  async getArtifactLatest(name: string, call?: CallOptions): Promise<Result<Artifact | null>> {
    const operation = 'Reading latest artifact';
    const checkedName = checked(() => requireText(operation, 'name', name, 'model'));
    if (checkedName instanceof RKError) return failure(checkedName);
    const list = await this.getArtifacts(
      { pageSize: 1, sortField: 'CreatedAt', sortOrder: 'desc', filters: { Name: checkedName } },
      call,
    );
    if (!list.ok) return list;
    return success(list.value[0] ?? null);
  }

  /**
   * Artifacts from the tables (`source: 'sqldb'`, default) or from the lineage graph
   * (`source: 'graphdb'`, with properties as stored in the graph). Paging, sorting and the Name
   * filter mean the same for both sources.
   */
  async getArtifacts(options: ArtifactListOptions = {}, call?: CallOptions): Promise<Result<Artifact[]>> {
    const operation = 'Listing artifacts';
    const { source = 'sqldb', ...list } = isPlainObject(options) ? options : ({} as ArtifactListOptions);
    const query = checked(() => {
      if (!isPlainObject(options)) throw new RKInvalidInputError(operation, 'options', 'must be an object like { pageSize: 10 }');
      requireSource(operation, source);
      if (source === 'graphdb') graphArtifacts.check(operation, list);
      return listQuery(operation, list);
    });
    if (query instanceof RKError) return failure(query);
    if (source === 'graphdb') {
      const rows = await runGraphQuery(this.#query, graphArtifacts.statement, 'r', call);
      if (!rows.ok) return rows;
      return graphArtifacts.select(operation, rows.value, query);
    }
    return this.#query.run(
      operation,
      call,
      (init) => this.#query.api.GET('/artifacts', { params: { query }, ...init }),
      (data, response) => expectArray<Artifact>(operation, data, response),
    );
  }

  /** How many artifacts have a Name that contains the `Name` filter, in the tables or the graph. */
  async getArtifactsCount(options: ArtifactCountOptions = {}, call?: CallOptions): Promise<Result<number>> {
    const operation = 'Counting artifacts';
    const query = checked(() => {
      if (!isPlainObject(options)) throw new RKInvalidInputError(operation, 'options', 'must be an object like { filters: { Name: "model" } }');
      rejectUnknownKeys(operation, options, 'count', ['source', 'filters']);
      const { source = 'sqldb', filters = {} } = options;
      requireSource(operation, source);
      if (source === 'graphdb') graphArtifacts.check(operation, { filters });
      return { source, filters: filterQuery(operation, filters) };
    });
    if (query instanceof RKError) return failure(query);
    const { source, filters } = query;
    if (source === 'graphdb') {
      if (filters.Name !== undefined) {
        const list = await this.getArtifacts({ source, filters }, call);
        return list.ok ? success(list.value.length) : list;
      }
      const rows = await runGraphQuery(this.#query, GRAPH_ARTIFACT_COUNT, 'r', call);
      if (!rows.ok) return rows;
      const count = rows.value[0]?.[0];
      return typeof count === 'number' && Number.isInteger(count) && count >= 0
        ? success(count)
        : failure(unexpected(operation, 200, 'expected [[<count>]]', rows.value));
    }
    return this.#query.run(
      operation,
      call,
      (init) => this.#query.api.GET('/artifacts_count', { params: { query: filters }, ...init }),
      (data, response) => expectCount(operation, data, response, 'artifacts_count'),
    );
  }

  /** The ID of the PEM the tag points at, or null when the tag does not exist. */
  async getTag(namespace: string, tagName: string, call?: CallOptions): Promise<Result<string | null>> {
    const operation = 'Reading tag';
    const path = checked(() => ({
      ns_b64: encodeTagSegment(requireText(operation, 'namespace', namespace, 'my-service')),
      tag_b64: encodeTagSegment(requireText(operation, 'tagName', tagName, 'production')),
    }));
    if (path instanceof RKError) return failure(path);
    const result = await this.#query.run(
      operation,
      call,
      (init) => this.#query.api.GET('/tag/{ns_b64}/{tag_b64}', { params: { path }, pathSerializer: tagPathSerializer, parseAs: 'text', ...init }),
      (data, response) => readTaggedId(operation, data, response),
    );
    if (!result.ok && result.error instanceof RKHttpError && result.error.status === 404) return success(null);
    return result;
  }

  /** Every tag, with the PEM it points at and when it was last moved. */
  getTags(call?: CallOptions): Promise<Result<TagRecord[]>> {
    const operation = 'Listing tags';
    return this.#query.run(
      operation,
      call,
      (init) => this.#query.api.GET('/tags', init),
      (data, response) => expectArray<TagRecord>(operation, data, response),
    );
  }

  /** How many tags exist. */
  getTagsCount(call?: CallOptions): Promise<Result<number>> {
    const operation = 'Counting tags';
    return this.#query.run(
      operation,
      call,
      (init) => this.#query.api.GET('/tags_count', init),
      (data, response) => expectCount(operation, data, response, 'tags_count'),
    );
  }

  /** Runs a Cypher statement (`type` `r` to read, `rw` to write) and returns its rows. */
  queryGraph(query: string, type: GraphQueryType = 'r', call?: CallOptions): Promise<Result<GraphRow[]>> {
    return runGraphQuery(this.#query, query, type, call);
  }
}

/** Shared with RKAdmin.checkConnections, which asks the same service. */
export function readQueryInfo(transport: Transport<paths>, call: CallOptions | undefined): Promise<Result<QueryInfo>> {
  const operation = 'Reading Query info';
  return transport.run(
    operation,
    call,
    (init) => transport.api.GET('/info', init),
    (data, response) => expectObject<QueryInfo>(operation, data, response, ['version', 'auth_required']),
  );
}

const PAGING_KEYS = ['pageIndex', 'pageSize', 'sortField', 'sortOrder'] as const;

/** Paging first, then each filter as its own top-level parameter (`?pageSize=1&Name=model`). */
function listQuery<Q extends PemListOptions | Omit<ArtifactListOptions, 'source'>>(operation: string, options: Q) {
  if (!isPlainObject(options)) throw new RKInvalidInputError(operation, 'options', 'must be an object like { pageSize: 10 }');
  rejectUnknownKeys(operation, options, 'list', [...PAGING_KEYS, 'filters']);
  const { filters, ...given } = options;
  // A fixed parameter order keeps URLs stable for caches and logs, whatever order the caller used.
  const paging = Object.fromEntries(
    PAGING_KEYS.filter((key) => given[key] !== undefined).map((key) => [key, given[key]]),
  ) as typeof given;
  for (const key of ['pageIndex', 'pageSize'] as const) {
    const value = paging[key];
    const min = key === 'pageIndex' ? 0 : 1;
    if (value !== undefined && (!Number.isInteger(value) || value < min)) {
      throw new RKInvalidInputError(operation, key, `must be a whole number from ${min}, got ${String(value)}`);
    }
  }
  if (paging.pageIndex !== undefined && paging.pageSize === undefined) {
    throw new RKInvalidInputError(operation, 'pageIndex', 'needs pageSize; without pageSize the list holds every match');
  }
  if (paging.sortOrder !== undefined && paging.sortOrder !== 'asc' && paging.sortOrder !== 'desc') {
    throw new RKInvalidInputError(operation, 'sortOrder', `must be "asc" or "desc", got ${JSON.stringify(paging.sortOrder)}`);
  }
  return { ...paging, ...filterQuery(operation, filters ?? {}) } as Omit<Q, 'filters'> & NonNullable<Q['filters']>;
}

function filterQuery<F extends PemFilters | ArtifactFilters>(operation: string, filters: F): F {
  if (!isPlainObject(filters)) throw new RKInvalidInputError(operation, 'filters', 'must be an object like { Type: "train" }');
  for (const [key, value] of Object.entries(filters)) {
    if ((PAGING_KEYS as readonly string[]).includes(key)) {
      throw new RKInvalidInputError(operation, `filters.${key}`, 'is a list option, not a field filter; pass it beside "filters"');
    }
    if (typeof value !== 'string') {
      throw new RKInvalidInputError(operation, `filters.${key}`, `must be a string, got ${typeof value}`);
    }
  }
  return filters;
}

function rejectUnknownKeys(operation: string, options: Record<string, unknown>, kind: string, known: readonly string[]): void {
  const unknown = Object.keys(options).find((key) => !known.includes(key));
  if (unknown !== undefined) {
    throw new RKInvalidInputError(
      operation,
      `options.${unknown}`,
      `is not a ${kind} option; use ${known.filter((key) => key !== 'filters').join(', ')}, and put field filters under "filters"`,
    );
  }
}

function requireSource(operation: string, source: unknown): void {
  if (source !== 'sqldb' && source !== 'graphdb') {
    throw new RKInvalidInputError(operation, 'source', `must be "sqldb" or "graphdb", got ${JSON.stringify(source)}`);
  }
}

/** The tagged ID arrives as bare text, or as a JSON string from older services. */
function readTaggedId(operation: string, data: unknown, response: Response): string | RKError {
  let text = typeof data === 'string' ? data.trim() : '';
  if (text.startsWith('"')) {
    try {
      text = String(JSON.parse(text));
    } catch {
      return unexpected(operation, response.status, 'a quoted PEM ID that is not valid JSON', data);
    }
  }
  return isHexId(text) ? text : unexpected(operation, response.status, 'expected a PEM ID of 32 hex digits', data);
}
