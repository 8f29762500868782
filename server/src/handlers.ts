import { randomUUID } from 'node:crypto';
import type { Auth } from './auth.js';
import { parseStatement, supportedStatementsText, UnsupportedQueryError } from './cypher.js';
import type { GraphBuilder } from './graph.js';
import { queryFacts, receiverFacts } from 'recordkeeper-client/specs';
import { parseTimestamp, toPythonLiteral } from 'recordkeeper-client/wire';
import type { ListSelection, Records } from './records.js';
import { textProblem, findUnstorable } from './validation.js';
import { StreamedJsonArray, streamedRepliesEnabled } from './stream.js';
import type { ApiError, ErrorCode, Handlers, ReportBody } from './types.js';

/**
 * One function per operationId of the three specs. Requests arrive routed, authenticated and
 * validated against the spec; each handler only does the work and picks a documented answer,
 * which the generated types check.
 */

export interface HandlerContext {
  records: Records;
  graph: GraphBuilder;
  auth: Auth;
  versions: { receiver: string; query: string; graphBuilder: string; pem: string };
  pemSizeLimit: number;
  /** Runs report work after the answer is sent; stop() waits for it. */
  background(work: () => Promise<void>): void;
}

function problem<S extends number>(status: S, code: ErrorCode, message: string, field?: string) {
  const body: ApiError = field === undefined ? { message, code } : { message, code, field };
  return { status, type: 'application/json' as const, body };
}

function json<S extends number, B>(status: S, body: B) {
  return { status, type: 'application/json' as const, body };
}

export function createHandlers(ctx: HandlerContext): Handlers {
  const { records, graph } = ctx;
  return {
    // Receiver
    async getReceiverInfo() {
      return json(200, {
        version: ctx.versions.receiver,
        pem_version: ctx.versions.pem,
        pem_size_limit: ctx.pemSizeLimit,
        auth_required: ctx.auth.required,
        pem_auth_required: ctx.auth.pemRequired,
      });
    },

    async sendPem({ body }) {
      const unstorable = findUnstorable(body, 'body');
      if (unstorable) return problem(422, 'invalid_request', unstorable.message, unstorable.field);
      if (parseTimestamp(body.TimestampClient) === undefined) {
        return problem(422, 'invalid_request', 'TimestampClient: is not a real UTC time (YYYY-MM-DD HH:MM:SS with a real month, day, hour, minute and second)', 'TimestampClient');
      }
      const outcome = await records.sendPem(body);
      if (outcome.status === 'conflict') {
        return problem(409, 'conflict', `PEM ${body.ID} is already stored with different content; send it with a new ID`, 'ID');
      }
      return json(200, { ID: body.ID, status: outcome.status });
    },

    async setTag({ path }) {
      const namespace = decodeTagSegment(path.ns_b64, 'ns_b64');
      if (typeof namespace !== 'string') return namespace;
      const tag = decodeTagSegment(path.tag_b64, 'tag_b64');
      if (typeof tag !== 'string') return tag;
      const outcome = await records.setTag(namespace, tag, path.pem_id);
      if ('missingPem' in outcome) return problem(404, 'not_found', `pem_id: no PEM with ID ${path.pem_id}; send the PEM before tagging it`, 'pem_id');
      return json(200, outcome.record);
    },

    // Query
    async getQueryInfo() {
      return json(200, { version: ctx.versions.query, auth_required: ctx.auth.required, capabilities: ['lineage-reads'] });
    },

    async getPem({ path }) {
      const pem = await records.getPem(path.pem_id);
      return pem ? json(200, pem) : problem(404, 'not_found', `No PEM with ID ${path.pem_id}`, 'pem_id');
    },

    async listPems({ query }) {
      const selection = listSelection(query);
      if ('field' in selection) return problem(422, 'invalid_request', selection.message, selection.field);
      if (selection.pageSize === undefined && streamedRepliesEnabled()) {
        // Every match: streamed batch by batch from the database (see stream.ts).
        return json(200, new StreamedJsonArray(() => records.streamPems(selection)) as unknown as Awaited<ReturnType<Records['listPems']>>);
      }
      return json(200, await records.listPems(selection));
    },

    async countPems({ query }) {
      return json(200, { pems_count: await records.countPems(filtersOf(query)) });
    },

    async listArtifacts({ query }) {
      const selection = listSelection(query);
      if ('field' in selection) return problem(422, 'invalid_request', selection.message, selection.field);
      if (selection.pageSize === undefined && streamedRepliesEnabled()) {
        return json(200, new StreamedJsonArray(() => records.streamArtifacts(selection)) as unknown as Awaited<ReturnType<Records['listArtifacts']>>);
      }
      return json(200, await records.listArtifacts(selection));
    },

    async countArtifacts({ query }) {
      return json(200, { artifacts_count: await records.countArtifacts(filtersOf(query)) });
    },

    async getTag({ path }) {
      const namespace = decodeTagSegment(path.ns_b64, 'ns_b64');
      if (typeof namespace !== 'string') return namespace;
      const tag = decodeTagSegment(path.tag_b64, 'tag_b64');
      if (typeof tag !== 'string') return tag;
      const id = await records.getTag(namespace, tag);
      if (id === undefined) return problem(404, 'not_found', `No tag ${JSON.stringify(tag)} in namespace ${JSON.stringify(namespace)}`);
      return { status: 200, type: 'text/plain', body: id };
    },

    async listTags() {
      return json(200, await records.listTags());
    },

    async countTags() {
      return json(200, { tags_count: await records.countTags() });
    },

    async readLineage({ body }) {
      return json(200, await records.readLineage(body));
    },

    async queryGraph({ body }) {
      const problemText = textProblem(body.query);
      if (problemText) return problem(422, 'invalid_request', `query: ${problemText}`, 'query');
      let parsed;
      try {
        parsed = parseStatement(body.query);
      } catch (error) {
        if (!(error instanceof UnsupportedQueryError)) throw error;
        return unsupported(error);
      }
      // Escapes such as \u0000 inside a literal are only seen once it is read.
      for (const literal of parsed.literals) {
        const literalProblem = textProblem(literal);
        if (literalProblem) return problem(422, 'invalid_request', `query: a string literal ${literalProblem}`, 'query');
      }
      try {
        const rows = await parsed.statement.run(records.db, parsed.literals);
        return { status: 200, type: 'text/plain', body: toPythonLiteral(rows) };
      } catch (error) {
        if (!(error instanceof UnsupportedQueryError)) throw error;
        return unsupported(error);
      }
    },

    async verifyArtifactConnections() {
      const reportId = randomUUID();
      await records.createReport(reportId, 'artifact_connections');
      ctx.background(() =>
        finishReport(records, reportId, async () => {
          const { names, total } = await records.unconnectedArtifacts();
          const verb = names.length === 1 ? 'is' : 'are';
          return { artifacts: names, message: `${names.length} of ${total} artifacts ${verb} not used or produced by any PEM` };
        }),
      );
      return json(202, { report_id: reportId });
    },

    async removeUnconnectedArtifacts({ path }) {
      const check = await records.getReport(path.report_id);
      if (!check) return problem(404, 'not_found', `report_id: no report with id ${path.report_id}`, 'report_id');
      if (check.kind !== 'artifact_connections') {
        return problem(422, 'invalid_request', `report_id: report ${path.report_id} is a ${check.kind} report; pass the id of an artifact connection check`, 'report_id');
      }
      if (check.status !== 'finished' || !check.report) {
        return problem(422, 'invalid_request', `report_id: the connection check ${path.report_id} is ${check.status}, not finished; wait for it to finish`, 'report_id');
      }
      const candidates = check.report.artifacts;
      const reportId = randomUUID();
      await records.createReport(reportId, 'artifact_removal');
      ctx.background(() =>
        finishReport(records, reportId, async () => {
          const removed = await records.removeUnconnected(candidates);
          const kept = candidates.length - removed.length;
          return {
            artifacts: removed,
            message:
              `Removed ${removed.length} of the ${candidates.length} artifacts check ${path.report_id} found unconnected` +
              (kept ? `; ${kept} were connected again or already gone and were kept` : ''),
          };
        }),
      );
      return json(202, { report_id: reportId });
    },

    async getReport({ path }) {
      const report = await records.getReport(path.report_id);
      return report ? json(200, report) : problem(404, 'not_found', `report_id: no report with id ${path.report_id}`, 'report_id');
    },

    async cleanDatabases() {
      const erased = await records.clean();
      const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
      return json(200, {
        msg: `Erased ${plural(erased.pems, 'PEM')}, ${plural(erased.artifacts, 'artifact')}, ${plural(erased.tags, 'tag')} and ${plural(erased.reports, 'report')}`,
      });
    },

    // Graph Builder
    async getGraphInfo() {
      const counts = await graph.counts();
      const state = graph.state(counts);
      return json(200, {
        version: ctx.versions.graphBuilder,
        pg_pems_count: counts.tablePems,
        pg_artifacts_count: counts.tableArtifacts,
        neo4j_pems_count: counts.graphPems,
        neo4j_artifacts_count: counts.graphArtifacts,
        pems_sync_pct: percent(counts.graphPems, counts.tablePems),
        artifacts_sync_pct: percent(counts.graphArtifacts, counts.tableArtifacts),
        loop_iteration_interval: Math.round(graph.intervalMs / 1000),
        loop_state_should_rebuild: state.shouldRebuild,
        loop_state_should_flush: state.shouldFlush,
      });
    },

    async rebuildGraph() {
      graph.requestRebuild();
      return json(202, { msg: 'Rebuild requested; call /flush to wait until the graph has caught up' });
    },

    async flushGraph() {
      const projected = await graph.flush();
      return json(200, { msg: `Flushed ${projected} ${projected === 1 ? 'PEM' : 'PEMs'}; the graph holds every PEM stored before the call` });
    },

    async verifyGraph({ body }) {
      return json(200, { msg: await graph.verify(body.check_pems, body.check_artifacts) });
    },
  };
}

function unsupported(error: Error) {
  return problem(
    400,
    'malformed_request',
    `Unsupported query: ${error.message}. This Record Keeper answers these statements (keywords in any case, ` +
      `string literals in '…' are yours):\n${supportedStatementsText()}`,
    'query',
  );
}

async function finishReport(records: Records, reportId: string, work: () => Promise<ReportBody>): Promise<void> {
  try {
    await records.finishReport(reportId, 'finished', await work());
  } catch (error) {
    // The reason is reported without the error's own text, which may quote SQL or stored values.
    const code = typeof (error as { code?: unknown } | null)?.code === 'string' ? ` (code ${(error as { code: string }).code})` : '';
    await records
      .finishReport(reportId, 'failed', { artifacts: [], message: `The report failed: internal error${code}; the server log has a line about it` })
      .catch(() => undefined);
  }
}

/** The longest namespace and tag name, as the Pem schema states them. */
const TAG_TEXT_LIMIT = { ns_b64: receiverFacts.maxLength.Pem.TagNamespace, tag_b64: receiverFacts.maxLength.Pem.Tag } as const;

/** Tag path segments are standard base64 of UTF-8 text; anything else names the segment. */
export function decodeTagSegment(segment: string, field: 'ns_b64' | 'tag_b64') {
  const bytes = Buffer.from(segment, 'base64');
  if (bytes.toString('base64') !== segment) {
    return problem(422, 'invalid_request', `${field}: ${JSON.stringify(segment)} is not standard base64 (check its length and = padding)`, field);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return problem(422, 'invalid_request', `${field}: does not decode to UTF-8 text`, field);
  }
  const textIssue = textProblem(text);
  if (textIssue) return problem(422, 'invalid_request', `${field}: ${textIssue}`, field);
  const limit = TAG_TEXT_LIMIT[field];
  const length = [...text].length;
  if (length > limit) {
    return problem(422, 'invalid_request', `${field}: decodes to ${length} characters; a ${field === 'ns_b64' ? 'namespace' : 'tag'} has at most ${limit} (maxLength)`, field);
  }
  return text;
}

type ListQuery = {
  pageIndex?: number;
  pageSize?: number;
  sortField?: string;
  sortOrder?: 'asc' | 'desc';
} & Record<string, unknown>;

/** The list parameters (paging and sorting), as the Query spec marks them. */
const PAGING = new Set<string>(queryFacts.operations.listPems.query.filter((p) => p.role === 'paging').map((p) => p.name));

function filtersOf(query: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(query).filter(([k, v]) => !PAGING.has(k) && typeof v === 'string')) as Record<string, string>;
}

function listSelection(query: ListQuery): ListSelection | { field: string; message: string } {
  if (query.pageIndex !== undefined && query.pageSize === undefined) {
    return { field: 'pageIndex', message: 'pageIndex: needs pageSize; without pageSize the list holds every match' };
  }
  return {
    filters: filtersOf(query),
    sortField: query.sortField,
    sortOrder: query.sortOrder,
    pageIndex: query.pageIndex,
    pageSize: query.pageSize,
  };
}

function percent(part: number, whole: number): string {
  // Rounded down, so "100.0" means everything is there.
  return whole === 0 ? '100.0' : (Math.floor((1000 * part) / whole) / 10).toFixed(1);
}
