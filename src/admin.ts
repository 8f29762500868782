import { describe, isPlainObject } from './core/checks.js';
import { RKError, RKInvalidInputError } from './core/errors.js';
import type { CallOptions, RKOptions } from './core/options.js';
import { messageOf } from './core/replies.js';
import { expectShape, jsonOf } from './core/responses.js';
import type { CallArguments, OperationValue } from './core/operation-types.js';
import { graphBuilderOperations, type queryOperations } from './generated/operations.js';
import type { operations as QueryOperations } from './generated/query.js';
import type { operations as GraphBuilderOperations } from './generated/graph-builder.js';
import type { WireAnswer } from './core/wire.js';
import { success, type Result } from './core/result.js';
import type { CallEventName, CallListener, CallStats } from './core/observer.js';
import { Service } from './core/service.js';
import { resolveSettings } from './core/settings.js';
import { graphBuilder as graphFacts } from './generated/facts.js';
import { runGraphQuery, type GraphRow } from './query-graph.js';
import { isReportId } from './wire/ids.js';
import { readQueryInfo } from './query.js';
import { queryService, type QueryService } from './query-service.js';
import type { ConnectionReport, FlushReport, GraphInfo, GraphQueryType, Report } from './model/types.js';

/** The operations RKAdmin reaches: the Query service's and the Graph Builder's (operationIds are unique across specs). */
type AdminOperations = QueryOperations & GraphBuilderOperations;
type AdminTable = typeof queryOperations & typeof graphBuilderOperations;

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
  readonly #graph: Service<GraphBuilderOperations, typeof graphBuilderOperations>;

  /**
   * @param queryUrl the Query service's base URL, e.g. `http://127.0.0.1:8082/query`
   * @param graphBuilderUrl the Graph Builder's base URL, e.g. `http://127.0.0.1:8082/graph-builder`
   */
  constructor(queryUrl: string, graphBuilderUrl: string, options: RKOptions = {}) {
    // One Settings for both services: one retry budget, one policy, checked once.
    const settings = resolveSettings('Creating RKAdmin', options, graphFacts.headers);
    this.#query = queryService(queryUrl, settings);
    this.#graph = new Service('Graph Builder', graphBuilderUrl, graphBuilderOperations, graphFacts.headers, settings);
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
    return this.#query.run('cleanDatabases', () => ({ body: {} }), call, { operation: 'Cleaning databases', read: ({ text }) => messageOf(text) });
  }

  /** Asks the Graph Builder to rebuild the graph from the tables; `graphFlush` waits for it. Any 2xx is success. */
  graphRebuild(call?: CallOptions): Promise<Result<string>> {
    return this.#graph.run('rebuildGraph', () => ({ body: {} }), call, { operation: 'Rebuilding graph', read: ({ text }) => messageOf(text) });
  }

  /**
   * Waits until every stored PEM is in the graph and reports how long that took. A flush can take
   * long: pass a generous `timeoutMs`. Any 2xx is success.
   */
  async graphFlush(call?: CallOptions): Promise<Result<FlushReport>> {
    const started = performance.now();
    const result = await this.#graph.run('flushGraph', () => ({ body: {} }), call, { operation: 'Flushing graph', read: ({ text }) => messageOf(text) });
    if (!result.ok) return result;
    return success({ msg: result.value, message: result.value, durationMs: Math.round(performance.now() - started) });
  }

  /** Compares the graph with the tables and returns the report, one difference per line. */
  graphVerify(options: GraphVerifyOptions = {}, call?: CallOptions): Promise<Result<string>> {
    const operation = 'Verifying graph';
    const { known } = this.#graph.operations.verifyGraph;
    return this.#graph.run(
      'verifyGraph',
      () => {
        if (!isPlainObject(options)) throw new RKInvalidInputError(operation, 'options', 'must be an object like { checkPems: true }');
        const flag = (name: keyof GraphVerifyOptions): boolean => {
          const value: unknown = options[name] === undefined ? true : options[name];
          if (typeof value !== 'boolean') throw new RKInvalidInputError(operation, name, `must be true or false, got ${typeof value === 'object' && value !== null ? describe(value) : String(value)}`);
          return value;
        };
        return { body: { check_pems: flag('checkPems'), check_artifacts: flag('checkArtifacts') } };
      },
      call,
      {
        operation,
        // A known reply: the reference client reads its `msg`.
        read: (answer) => {
          const report = expectShape<OperationValue<GraphBuilderOperations['verifyGraph'], typeof known>>(operation, known, jsonOf(operation, answer), answer);
          return report instanceof RKError ? report : report.msg;
        },
      },
    );
  }

  /** Table and graph counts, sync percentages and the loop's state. */
  getGraphInfo(call?: CallOptions): Promise<Result<GraphInfo>> {
    return this.#graph.run('getGraphInfo', () => ({}), call, { operation: 'Reading Graph Builder info' });
  }

  /** A maintenance report by id (the dashed UUID that started it returned). */
  getReport(reportId: string, call?: CallOptions): Promise<Result<Report>> {
    const operation = 'Reading report';
    return this.#query.run('getReport', () => ({ path: { report_id: requireReportId(operation, reportId) } }), call, { operation });
  }

  /** Starts a check for artifacts no PEM uses or produces; resolves with the report id to poll. */
  artifactsVerifyConnections(call?: CallOptions): Promise<Result<string>> {
    const operation = 'Verifying artifact connections';
    const { known } = this.#query.operations.verifyArtifactConnections;
    return this.#query.run('verifyArtifactConnections', () => ({ body: {} }), call, { operation, read: (answer) => reportIdOf(operation, known, answer) });
  }

  /** Removes the artifacts a finished connection check found unconnected; resolves with the removal's report id. */
  artifactsRemoveUnconnected(reportId: string, call?: CallOptions): Promise<Result<string>> {
    const operation = 'Removing unconnected artifacts';
    const { known } = this.#query.operations.removeUnconnectedArtifacts;
    return this.#query.run('removeUnconnectedArtifacts', () => ({ path: { report_id: requireReportId(operation, reportId) }, body: {} }), call, {
      operation,
      read: (answer) => reportIdOf(operation, known, answer),
    });
  }

  /**
   * Any operation of the Query or Graph Builder spec by its operationId, typed from the generated
   * code, with the same retries, credential, deadlines, errors and never-rejecting Result as every
   * method here: `admin.call('getGraphInfo')`.
   */
  call<Id extends keyof AdminOperations>(operationId: Id, ...args: CallArguments<AdminOperations[Id]>): Promise<Result<OperationValue<AdminOperations[Id], AdminTable[Id]>>> {
    const service = this.#graph.has(operationId) ? this.#graph : this.#query;
    return service.call(operationId, args[0], args[1]);
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

function reportIdOf(operation: string, shape: Parameters<typeof expectShape>[1], answer: WireAnswer): string | RKError {
  const started = expectShape<OperationValue<QueryOperations['verifyArtifactConnections'], (typeof queryOperations)['verifyArtifactConnections']>>(
    operation,
    shape,
    jsonOf(operation, answer),
    answer,
  );
  return started instanceof RKError ? started : started.report_id;
}
