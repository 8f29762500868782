import { FACADE_OPERATIONS } from '../facade-operations.js';
import type { operations as QueryOperations } from '../generated/query.js';
import { Pem } from '../public.js';
import { encodeTagSegment } from '../wire/index.js';

/**
 * What `rk conformance` calls, in order, and with what: every read-only operation, the writes only
 * with `--write` (a PEM of its own emitter, a tag in a namespace it names, the checks that start
 * work), and never the three that erase or rebuild. Paths, methods and documented replies come
 * from the generated facts; a step says only where its arguments come from.
 */

export type ServiceKey = 'receiver' | 'query' | 'graphBuilder';

/** What earlier steps learnt, for the steps that need an ID. */
export interface Found {
  pemId?: string;
  /** The ours-only reads the Query service's `/info` lists in `capabilities`. */
  capabilities?: string[];
  tag?: { namespace: string; name: string };
  reportId?: string;
  sentPemId?: string;
  sentTag?: { namespace: string; name: string };
}

export interface CallInput {
  pathParams?: Record<string, string>;
  query?: Record<string, string | number>;
  /** The request body as sent: JSON text, or the reference's raw text for setTag. */
  body?: string;
}

export interface Step {
  service: ServiceKey;
  operationId: string;
  /** Runs only with `--write`. */
  writes?: boolean;
  /** Why conformance never calls it; the step is always skipped. */
  never?: string;
  /** The call's arguments, or why it cannot be made (no PEM to read). */
  input(found: Found, settings: PlanSettings): CallInput | { skip: string };
  /** What the reply teaches the later steps. */
  learn?(body: unknown, found: Found): void;
}

export interface PlanSettings {
  emitter: string;
  tagNamespace: string;
  tagName: string;
  /** The request example the spec gives the operation (a JSON value), if any. */
  example(operationId: string): unknown;
}

/** A list stays short on a large Record Keeper: the shape of a few items is the point. */
const PAGE = 5;

const listQuery = { pageSize: PAGE } satisfies NonNullable<QueryOperations['listPems']['parameters']['query']> &
  NonNullable<QueryOperations['listArtifacts']['parameters']['query']>;

const json = (value: unknown) => JSON.stringify(value);
const noArguments = () => ({ body: '{}' });

function firstOf(body: unknown): Record<string, unknown> | undefined {
  const first = Array.isArray(body) ? body[0] : undefined;
  return first !== null && typeof first === 'object' ? (first as Record<string, unknown>) : undefined;
}

export const PLAN: readonly Step[] = [
  { service: 'receiver', operationId: 'getReceiverInfo', input: () => ({}) },
  {
    service: 'receiver',
    operationId: 'sendPem',
    writes: true,
    input: (found, s) => {
      const pem = Pem.prepare(s.emitter, 'rk-conformance', { tagName: s.tagName, tagNamespace: s.tagNamespace, properties: { purpose: 'rk conformance' } });
      found.sentPemId = pem.ID;
      return { body: json(pem) };
    },
  },
  {
    service: 'receiver',
    operationId: 'setTag',
    writes: true,
    input: (found, s) => {
      if (!found.sentPemId) return { skip: 'no PEM of its own to tag: sendPem did not succeed' };
      found.sentTag = { namespace: s.tagNamespace, name: s.tagName };
      // The reference's body: the base64 tag name as raw text, though labelled JSON.
      const tag = encodeTagSegment(s.tagName);
      return { pathParams: { ns_b64: encodeTagSegment(s.tagNamespace), tag_b64: tag, pem_id: found.sentPemId }, body: decodeURIComponent(tag) };
    },
  },
  {
    service: 'query',
    operationId: 'getQueryInfo',
    input: () => ({}),
    learn: (body, found) => {
      const capabilities = (body as { capabilities?: unknown } | null)?.capabilities;
      if (Array.isArray(capabilities)) found.capabilities = capabilities.filter((c): c is string => typeof c === 'string');
    },
  },
  {
    service: 'query',
    operationId: 'listPems',
    input: () => ({ query: listQuery }),
    learn: (body, found) => {
      const id = firstOf(body)?.ID;
      if (typeof id === 'string') found.pemId ??= id;
    },
  },
  { service: 'query', operationId: 'countPems', input: () => ({}) },
  {
    service: 'query',
    operationId: 'getPem',
    input: (found) => {
      const id = found.pemId ?? found.sentPemId;
      return id ? { pathParams: { pem_id: id } } : { skip: 'no PEM to read: listPems found none (--write sends one first)' };
    },
  },
  { service: 'query', operationId: 'listArtifacts', input: () => ({ query: listQuery }) },
  { service: 'query', operationId: 'countArtifacts', input: () => ({}) },
  {
    service: 'query',
    operationId: 'listTags',
    input: () => ({}),
    learn: (body, found) => {
      const first = firstOf(body);
      if (typeof first?.NamespaceID === 'string' && typeof first.Tag === 'string') found.tag ??= { namespace: first.NamespaceID, name: first.Tag };
    },
  },
  { service: 'query', operationId: 'countTags', input: () => ({}) },
  {
    service: 'query',
    operationId: 'getTag',
    input: (found) => {
      const tag = found.sentTag ?? found.tag;
      if (!tag) return { skip: 'no tag to read: listTags found none (--write sets one first)' };
      return { pathParams: { ns_b64: encodeTagSegment(tag.namespace), tag_b64: encodeTagSegment(tag.name) } };
    },
  },
  {
    service: 'query',
    operationId: 'readLineage',
    // Ours: asked only of a service whose /info offers it (a real RK is not known to).
    input: (found) => {
      if (!found.capabilities?.includes('lineage-reads')) return { skip: "ours: /info does not list 'lineage-reads' in capabilities" };
      const id = found.pemId ?? found.sentPemId;
      return id ? { body: json({ ids: [id], walk: { direction: 'upstream', hops: 1 }, limit: 100 }) } : { skip: 'no PEM to start from: listPems found none (--write sends one first)' };
    },
  },
  {
    service: 'query',
    operationId: 'queryGraph',
    // The spec's own example, a read-only count, as the reference client sends it.
    input: (_found, s) => ({ body: json(s.example('queryGraph')) }),
  },
  {
    service: 'query',
    operationId: 'verifyArtifactConnections',
    writes: true,
    input: noArguments,
    learn: (body, found) => {
      const id = (body as { report_id?: unknown } | null)?.report_id;
      if (typeof id === 'string') found.reportId = id;
    },
  },
  {
    service: 'query',
    operationId: 'getReport',
    writes: true,
    input: (found) => (found.reportId ? { pathParams: { report_id: found.reportId } } : { skip: 'no report to read: verifyArtifactConnections gave no report id' }),
  },
  { service: 'query', operationId: 'removeUnconnectedArtifacts', never: 'it deletes artifacts; conformance never calls it', input: noArguments },
  { service: 'query', operationId: 'cleanDatabases', never: 'it erases both databases; conformance never calls it', input: noArguments },
  { service: 'graphBuilder', operationId: 'getGraphInfo', input: () => ({}) },
  {
    service: 'graphBuilder',
    operationId: 'verifyGraph',
    writes: true,
    input: (_found, s) => ({ body: json(s.example('verifyGraph')) }),
  },
  { service: 'graphBuilder', operationId: 'flushGraph', writes: true, input: noArguments },
  { service: 'graphBuilder', operationId: 'rebuildGraph', never: 'it rebuilds the whole graph; conformance never calls it', input: noArguments },
];

/** The facade method a user calls for an operation, for the report (`RKQuery.getPems`). */
export function facadeCall(service: ServiceKey, operationId: string): string {
  const entry = (FACADE_OPERATIONS[service] as Record<string, { facade: string; method: string | undefined }>)[operationId];
  if (!entry) return '';
  return entry.method ? `${entry.facade}.${entry.method}` : `${entry.facade}.call('${operationId}')`;
}
