import { asFailure, Pem, RKInvalidInputError, RKSizeLimitError, type Artifact, type PemPayload, type PemProperties, type Result } from '../public.js';
import { ARTIFACT_FACET, nameOfDataset, PEM_FACET, pemIdOfRun, timestampOf } from './openlineage-names.js';
import { OpenLineageRuns } from './openlineage-runs.js';
import type { OpenLineageDataset, OpenLineageEventType, OpenLineageFacets, OpenLineageRunEvent } from './openlineage-types.js';

/** What one OpenLineage event became. */
export type OpenLineageImport =
  /** A COMPLETE or FAIL event: the PEM of its run. */
  | { kind: 'pem'; pem: PemPayload; runId: string; eventType: 'COMPLETE' | 'FAIL' }
  /** START, RUNNING, OTHER (or no eventType): held for the run's COMPLETE or FAIL, nothing sent. */
  | { kind: 'folded'; runId: string; eventType: string }
  /** Valid, but nothing to record: an ABORT, or a DatasetEvent or JobEvent (no run). */
  | { kind: 'skipped'; reason: string };

/** How `fromOpenLineage` folds runs and checks sizes: the run memory to fold START and RUNNING into, the Receiver's size limit. */
export interface FromOpenLineageOptions {
  /**
   * The Receiver's `pem_size_limit` in bytes: a larger PEM is refused (RKSizeLimitError, the
   * limit named), never truncated. Unset: the Receiver's own check decides when it is sent.
   */
  sizeLimit?: number | undefined;
  /** Folds the START/RUNNING/OTHER events of a run into its COMPLETE or FAIL (one per stream: a file, a bridge). */
  runs?: OpenLineageRuns | undefined;
}

const OPERATION = 'Reading OpenLineage event';
const EVENT_TYPES: readonly OpenLineageEventType[] = ['START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL', 'OTHER'];

/**
 * An OpenLineage RunEvent as a PEM. COMPLETE and FAIL become a PEM whose ID is derived from the run
 * ID (the run's UUID without dashes), so replaying the same events stores nothing twice; START,
 * RUNNING and OTHER are folded (their datasets and facets join the run's final event when `runs`
 * is given) and not sent. An event written by `toOpenLineage` gives back exactly its PEM. Any
 * other event maps as:
 *
 * - Emitter, TagNamespace: `job.namespace`; Type, Tag: `job.name` (so `<namespace>/<job>` is a tag
 *   naming the job's latest run); TimestampClient: `eventTime` in UTC, to the second.
 * - inputs and outputs: used and produced artifacts named `<namespace>/<name>` (datasets of the
 *   `recordkeeper` namespace by their name alone); their facets are carried as JSON text in the
 *   artifact's Properties (`openlineage.facets.<facet>`), with `openlineage.namespace` and `.name`.
 * - Properties: `{ openlineage: { eventType, runId, producer, job, run } }` with every job and run
 *   facet as sent, `parent` included: OpenLineage's parent is containment, not RK's cause, so it
 *   is carried, not made the Predecessor.
 *
 * Never throws: a malformed event, or one too large for the Receiver, is a failure naming the event.
 */
export function fromOpenLineage(event: unknown, options: FromOpenLineageOptions = {}): Result<OpenLineageImport> {
  try {
    return { ok: true, value: importEvent(event, options) };
  } catch (error) {
    if (error instanceof RKInvalidInputError || error instanceof RKSizeLimitError) return { ok: false, error: asFailure(error) };
    return { ok: false, error: new RKInvalidInputError(OPERATION, 'event', error instanceof Error ? error.message : String(error)) };
  }
}

/** How an event is named in messages: `COMPLETE event of run <id> (job <ns>/<name>)`. */
export function describeEvent(event: unknown): string {
  const e = event as Partial<OpenLineageRunEvent> | null;
  if (!isObject(e)) return 'OpenLineage event';
  const type = typeof e.eventType === 'string' ? `${e.eventType} ` : '';
  const run = isObject(e.run) && typeof e.run.runId === 'string' ? ` of run ${e.run.runId}` : '';
  const job = isObject(e.job) && typeof e.job.namespace === 'string' && typeof e.job.name === 'string' ? ` (job ${e.job.namespace}/${e.job.name})` : '';
  return `OpenLineage ${type}event${run}${job}`;
}

function importEvent(event: unknown, options: FromOpenLineageOptions): OpenLineageImport {
  const bad = (field: string, what: string) => new RKInvalidInputError(OPERATION, `${describeEvent(event)}: ${field}`, what);
  if (!isObject(event)) throw bad('event', 'must be a JSON object (an OpenLineage RunEvent)');
  const e = event as Record<string, unknown>;
  if (e['run'] === undefined && (isObject(e['dataset']) || isObject(e['job']))) {
    return { kind: 'skipped', reason: `a ${isObject(e['dataset']) ? 'DatasetEvent' : 'JobEvent'} describes no run: nothing to record` };
  }
  if (!isObject(e['run']) || typeof e['run']['runId'] !== 'string' || e['run']['runId'] === '') throw bad('run.runId', 'is missing: a RunEvent needs run.runId (a UUID)');
  if (!isObject(e['job']) || !text(e['job']['namespace']) || !text(e['job']['name'])) throw bad('job', 'needs a namespace and a name (non-empty strings)');
  if (typeof e['eventTime'] !== 'string') throw bad('eventTime', 'is missing: give the time of the event as ISO 8601 with a time zone');
  const timestamp = timestampOf(e['eventTime']);
  if (timestamp === null) throw bad('eventTime', `must be an ISO 8601 date-time with a time zone (2026-12-07T10:00:00Z), got ${JSON.stringify(e['eventTime'])}`);
  if (typeof e['producer'] !== 'string' || e['producer'] === '') throw bad('producer', 'is missing: the spec requires the URI of the producer');
  const eventType = e['eventType'];
  if (eventType !== undefined && !(EVENT_TYPES as readonly unknown[]).includes(eventType)) {
    throw bad('eventType', `must be one of ${EVENT_TYPES.join(', ')}, got ${JSON.stringify(eventType)}`);
  }
  for (const list of ['inputs', 'outputs'] as const) {
    const datasets = e[list];
    if (datasets === undefined) continue;
    if (!Array.isArray(datasets)) throw bad(list, 'must be an array of datasets');
    datasets.forEach((d, i) => {
      if (!isObject(d) || !text(d['namespace']) || !text(d['name'])) throw bad(`${list}[${i}]`, 'needs a namespace and a name (non-empty strings)');
    });
  }
  for (const [where, facets] of [['run.facets', e['run']['facets']], ['job.facets', e['job']['facets']]] as const) {
    if (facets !== undefined && !isObject(facets)) throw bad(where, 'must be an object of facets');
  }
  const typed = event as OpenLineageRunEvent;
  const runId = typed.run.runId;
  if (eventType === 'ABORT') return { kind: 'skipped', reason: `run ${runId} was aborted: nothing happened to record` };
  if (eventType !== 'COMPLETE' && eventType !== 'FAIL') {
    options.runs?.fold(typed);
    return { kind: 'folded', runId, eventType: typeof eventType === 'string' ? eventType : 'OTHER' };
  }
  const merged = options.runs ? options.runs.complete(typed) : typed;
  const payload = pemOf(merged, eventType, timestamp);
  let pem: Pem;
  try {
    pem = Pem.from(payload);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw bad('mapped PEM', `${reason.replace(/^Reading PEM failed: /, '')}`);
  }
  const json = pem.toJSON();
  if (options.sizeLimit !== undefined) {
    const size = new TextEncoder().encode(JSON.stringify(json)).length;
    if (size > options.sizeLimit) throw new RKSizeLimitError(`${OPERATION} (${describeEvent(event)})`, size, options.sizeLimit);
  }
  return { kind: 'pem', pem: json, runId, eventType };
}

function pemOf(event: OpenLineageRunEvent, eventType: 'COMPLETE' | 'FAIL', timestamp: string): PemPayload {
  const runFacets: OpenLineageFacets = { ...(event.run.facets ?? {}) };
  const own = runFacets[PEM_FACET];
  const ID = pemIdOfRun(event.run.runId);
  const base = { ID, TimestampClient: timestamp, Version: '2.0.0' as const };
  const uses = dedupe((event.inputs ?? []).map((d) => artifactOf(d, 'inputFacets')));
  const produces = (event.outputs ?? []).map((d) => artifactOf(d, 'outputFacets'));
  if (isObject(own)) {
    // Written by toOpenLineage: the PEM it came from, plus whatever another tool added on the way.
    delete runFacets[PEM_FACET];
    delete runFacets['parent'];
    const properties = isObject(own['properties']) ? (own['properties'] as PemProperties) : {};
    const added = Object.keys(runFacets).length > 0 || eventType === 'FAIL';
    return {
      ...base,
      Type: String(own['type'] ?? event.job.name),
      Predecessor: typeof own['predecessor'] === 'string' ? own['predecessor'] : null,
      Emitter: String(own['emitter'] ?? event.job.namespace),
      Properties: added ? { ...properties, openlineage: { eventType, run: { facets: runFacets } } } : properties,
      Tag: String(own['tag'] ?? 'latest'),
      TagNamespace: String(own['tagNamespace'] ?? own['emitter'] ?? event.job.namespace),
      UsesArtifacts: uses,
      ProducesArtifacts: produces,
    };
  }
  const openlineage: Record<string, unknown> = {
    eventType,
    runId: event.run.runId,
    producer: event.producer,
    job: { namespace: event.job.namespace, name: event.job.name, ...(event.job.facets ? { facets: event.job.facets } : {}) },
    ...(Object.keys(runFacets).length ? { run: { facets: runFacets } } : {}),
  };
  return {
    ...base,
    Type: event.job.name,
    Predecessor: null,
    Emitter: event.job.namespace,
    Properties: { openlineage } as PemProperties,
    Tag: event.job.name,
    TagNamespace: event.job.namespace,
    UsesArtifacts: uses,
    ProducesArtifacts: produces,
  };
}

function artifactOf(dataset: OpenLineageDataset, ioFacets: 'inputFacets' | 'outputFacets'): Artifact {
  const facets: OpenLineageFacets = { ...(isObject(dataset.facets) ? dataset.facets : {}) };
  const own = facets[ARTIFACT_FACET];
  if (isObject(own) && typeof own['name'] === 'string') {
    return { Name: own['name'], Properties: stringRecord(own['properties']), CreatedAt: null };
  }
  const properties: Record<string, string> = { 'openlineage.namespace': dataset.namespace, 'openlineage.name': dataset.name };
  for (const [key, facet] of Object.entries(facets)) properties[`openlineage.facets.${key}`] = JSON.stringify(facet);
  const io = dataset[ioFacets];
  if (isObject(io)) for (const [key, facet] of Object.entries(io)) properties[`openlineage.${ioFacets}.${key}`] = JSON.stringify(facet);
  return { Name: nameOfDataset(dataset.namespace, dataset.name), Properties: properties, CreatedAt: null };
}

/** A repeated input is one use (RK's usesArtifact keeps the first). */
function dedupe(artifacts: Artifact[]): Artifact[] {
  const seen = new Set<string>();
  return artifacts.filter((a) => !seen.has(a.Name) && (seen.add(a.Name), true));
}

function stringRecord(value: unknown): Record<string, string> {
  if (!isObject(value)) return {};
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}
