import {
  asFailure,
  RKAbortError,
  RKError,
  RKInvalidInputError,
  type CallOptions,
  type PemFilters,
  type PemListOptions,
  type Result,
  type StoredPem,
  type TagRecord,
} from '../public.js';
import type { LineageIndex } from './lineage-index.js';
import { wireSeconds } from './time.js';

/**
 * Reads PEMs page by page from the Query API into a LineageIndex.
 *
 * Full load: `sortField=TimestampReceived&sortOrder=asc`, `concurrency` pages in flight. Arrivals
 * during the load land at the end (or, for a transaction that committed late, one place earlier),
 * so offset paging can repeat a PEM (ignored: the index keeps one per ID) but not skip one that
 * was stored before the load began.
 *
 * Refresh: newest first (`sortOrder=desc`) until a page reaches PEMs received more than
 * `overlapSeconds` before the watermark (the latest TimestampReceived seen). The watermark is the
 * Receiver's clock, not the emitters': a PEM that arrives late with an old TimestampClient still
 * has a new TimestampReceived, so it is found. The overlap covers PEMs whose transaction committed
 * after a later one's (their TimestampReceived is older than what was already visible) and the
 * one-second resolution. New arrivals during a refresh only push older PEMs to later pages.
 * A Query service that refuses the TimestampReceived sort (400), or whose PEMs do not carry
 * TimestampReceived (the reference client does not read it: it is this project's spec, not known
 * RK behaviour), is read in full each time (strategy `full-rescan`), adding the PEMs not yet known.
 */

/** Where RKLineage reads PEMs from: an RKQuery, or anything with its getPems (getPemsCount and getTags optional). */
export interface LineageSource {
  /** One page of stored PEMs, sorted and filtered as options say. */
  getPems(options?: PemListOptions, call?: CallOptions): Promise<Result<StoredPem[]>>;
  /** How many PEMs match the filters; lets a full load fetch pages in parallel and report a total. */
  getPemsCount?(filters?: PemFilters, call?: CallOptions): Promise<Result<number>>;
  /** Where each tag points now and since when (`/tags`); the only source of setTag moves. */
  getTags?(call?: CallOptions): Promise<Result<TagRecord[]>>;
}

/** Progress of a load or refresh, passed to LoadOptions.onProgress after each page. */
export interface LoadProgress {
  phase: 'load' | 'refresh';
  /** PEMs read so far in this call (including ones already known). */
  read: number;
  /** New PEMs added to the index so far in this call. */
  added: number;
  /** How many PEMs the service holds, when it said (load only). */
  total: number | null;
  pages: number;
}

/** Options of one load or refresh: an abort signal and a progress callback. */
export interface LoadOptions {
  signal?: AbortSignal;
  /** Called after each page with the PEMs read and added so far. */
  onProgress?: (progress: LoadProgress) => void;
}

/** What a load or refresh did: PEMs read, added and skipped, pages, time taken, and the new watermark. */
export interface LoadReport {
  phase: 'load' | 'refresh';
  strategy: 'received' | 'full-rescan';
  read: number;
  added: number;
  /** PEMs that could not be indexed, with the reason (never dropped silently). */
  skipped: Array<{ id: string | null; reason: string }>;
  pages: number;
  durationMs: number;
  /** The latest TimestampReceived in the index after this call. */
  watermark: string | null;
  /** How many tags `/tags` listed, or null when they were not read. */
  tags: number | null;
  /** PEMs in the index after this call. */
  size: number;
}

export interface LoaderSettings {
  pageSize: number;
  refreshPageSize: number;
  concurrency: number;
  overlapSeconds: number;
  readTags: boolean;
  call: CallOptions;
}

type Page = Result<StoredPem[]>;

export class LineageLoader {
  #strategy: 'received' | 'full-rescan' = 'received';
  #loaded = false;

  constructor(
    readonly source: LineageSource,
    readonly index: LineageIndex,
    readonly settings: LoaderSettings,
  ) {}

  get loaded(): boolean {
    return this.#loaded;
  }

  async load(options: LoadOptions = {}): Promise<Result<LoadReport>> {
    return this.#run('load', options, async (report, call, progress) => {
      let total: number | null = null;
      if (this.source.getPemsCount) {
        const count = await settle(this.source.getPemsCount({}, call), 'Loading lineage index');
        if (count.ok) total = count.value;
      }
      progress(total);
      const sorted = await this.#readAll(report, call, () => progress(total), { sortField: 'TimestampReceived', sortOrder: 'asc' });
      if (sorted === 'unsupported') {
        this.#strategy = 'full-rescan';
        report.strategy = 'full-rescan';
        return this.#readAll(report, call, () => progress(total), {});
      }
      // A service whose PEMs carry no TimestampReceived gives no watermark: refresh reads everything.
      if (sorted === undefined && this.index.size > 0 && this.index.maxReceived === null) {
        this.#strategy = 'full-rescan';
        report.strategy = 'full-rescan';
      }
      return sorted;
    });
  }

  async refresh(options: LoadOptions = {}): Promise<Result<LoadReport>> {
    if (!this.#loaded) return this.load(options);
    return this.#run('refresh', options, async (report, call, progress) => {
      report.strategy = this.#strategy;
      if (this.#strategy === 'full-rescan') return this.#readAll(report, call, () => progress(null), {});
      const watermark = wireSeconds(this.index.maxReceived ?? '');
      const threshold = Number.isNaN(watermark) ? -Infinity : watermark - this.settings.overlapSeconds;
      const pageSize = this.settings.refreshPageSize;
      for (let pageIndex = 0; ; pageIndex++) {
        if (call.signal?.aborted) return new RKAbortError('Refreshing lineage index', call.signal.reason);
        const page = await settle(this.source.getPems({ pageIndex, pageSize, sortField: 'TimestampReceived', sortOrder: 'desc' }, call), 'Refreshing lineage index');
        if (!page.ok) return page.error;
        report.pages++;
        this.#take(page.value, report);
        progress(null);
        const oldest = page.value[page.value.length - 1];
        // A real RK need not send TimestampReceived (the reference never reads it): then no page is known to be older.
        if (page.value.length < pageSize || oldest?.TimestampReceived === undefined || wireSeconds(oldest.TimestampReceived) < threshold) return undefined;
      }
    });
  }

  async #run(
    phase: 'load' | 'refresh',
    options: LoadOptions,
    work: (report: LoadReport, call: CallOptions, progress: (total: number | null) => void) => Promise<RKError | undefined | 'unsupported'>,
  ): Promise<Result<LoadReport>> {
    const operation = phase === 'load' ? 'Loading lineage index' : 'Refreshing lineage index';
    if (options === null || typeof options !== 'object') {
      return { ok: false, error: new RKInvalidInputError(operation, 'options', 'must be an object like { onProgress }') };
    }
    if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
      return { ok: false, error: new RKInvalidInputError(operation, 'onProgress', 'must be a function') };
    }
    const started = performance.now();
    const report: LoadReport = { phase, strategy: this.#strategy, read: 0, added: 0, skipped: [], pages: 0, durationMs: 0, watermark: null, tags: null, size: 0 };
    const call: CallOptions = { ...this.settings.call };
    const signal = options.signal ?? this.settings.call.signal;
    if (signal?.aborted) return { ok: false, error: new RKAbortError(operation, signal.reason) };
    // One signal for every request of this call: the caller's, or a callback that threw.
    const stop = new AbortController();
    const forward = () => stop.abort(signal?.reason);
    signal?.addEventListener('abort', forward, { once: true });
    call.signal = stop.signal;
    let thrown: { error: unknown } | undefined;
    const progress = (total: number | null) => {
      if (thrown) return;
      try {
        options.onProgress?.({ phase, read: report.read, added: report.added, total, pages: report.pages });
      } catch (error) {
        thrown = { error };
        stop.abort(error);
      }
    };
    let error: RKError | undefined | 'unsupported';
    try {
      error = await work(report, call, progress);
    } catch (cause) {
      error = rejected(cause, operation);
    } finally {
      signal?.removeEventListener('abort', forward);
    }
    if (thrown) {
      const reason = thrown.error instanceof Error ? thrown.error.message : String(thrown.error);
      return { ok: false, error: new RKInvalidInputError(operation, 'onProgress', `threw, so loading stopped: ${reason}`) };
    }
    if (error instanceof RKError) return { ok: false, error: asFailure(error) };
    if (this.settings.readTags && this.source.getTags) {
      const tags = await settle(this.source.getTags(call), operation);
      if (!tags.ok) return tags;
      this.index.setCurrentTags(tags.value);
      report.tags = tags.value.length;
    }
    this.#loaded = true;
    report.watermark = this.index.maxReceived;
    report.size = this.index.size;
    report.durationMs = performance.now() - started;
    return { ok: true, value: report };
  }

  /** Every page in `order`, `concurrency` at a time; 'unsupported' when the sort is refused. */
  async #readAll(report: LoadReport, call: CallOptions, progress: () => void, order: Pick<PemListOptions, 'sortField' | 'sortOrder'>): Promise<RKError | undefined | 'unsupported'> {
    const { pageSize, concurrency } = this.settings;
    const inFlight: Array<Promise<Page>> = [];
    let next = 0;
    const request = () => settle(this.source.getPems({ pageIndex: next++, pageSize, ...order }, call), 'Loading lineage index');
    for (let i = 0; i < concurrency; i++) inFlight.push(request());
    for (;;) {
      const page = await inFlight.shift()!;
      if (!page.ok) {
        await Promise.allSettled(inFlight);
        if (order.sortField && page.error.kind === 'rejected' && report.pages === 0) return 'unsupported';
        return page.error;
      }
      report.pages++;
      this.#take(page.value, report);
      progress();
      if (page.value.length < pageSize) {
        // The last page: later requests (past the end) are empty; wait for them and stop.
        const rest = await Promise.all(inFlight);
        for (const extra of rest) if (extra.ok) this.#take(extra.value, report);
        return undefined;
      }
      if (call.signal?.aborted) {
        await Promise.allSettled(inFlight);
        return new RKAbortError('Loading lineage index', call.signal.reason);
      }
      inFlight.push(request());
    }
  }

  #take(pems: readonly StoredPem[], report: LoadReport): void {
    report.read += pems.length;
    for (const pem of pems) {
      try {
        if (this.index.add(pem)) report.added++;
      } catch (error) {
        report.skipped.push({ id: typeof pem?.ID === 'string' ? pem.ID : null, reason: error instanceof Error ? error.message : String(error) });
      }
    }
  }
}

/** RKQuery never rejects; a hand-made source might. Its failure is still a Result here. */
function rejected(cause: unknown, operation: string): RKError {
  return cause instanceof RKError
    ? cause
    : new RKInvalidInputError(operation, 'source', `rejected instead of resolving a Result: ${cause instanceof Error ? cause.message : String(cause)}`);
}

function settle<T>(pending: Promise<Result<T>>, operation: string): Promise<Result<T>> {
  return Promise.resolve(pending).catch((cause: unknown) => ({ ok: false as const, error: asFailure(rejected(cause, operation)) }));
}
