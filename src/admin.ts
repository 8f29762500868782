import { checked, isPlainObject } from './core/checks.js';
import { RKError, RKInvalidInputError } from './core/errors.js';
import type { paths as GraphBuilderPaths } from './generated/graph-builder.js';
import type { paths as QueryPaths } from './generated/query.js';
import { runGraphQuery, type GraphRow } from './graph/graph-query.js';
import { isReportId } from './model/ids.js';
import type { CallOptions, RKOptions } from './core/options.js';
import { readQueryInfo } from './query.js';
import { expectObject } from './core/responses.js';
import { messageOf } from './core/replies.js';
import { failure, success, type Result } from './core/result.js';
import { Transport } from './core/transport.js';
import type { ConnectionReport, FlushReport, GraphInfo, GraphQueryType, Report } from './types.js';

export interface GraphVerifyOptions {
  checkPems?: boolean;
  checkArtifacts?: boolean;
}

/** Low-level control of Record Keeper: the graph projection, maintenance reports, erasing data. */
export class RKAdmin {
  readonly #query: Transport<QueryPaths>;
  readonly #graph: Transport<GraphBuilderPaths>;

  /**
   * @param queryUrl the Query service's base URL
   * @param graphBuilderUrl the Graph Builder's base URL
   */
  constructor(queryUrl: string, graphBuilderUrl: string, options: RKOptions = {}) {
    this.#query = new Transport<QueryPaths>('Query', queryUrl, options);
    this.#graph = new Transport<GraphBuilderPaths>('Graph Builder', graphBuilderUrl, options);
  }

  /** Asks the Graph Builder, then the Query service, for their `/info`; fails at the first that does not answer. */
  async checkConnections(call?: CallOptions): Promise<Result<ConnectionReport>> {
    const graphBuilder = await this.getGraphInfo(call);
    if (!graphBuilder.ok) return graphBuilder;
    const query = await readQueryInfo(this.#query, call);
    if (!query.ok) return query;
    return success({ graphBuilder: graphBuilder.value, query: query.value });
  }

  /** Runs a Cypher statement (`type` `r` to read, `rw` to write) and returns its rows. */
  queryGraph(query: string, type: GraphQueryType = 'r', call?: CallOptions): Promise<Result<GraphRow[]>> {
    return runGraphQuery(this.#query, query, type, call);
  }

  /**
   * Erases every PEM, artifact, tag and report in both databases. Needs an admin credential. Any 2xx
   * is success; the value is the service's message ('' when it sent none).
   */
  cleanDbs(call?: CallOptions): Promise<Result<string>> {
    const operation = 'Cleaning databases';
    return this.#query.run(operation, call, (init) => this.#query.api.POST('/clean', { body: {}, parseAs: 'text', ...init }), (data) =>
      messageOf(data),
    );
  }

  /** Asks the Graph Builder to rebuild the graph from the tables; `graphFlush` waits for it. */
  graphRebuild(call?: CallOptions): Promise<Result<string>> {
    const operation = 'Rebuilding graph';
    return this.#graph.run(operation, call, (init) => this.#graph.api.POST('/rebuild', { body: {}, parseAs: 'text', ...init }), (data) =>
      messageOf(data),
    );
  }

  /**
   * Waits until every stored PEM is in the graph and reports how long that took. A flush can take
   * long: pass a generous `timeoutMs`.
   */
  async graphFlush(call?: CallOptions): Promise<Result<FlushReport>> {
    const operation = 'Flushing graph';
    const started = performance.now();
    const result = await this.#graph.run(operation, call, (init) => this.#graph.api.POST('/flush', { body: {}, parseAs: 'text', ...init }), (data) =>
      messageOf(data),
    );
    if (!result.ok) return result;
    return success({ msg: result.value, durationMs: Math.round(performance.now() - started) });
  }

  /** Compares the graph with the tables and returns the report, one difference per line. */
  async graphVerify(options: GraphVerifyOptions = {}, call?: CallOptions): Promise<Result<string>> {
    const operation = 'Verifying graph';
    const body = checked(() => {
      if (!isPlainObject(options)) throw new RKInvalidInputError(operation, 'options', 'must be an object like { checkPems: true }');
      const flag = (name: keyof GraphVerifyOptions): boolean => {
        const value: unknown = options[name] === undefined ? true : options[name];
        if (typeof value !== 'boolean') throw new RKInvalidInputError(operation, name, `must be true or false, got ${String(value)}`);
        return value;
      };
      return { check_pems: flag('checkPems'), check_artifacts: flag('checkArtifacts') };
    });
    if (body instanceof RKError) return failure(body);
    return this.#graph.run(operation, call, (init) => this.#graph.api.POST('/verify', { body, ...init }), (data, response) =>
      verifyMessageOf(operation, data, response),
    );
  }

  /** Table and graph counts, sync percentages and the loop's state. */
  getGraphInfo(call?: CallOptions): Promise<Result<GraphInfo>> {
    const operation = 'Reading Graph Builder info';
    return this.#graph.run(
      operation,
      call,
      (init) => this.#graph.api.GET('/info', init),
      (data, response) => expectObject<GraphInfo>(operation, data, response, ['version', 'pg_pems_count', 'neo4j_pems_count']),
    );
  }

  /** A maintenance report by id (the dashed UUID that started it returned). */
  async getReport(reportId: string, call?: CallOptions): Promise<Result<Report>> {
    const operation = 'Reading report';
    const report_id = checked(() => requireReportId(operation, reportId));
    if (report_id instanceof RKError) return failure(report_id);
    return this.#query.run(
      operation,
      call,
      (init) => this.#query.api.GET('/report/{report_id}', { params: { path: { report_id } }, ...init }),
      (data, response) => expectObject<Report>(operation, data, response, ['status', 'report']),
    );
  }

  /** Starts a check for artifacts no PEM uses or produces; resolves with the report id to poll. */
  artifactsVerifyConnections(call?: CallOptions): Promise<Result<string>> {
    const operation = 'Verifying artifact connections';
    return this.#query.run(
      operation,
      call,
      (init) => this.#query.api.POST('/verify_artifact_connections', { body: {}, ...init }),
      (data, response) => reportIdOf(operation, data, response),
    );
  }

  /** Removes the artifacts a finished connection check found unconnected; resolves with the removal's report id. */
  async artifactsRemoveUnconnected(reportId: string, call?: CallOptions): Promise<Result<string>> {
    const operation = 'Removing unconnected artifacts';
    const report_id = checked(() => requireReportId(operation, reportId));
    if (report_id instanceof RKError) return failure(report_id);
    return this.#query.run(
      operation,
      call,
      (init) =>
        this.#query.api.POST('/remove_unconnected_artifacts/{report_id}', { params: { path: { report_id } }, body: {}, ...init }),
      (data, response) => reportIdOf(operation, data, response),
    );
  }
}

function requireReportId(operation: string, reportId: unknown): string {
  if (!isReportId(reportId)) {
    throw new RKInvalidInputError(
      operation,
      'reportId',
      `must be a dashed UUID like "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f", got ${JSON.stringify(reportId)}; pass the id artifactsVerifyConnections returned`,
    );
  }
  return reportId;
}

/** The verify report is a known answer: the reference client reads its `msg`. */
function verifyMessageOf(operation: string, data: unknown, response: Response): string | RKError {
  const report = expectObject<{ msg: string }>(operation, data, response, ['msg']);
  return report instanceof RKError ? report : report.msg;
}

function reportIdOf(operation: string, data: unknown, response: Response): string | RKError {
  const started = expectObject<{ report_id: string }>(operation, data, response, ['report_id']);
  return started instanceof RKError ? started : started.report_id;
}
