import { checked, describe, isPlainObject, requireHexId, requireText, snapshotOptions } from './core/checks.js';
import { RKInvalidInputError, type RKError } from './core/errors.js';
import { RKNotFoundError } from './core/http-errors.js';
import type { CallOptions, RKOptions } from './core/options.js';
import { expectCount, jsonOf, unexpected } from './core/responses.js';
import { failure, success, type Result } from './core/result.js';
import { resolveSettings } from './core/settings.js';
import type { CallEventName, CallListener, CallStats } from './core/observer.js';
import { DEFAULT_PAGE_SIZE, pagesOf, type PageOptions } from './core/pages.js';
import { queryService, queryFacts as facts, type QueryService } from './query-service.js';
import type { CallArguments, OperationValue } from './core/operation-types.js';
import type { queryOperations } from './generated/operations.js';
import type { operations as QueryOperations } from './generated/query.js';
import { graphArtifacts, GRAPH_ARTIFACT_COUNT } from './query-graph-artifacts.js';
import { runGraphQuery, type GraphRow } from './query-graph.js';
import { isHexId } from './wire/ids.js';
import { tagBase64 } from './wire/tag-segments.js';
import {
  artifactSourceOf,
  type Artifact,
  type ArtifactCountFilters,
  type ArtifactCountOptions,
  type ArtifactListOptions,
  type GraphQueryType,
  type PemCountFilters,
  type PemListOptions,
  type PemProperties,
  type QueryInfo,
  type StoredPem,
  type TagRecord,
} from './model/types.js';

/**
 * Reads PEMs, artifacts and tags back from the Record Keeper Query service.
 *
 * Every method resolves to a `Result` and never rejects; lists take paging, sorting and filters
 * (each filter is its own query parameter, as the reference client sends it).
 *
 * @example
 * ```ts
 * import { RKQuery } from 'recordkeeper-client';
 *
 * const query = new RKQuery('http://127.0.0.1:8082/query', { userAuth: process.env.RK_USER_AUTH });
 * const pems = await query.getPems({ pageSize: 20, sortField: 'TimestampClient', sortOrder: 'desc', filters: { Type: 'train' } });
 * if (pems.ok) for (const pem of pems.value) console.log(pem.ID, pem.Type, pem.ProducesArtifacts);
 * const production = await query.getTag('churn-pipeline', 'production');
 * if (production.ok) console.log('production is', production.value);
 * ```
 */
export class RKQuery {
  readonly #query: QueryService;

  /** @param queryUrl the Query service's base URL, e.g. `http://127.0.0.1:8082/query` */
  constructor(queryUrl: string, options: RKOptions = {}) {
    this.#query = queryService(queryUrl, resolveSettings('Creating RKQuery', options, facts.headers));
  }

  /** The Query service's version and whether it needs a credential. */
  getInfo(call?: CallOptions): Promise<Result<QueryInfo>> {
    return readQueryInfo(this.#query, call);
  }

  /**
   * One PEM by ID. A missing PEM is an RKNotFoundError (status 404); `findPem` gives null instead.
   * `P` types its Properties (`getPem<TrainRun>(id)`), as the caller expects them; not checked.
   */
  getPem<P extends object = PemProperties>(pemId: string, call?: CallOptions): Promise<Result<StoredPem<P>>> {
    return this.#query.run<'getPem', StoredPem<P>>('getPem', () => ({ path: { pem_id: requireHexId('Reading PEM', 'pemId', pemId) } }), call, { operation: 'Reading PEM' });
  }

  /** One PEM by ID, or null when the Query service has none with that ID. */
  async findPem<P extends object = PemProperties>(pemId: string, call?: CallOptions): Promise<Result<StoredPem<P> | null>> {
    const found = await this.getPem<P>(pemId, call);
    if (!found.ok && found.error instanceof RKNotFoundError && !found.error.wrongUrl) {
      return success(null);
    }
    return found;
  }

  /** PEMs matching every filter exactly, one page at a time (`pageIndex` from 0). */
  getPems<P extends object = PemProperties>(options: PemListOptions = {}, call?: CallOptions): Promise<Result<StoredPem<P>[]>> {
    return this.#query.run<'listPems', StoredPem<P>[]>('listPems', () => ({ query: listQuery('Listing PEMs', 'listPems', options) }), call, { operation: 'Listing PEMs', openQuery: true });
  }

  /** How many PEMs match every filter. */
  getPemsCount(filters: PemCountFilters = {}, call?: CallOptions): Promise<Result<number>> {
    const operation = 'Counting PEMs';
    const { known } = this.#query.operations.countPems;
    return this.#query.run('countPems', () => ({ query: filterQuery(operation, 'countPems', filters) }), call, {
      operation,
      openQuery: true,
      read: (answer) => expectCount(operation, known, jsonOf(operation, answer), answer),
    });
  }

  /** The artifact with exactly this Name, or null when there is none. */
  async getArtifact(name: string, options: { source?: ArtifactListOptions['source'] } = {}, call?: CallOptions): Promise<Result<Artifact | null>> {
    const operation = 'Reading artifact';
    if (typeof name !== 'string' || name.trim() === '') return failure(nameError(operation, name, 'dataset-a'));
    // The Name filter matches names that contain it; the exact match is picked here.
    const read = checked(() => snapshotOptions(operation, 'options', options) as { source?: ArtifactListOptions['source'] }, operation, 'options');
    if (read instanceof RKInvalidInputError) return failure(read);
    const list = await this.getArtifacts({ ...read, filters: { Name: name } }, call);
    if (!list.ok) return list;
    return success(list.value.find((artifact) => artifact.Name === name) ?? null);
  }

  /**
   * The most recently created artifact whose Name contains `name` (as the reference client asks:
   * one item, sorted by CreatedAt descending), or null when none matches.
   */
  async getArtifactLatest(name: string, call?: CallOptions): Promise<Result<Artifact | null>> {
    const operation = 'Reading latest artifact';
    if (typeof name !== 'string' || name.trim() === '') return failure(nameError(operation, name, 'model'));
    const list = await this.getArtifacts({ pageSize: 1, sortField: 'CreatedAt', sortOrder: 'desc', filters: { Name: name } }, call);
    if (!list.ok) return list;
    return success(list.value[0] ?? null);
  }

  /**
   * Artifacts from the tables (`source: 'tables'`, alias `'sqldb'`, the default) or from the
   * lineage graph (`'graph'`, alias `'graphdb'`, with properties as stored in the graph). Paging,
   * sorting and the Name filter mean the same for both sources.
   */
  async getArtifacts(options: ArtifactListOptions = {}, call?: CallOptions): Promise<Result<Artifact[]>> {
    const operation = 'Listing artifacts';
    if (!isPlainObject(options)) return failure(new RKInvalidInputError(operation, 'options', 'must be an object like { pageSize: 10 }'));
    const read = checked(() => snapshotOptions(operation, 'options', options, ['filters']) as ArtifactListOptions, operation, 'options');
    if (read instanceof RKInvalidInputError) return failure(read);
    options = read;
    const { source: given, ...list } = options;
    const source = artifactSourceOf(operation, given);
    if (source instanceof RKInvalidInputError) return failure(source);
    if (source === 'graph') {
      let query;
      try {
        graphArtifacts.check(operation, list);
        query = listQuery(operation, 'listArtifacts', list);
      } catch (error) {
        if (error instanceof RKInvalidInputError) return failure(error);
        throw error;
      }
      const rows = await runGraphQuery(this.#query, graphArtifacts.statement, 'r', call);
      if (!rows.ok) return rows;
      return graphArtifacts.select(operation, rows.value, query);
    }
    return this.#query.run('listArtifacts', () => ({ query: listQuery(operation, 'listArtifacts', list) }), call, { operation, openQuery: true });
  }

  /** How many artifacts have a Name that contains the `Name` filter, in the tables or the graph. */
  async getArtifactsCount(options: ArtifactCountOptions = {}, call?: CallOptions): Promise<Result<number>> {
    const operation = 'Counting artifacts';
    if (!isPlainObject(options)) {
      return failure(new RKInvalidInputError(operation, 'options', 'must be an object like { filters: { Name: "model" } }'));
    }
    const read = checked(() => snapshotOptions(operation, 'options', options, ['filters']) as ArtifactCountOptions, operation, 'options');
    if (read instanceof RKInvalidInputError) return failure(read);
    options = read;
    const source = artifactSourceOf(operation, options.source);
    if (source instanceof RKInvalidInputError) return failure(source);
    if (source === 'graph') {
      let filters: ArtifactCountFilters;
      try {
        rejectUnknownKeys(operation, options, 'count', ['source', 'filters']);
        graphArtifacts.check(operation, { filters: options.filters ?? {} });
        filters = filterQuery(operation, 'countArtifacts', options.filters ?? {});
      } catch (error) {
        if (error instanceof RKInvalidInputError) return failure(error);
        throw error;
      }
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
    const { known } = this.#query.operations.countArtifacts;
    return this.#query.run(
      'countArtifacts',
      () => {
        rejectUnknownKeys(operation, options, 'count', ['source', 'filters']);
        return { query: filterQuery(operation, 'countArtifacts', options.filters ?? {}) };
      },
      call,
      { operation, openQuery: true, read: (answer) => expectCount(operation, known, jsonOf(operation, answer), answer) },
    );
  }

  /** The ID of the PEM the tag points at, or null when the tag does not exist. */
  async getTag(namespace: string, tagName: string, call?: CallOptions): Promise<Result<string | null>> {
    const operation = 'Reading tag';
    const result = await this.#query.run(
      'getTag',
      () => ({
        path: {
          ns_b64: tagBase64(requireText(operation, 'namespace', namespace, 'my-service')),
          tag_b64: tagBase64(requireText(operation, 'tagName', tagName, 'production')),
        },
      }),
      call,
      { operation, read: (answer) => readTaggedId(operation, answer.text, answer) },
    );
    // A 404 the spec documents here means "no such tag"; a wrong base URL stays an error.
    if (!result.ok && result.error instanceof RKNotFoundError && !result.error.wrongUrl) return success(null);
    return result;
  }

  /** Every tag, with the PEM it points at and when it was last moved. */
  getTags(call?: CallOptions): Promise<Result<TagRecord[]>> {
    return this.#query.run('listTags', () => ({}), call, { operation: 'Listing tags' });
  }

  /** How many tags exist. */
  getTagsCount(call?: CallOptions): Promise<Result<number>> {
    const operation = 'Counting tags';
    const { known } = this.#query.operations.countTags;
    return this.#query.run('countTags', () => ({}), call, {
      operation,
      read: (answer) => expectCount(operation, known, jsonOf(operation, answer), answer),
    });
  }

  /** Runs a Cypher statement (`type` `r` or `read` to read, `rw` or `write` to write) and returns its rows. */
  queryGraph(query: string, type: GraphQueryType = 'r', call?: CallOptions): Promise<Result<GraphRow[]>> {
    return runGraphQuery(this.#query, query, type, call);
  }

  /**
   * Every PEM matching `filters`, page by page with one page in memory at a time:
   * `for await (const pem of query.pems({ pageSize: 500, filters: { Type: 'train' } }))`. Each page
   * is one `getPems` call (with its retries); a page that fails is thrown as its RKError, and
   * `call.signal` stops the listing (RKAbortError). `onProgress` hears after each page.
   */
  pems<P extends object = PemProperties>(options: Omit<PemListOptions, 'pageIndex'> & PageOptions = {}, call?: CallOptions): AsyncGenerator<StoredPem<P>, void, undefined> {
    const { onProgress, pageSize = DEFAULT_PAGE_SIZE, ...list } = options;
    return pagesOf('Listing PEMs', pageSize, call, onProgress, (pageIndex) => this.getPems<P>({ ...list, pageSize, pageIndex }, call));
  }

  /** Every artifact matching `filters` (tables or graph), page by page like `pems`. */
  artifacts(options: Omit<ArtifactListOptions, 'pageIndex'> & PageOptions = {}, call?: CallOptions): AsyncGenerator<Artifact, void, undefined> {
    const { onProgress, pageSize = DEFAULT_PAGE_SIZE, ...list } = options;
    return pagesOf('Listing artifacts', pageSize, call, onProgress, (pageIndex) => this.getArtifacts({ ...list, pageSize, pageIndex }, call));
  }

  /**
   * Every tag. The Query service does not page tags (GET /tags takes no paging parameters), so this
   * is one request whatever `pageSize`; it iterates like `pems` so callers need not care.
   */
  tags(options: Pick<PageOptions, 'onProgress'> = {}, call?: CallOptions): AsyncGenerator<TagRecord, void, undefined> {
    return pagesOf('Listing tags', Number.POSITIVE_INFINITY, call, options.onProgress, () => this.getTags(call));
  }

  /**
   * Any operation of the Query spec by its operationId, typed from the generated code, with the
   * same retries, credential, deadlines, errors and never-rejecting Result as every method here:
   * `query.call('getPem', { path: { pem_id: id } })`. For the day the spec gains an operation
   * before this class gains a method.
   */
  call<Id extends keyof QueryOperations & keyof typeof queryOperations>(
    operationId: Id,
    ...args: CallArguments<QueryOperations[Id]>
  ): Promise<Result<OperationValue<QueryOperations[Id], (typeof queryOperations)[Id]>>> {
    return this.#query.call(operationId, args[0], args[1]);
  }

  /** Subscribes to `retry` events of this client's calls (the same as RKClient's for sendPem); returns the unsubscribe. */
  on(event: CallEventName, listener: CallListener): () => void {
    return this.#query.on(event, listener);
  }

  /** Requests made, retries, retries the budget refused, tokens left in the retry budget. */
  stats(): CallStats {
    return this.#query.stats();
  }
}

/** Shared with RKAdmin.checkConnections, which asks the same service. */
export function readQueryInfo(service: QueryService, call: CallOptions | undefined): Promise<Result<QueryInfo>> {
  return service.run('getQueryInfo', () => ({}), call, { operation: 'Reading Query info' });
}

type ListOperation = 'listPems' | 'listArtifacts';
type FilterOperation = ListOperation | 'countPems' | 'countArtifacts';

/** The operation's list parameters (paging and sorting), in the spec's order: from facts.ts. */
function pagingKeys(id: FilterOperation): string[] {
  return facts.operations[id].query.filter((p) => p.role === 'paging').map((p) => p.name);
}

/** Paging first, then each filter as its own top-level parameter (`?pageSize=1&Name=model`). */
function listQuery<Q extends PemListOptions | Omit<ArtifactListOptions, 'source'>>(operation: string, id: ListOperation, options: Q) {
  if (!isPlainObject(options)) throw new RKInvalidInputError(operation, 'options', 'must be an object like { pageSize: 10 }');
  const paging = pagingKeys(id);
  rejectUnknownKeys(operation, options, 'list', [...paging, 'filters']);
  const { filters, ...given } = options as Record<string, unknown> & { filters?: Record<string, unknown> };
  // A fixed parameter order keeps URLs stable for caches and logs, whatever order the caller used.
  const query: Record<string, unknown> = {};
  for (const parameter of facts.operations[id].query) {
    if (parameter.role !== 'paging' || given[parameter.name] === undefined) continue;
    query[parameter.name] = checkListParameter(operation, parameter, given[parameter.name]);
  }
  if (query.pageIndex !== undefined && query.pageSize === undefined) {
    throw new RKInvalidInputError(operation, 'pageIndex', 'needs pageSize; without pageSize the list holds every match');
  }
  return { ...query, ...filterQuery(operation, id, filters ?? {}) } as Omit<Q, 'filters'> & NonNullable<Q['filters']>;
}

/** A list parameter checked against what the spec says of it: a whole number from its minimum, or one of its values. */
function checkListParameter(
  operation: string,
  parameter: { readonly name: string; readonly type: string; readonly minimum?: number; readonly maximum?: number; readonly enum?: readonly string[] },
  value: unknown,
): unknown {
  if (parameter.type === 'integer') {
    const min = parameter.minimum ?? 0;
    const max = parameter.maximum ?? Number.MAX_SAFE_INTEGER;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      throw new RKInvalidInputError(operation, parameter.name, `must be a whole number from ${min}, got ${typeof value === 'number' ? value : describe(value)}`);
    }
    if (value > max) throw new RKInvalidInputError(operation, parameter.name, `must be a whole number up to ${max} (the spec's maximum), got ${value}`);
  } else if (parameter.enum && !parameter.enum.includes(value as string)) {
    throw new RKInvalidInputError(
      operation,
      parameter.name,
      `must be ${parameter.enum.map((v) => JSON.stringify(v)).join(' or ')}, got ${JSON.stringify(typeof value === 'string' ? value : typeof value)}`,
    );
  }
  return value;
}

function filterQuery<F extends object>(operation: string, id: FilterOperation, filters: F): F {
  if (!isPlainObject(filters)) throw new RKInvalidInputError(operation, 'filters', 'must be an object like { Type: "train" }');
  const paging = pagingKeys(id);
  for (const [key, value] of Object.entries(filters)) {
    if (paging.includes(key)) {
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

function nameError(operation: string, name: unknown, example: string): RKInvalidInputError {
  try {
    requireText(operation, 'name', name, example);
  } catch (error) {
    if (error instanceof RKInvalidInputError) return error;
    throw error;
  }
  return new RKInvalidInputError(operation, 'name', 'must be a non-empty string');
}

/** The tagged ID arrives as bare text, or as a JSON string: both are accepted. */
function readTaggedId(operation: string, data: unknown, response: { status: number }): string | RKError {
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
