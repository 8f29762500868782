import { describe, isPlainObject } from './core/checks.js';
import { RKError, RKInvalidInputError } from './core/errors.js';
import type { CallOptions, RKOptions } from './core/options.js';
import { messageOf } from './core/replies.js';
import { expectShape } from './core/responses.js';
import { success, type Result } from './core/result.js';
import type { CallEventName, CallListener, CallStats } from './core/observer.js';
import { Service } from './core/service.js';
import { resolveSettings } from './core/settings.js';
import { graphBuilder as graphFacts } from './generated/facts.js';
import type { paths as GraphBuilderPaths } from './generated/graph-builder.js';
import { runGraphQuery, type GraphRow } from './query-graph.js';
import { isReportId } from './wire/ids.js';
import { readQueryInfo } from './query.js';
import { queryFacts, queryService, type QueryService } from './query-service.js';
import type { ConnectionReport, FlushReport, GraphInfo, GraphQueryType, Report } from './model/types.js';

/** What graphVerify compares between the SQL database and the graph. */
export interface GraphVerifyOptions {
  checkPems?: boolean;
  checkArtifacts?: boolean;
}

/**
 * Low-level control of Record Keeper: the graph projection, maintenance reports, erasing data.
 *
 * Every method resolves to a `Result` and never rejects. Most calls need an admin credential.
 *
 * @example
 * ```ts
 * import { RKAdmin } from 'recordkeeper-client';
 *
 * const admin = new RKAdmin('http://127.0.0.1:8082/query', 'http://127.0.0.1:8082/graph-builder', { userAuth: process.env.RK_USER_AUTH });
 * const connections = await admin.checkConnections();
 * if (!connections.ok) throw connections.error;
 * const flushed = await admin.graphFlush({ timeoutMs: 120_000 });
 * if (flushed.ok) console.log(flushed.value.msg, `in ${flushed.value.durationMs} ms`);
 * const report = await admin.graphVerify({ checkPems: true, checkArtifacts: true });
 * if (report.ok) console.log(report.value);
 * ```
 */
export class RKAdmin {
  readonly #query: QueryService;
  readonly #graph: Service<GraphBuilderPaths, typeof graphFacts.operations>;

  /**
   * @param queryUrl the Query service's base URL, e.g. `http://127.0.0.1:8082/query`
   * @param graphBuilderUrl the Graph Builder's base URL, e.g. `http://127.0.0.1:8082/graph-builder`
   */
  constructor(queryUrl: string, graphBuilderUrl: string, options: RKOptions = {}) {
    // One Settings for both services: one retry budget, one policy, checked once.
    const settings = resolveSettings('Creating RKAdmin', options, graphFacts.headers);
    this.#query = queryService(queryUrl, settings);
    this.#graph = new Service<GraphBuilderPaths, typeof graphFacts.operations>('Graph Builder', graphBuilderUrl, graphFacts, settings);
  }

  /** Asks the Graph Builder, then the Query service, for their `/info`; fails at the first that does not answer. */
  async checkConnections(call?: CallOptions): Promise<Result<ConnectionReport>> {
    const graphBuilder = await this.getGraphInfo(call);
    if (!graphBuilder.ok) return graphBuilder;
    const query = await readQueryInfo(this.#query, call);
    if (!query.ok) return query;
    return success({ graphBuilder: graphBuilder.value, query: query.value });
  }

  /** Runs a Cypher statement (`type` `r` or `read` to read, `rw` or `write` to write) and returns its rows. */
  queryGraph(query: string, type: GraphQueryType = 'r', call?: CallOptions): Promise<Result<GraphRow[]>> {
    return runGraphQuery(this.#query, query, type, call);
  }

  /**
   * Erases every PEM, artifact, tag and report in both databases. Needs an admin credential. Any 2xx
   * is success; the value is the service's message ('' when it sent none).
   */
  cleanDbs(call?: CallOptions): Promise<Result<string>> {
    return this.#query.invoke('cleanDatabases', call, {
      operation: 'Cleaning databases',
      prepare: () => undefined,
      send: (_, init) => this.#query.api.POST(queryFacts.operations.cleanDatabases.path, { body: {}, parseAs: 'text', ...init }),
      read: (data) => messageOf(data),
    });
  }

  /** Asks the Graph Builder to rebuild the graph from the tables; `graphFlush` waits for it. Any 2xx is success. */
  graphRebuild(call?: CallOptions): Promise<Result<string>> {
    return this.#graph.invoke('rebuildGraph', call, {
      operation: 'Rebuilding graph',
      prepare: () => undefined,
      send: (_, init) => this.#graph.api.POST(graphFacts.operations.rebuildGraph.path, { body: {}, parseAs: 'text', ...init }),
      read: (data) => messageOf(data),
    });
  }

  /**
   * Waits until every stored PEM is in the graph and reports how long that took. A flush can take
   * long: pass a generous `timeoutMs`. Any 2xx is success.
   */
  async graphFlush(call?: CallOptions): Promise<Result<FlushReport>> {
    const started = performance.now();
    const result = await this.#graph.invoke('flushGraph', call, {
      operation: 'Flushing graph',
      prepare: () => undefined,
      send: (_, init) => this.#graph.api.POST(graphFacts.operations.flushGraph.path, { body: {}, parseAs: 'text', ...init }),
      read: (data) => messageOf(data),
    });
    if (!result.ok) return result;
    return success({ msg: result.value, message: result.value, durationMs: Math.round(performance.now() - started) });
  }

  /** Compares the graph with the tables and returns the report, one difference per line. */
  graphVerify(options: GraphVerifyOptions = {}, call?: CallOptions): Promise<Result<string>> {
    const operation = 'Verifying graph';
    return this.#graph.invoke('verifyGraph', call, {
      operation,
      prepare: () => {
        if (!isPlainObject(options)) throw new RKInvalidInputError(operation, 'options', 'must be an object like { checkPems: true }');
        const flag = (name: keyof GraphVerifyOptions): boolean => {
          const value: unknown = options[name] === undefined ? true : options[name];
          if (typeof value !== 'boolean') throw new RKInvalidInputError(operation, name, `must be true or false, got ${typeof value === 'object' && value !== null ? describe(value) : String(value)}`);
          return value;
        };
        return { check_pems: flag('checkPems'), check_artifacts: flag('checkArtifacts') };
      },
      send: (body, init) => this.#graph.api.POST(graphFacts.operations.verifyGraph.path, { body, ...init }),
      // A known reply: the reference client reads its `msg`.
      read: (data, response) => {
        const report = expectShape<{ msg: string }>(operation, graphFacts.operations.verifyGraph.response, data, response);
        return report instanceof RKError ? report : report.msg;
      },
    });
  }

  /** Table and graph counts, sync percentages and the loop's state. */
  getGraphInfo(call?: CallOptions): Promise<Result<GraphInfo>> {
    return this.#graph.invoke('getGraphInfo', call, {
      operation: 'Reading Graph Builder info',
      prepare: () => undefined,
      send: (_, init) => this.#graph.api.GET(graphFacts.operations.getGraphInfo.path, init),
    });
  }

  /** A maintenance report by id (the dashed UUID that started it returned). */
  getReport(reportId: string, call?: CallOptions): Promise<Result<Report>> {
    const operation = 'Reading report';
    return this.#query.invoke('getReport', call, {
      operation,
      prepare: () => ({ report_id: requireReportId(operation, reportId) }),
      send: (path, init) => this.#query.api.GET(queryFacts.operations.getReport.path, { params: { path }, ...init }),
    });
  }

  /** Starts a check for artifacts no PEM uses or produces; resolves with the report id to poll. */
  artifactsVerifyConnections(call?: CallOptions): Promise<Result<string>> {
    const operation = 'Verifying artifact connections';
    return this.#query.invoke('verifyArtifactConnections', call, {
      operation,
      prepare: () => undefined,
      send: (_, init) => this.#query.api.POST(queryFacts.operations.verifyArtifactConnections.path, { body: {}, ...init }),
      read: (data, response) => reportIdOf(operation, queryFacts.operations.verifyArtifactConnections.response, data, response),
    });
  }

  /** Removes the artifacts a finished connection check found unconnected; resolves with the removal's report id. */
  artifactsRemoveUnconnected(reportId: string, call?: CallOptions): Promise<Result<string>> {
    const operation = 'Removing unconnected artifacts';
    return this.#query.invoke('removeUnconnectedArtifacts', call, {
      operation,
      prepare: () => ({ report_id: requireReportId(operation, reportId) }),
      send: (path, init) =>
        this.#query.api.POST(queryFacts.operations.removeUnconnectedArtifacts.path, { params: { path }, body: {}, ...init }),
      read: (data, response) => reportIdOf(operation, queryFacts.operations.removeUnconnectedArtifacts.response, data, response),
    });
  }

  /** Subscribes to `retry` events of this client's calls (Query and Graph Builder alike); returns the unsubscribe. */
  on(event: CallEventName, listener: CallListener): () => void {
    return this.#query.on(event, listener);
  }

  /** Requests made, retries, retries the budget refused, tokens left in the retry budget (both services share them). */
  stats(): CallStats {
    return this.#query.stats();
  }
}

function requireReportId(operation: string, reportId: unknown): string {
  if (!isReportId(reportId)) {
    throw new RKInvalidInputError(
      operation,
      'reportId',
      `must be a dashed UUID like "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f", got ${describe(reportId)}; pass the id artifactsVerifyConnections returned`,
    );
  }
  return reportId;
}

function reportIdOf(operation: string, shape: Parameters<typeof expectShape>[1], data: unknown, response: Response): string | RKError {
  const started = expectShape<{ report_id: string }>(operation, shape, data, response);
  return started instanceof RKError ? started : started.report_id;
}
