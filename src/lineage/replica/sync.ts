import { asFailure, RKAbortError, RKError, RKInvalidInputError, type CallOptions, type Result, type StoredPem } from '../../public.js';
import type { LineagePemInput } from '../lineage-index.js';
import type { LineageSource } from '../loader.js';
import { wireSeconds } from '../time.js';
import type { ReplicaStore } from './store.js';

/**
 * One sync of the replica from a Query service, by the watermark `refresh()` uses (loader.ts
 * says why TimestampReceived and why an overlap): the first pass reads every PEM ascending by
 * TimestampReceived and records the next page with each page it stores, so a sync stopped
 * halfway continues at that page (offset paging ascending is safe: arrivals land after it).
 * Later syncs read newest first until a page reaches PEMs received more than `overlapSeconds`
 * before the watermark of the last completed pass; the watermark moves only when a pass
 * completes, so a refresh stopped halfway is read again from the old one. A service that
 * refuses the sort, or sends no TimestampReceived, is read in full each sync (`full-rescan`).
 */

export interface SyncOptions {
  /** Page size of the first pass; default 5000. */
  pageSize?: number;
  /** Page size of later syncs; default 1000. */
  refreshPageSize?: number;
  /** Seconds read again before the watermark; default 5 (as refresh()). */
  overlapSeconds?: number;
  signal?: AbortSignal;
  /** Called after each stored page. */
  onProgress?: (progress: { phase: 'load' | 'refresh'; read: number; added: number; pages: number }) => void;
  call?: CallOptions;
}

/** What one sync did. */
export interface SyncReport {
  phase: 'load' | 'refresh';
  strategy: 'received' | 'full-rescan';
  /** Whether the first pass had stopped before and this sync continued it (from `resumedAtPage`). */
  resumed: boolean;
  resumedAtPage: number;
  read: number;
  added: number;
  pages: number;
  /** The watermark after this sync. */
  watermark: string | null;
  /** PEMs in the replica after this sync. */
  size: number;
  tags: number | null;
  durationMs: number;
}

const OPERATION = 'Syncing the lineage replica';

/**
 * Brings the copy up to date from `source` by the watermark `refresh()` uses: the first pass
 * oldest first, resumable page by page; later passes newest first, back to the watermark.
 */
export async function syncReplica(store: ReplicaStore, source: LineageSource, options: SyncOptions = {}): Promise<Result<SyncReport>> {
  if (!source || typeof source.getPems !== 'function') return { ok: false, error: new RKInvalidInputError(OPERATION, 'source', 'must be an RKQuery (or have its getPems method)') };
  for (const [name, value, min] of [['pageSize', options.pageSize, 1], ['refreshPageSize', options.refreshPageSize, 1], ['overlapSeconds', options.overlapSeconds, 0]] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value >= min)) return { ok: false, error: new RKInvalidInputError(OPERATION, name, `must be a whole number from ${min}, got ${String(value)}`) };
  }
  const pageSize = options.pageSize ?? 5000;
  const refreshPageSize = options.refreshPageSize ?? 1000;
  const overlap = options.overlapSeconds ?? 5;
  const call: CallOptions = { ...options.call, ...(options.signal ? { signal: options.signal } : {}) };
  const started = performance.now();
  try {
    const state = await store.state();
    const report: SyncReport = {
      phase: state.phase === 'load' ? 'load' : 'refresh',
      strategy: state.strategy,
      resumed: state.phase === 'load' && state.nextPage > 0,
      resumedAtPage: state.phase === 'load' ? state.nextPage : 0,
      read: 0,
      added: 0,
      pages: 0,
      watermark: state.watermark,
      size: 0,
      tags: null,
      durationMs: 0,
    };
    const stored = async (pems: StoredPem[], next: Record<string, string | number | null>) => {
      if (options.signal?.aborted) throw new RKAbortError(OPERATION, options.signal.reason);
      report.read += pems.length;
      report.added += await store.addPage(pems as unknown as LineagePemInput[], next);
      report.pages++;
      options.onProgress?.({ phase: report.phase, read: report.read, added: report.added, pages: report.pages });
    };
    const read = async (pageIndex: number, size: number, order: 'asc' | 'desc' | null) => {
      const page = await Promise.resolve(source.getPems({ pageIndex, pageSize: size, ...(order ? { sortField: 'TimestampReceived', sortOrder: order } : {}) }, call)).catch(
        (cause: unknown): Result<StoredPem[]> => ({ ok: false, error: asFailure(cause instanceof RKError ? cause : new RKInvalidInputError(OPERATION, 'source', `rejected instead of resolving a Result: ${String(cause)}`)) }),
      );
      return page;
    };
    let strategy = state.strategy;
    if (state.phase === 'load' && strategy === 'received') {
      for (let pageIndex = state.nextPage; ; pageIndex++) {
        const page = await read(pageIndex, pageSize, 'asc');
        if (!page.ok) {
          if (page.error.kind === 'rejected' && pageIndex === 0) {
            strategy = 'full-rescan';
            break;
          }
          return page;
        }
        await stored(page.value, { nextPage: pageIndex + 1 });
        if (page.value.length < pageSize) break;
      }
      // PEMs without TimestampReceived give no watermark: every later sync reads in full.
      if (strategy === 'received' && (await store.count()) > 0 && (await store.latestReceived()) === null) strategy = 'full-rescan';
    } else if (strategy === 'received') {
      const watermark = wireSeconds(state.watermark ?? '');
      const threshold = Number.isNaN(watermark) ? -Infinity : watermark - overlap;
      for (let pageIndex = 0; ; pageIndex++) {
        const page = await read(pageIndex, refreshPageSize, 'desc');
        if (!page.ok) return page;
        await stored(page.value, {});
        const oldest = page.value[page.value.length - 1];
        if (page.value.length < refreshPageSize || !oldest || wireSeconds(oldest.TimestampReceived ?? '') < threshold) break;
      }
    }
    if (strategy === 'full-rescan') {
      report.strategy = strategy;
      for (let pageIndex = 0; ; pageIndex++) {
        const page = await read(pageIndex, pageSize, null);
        if (!page.ok) return page;
        await stored(page.value, {});
        if (page.value.length < pageSize) break;
      }
    }
    if (typeof source.getTags === 'function') {
      const tags = await source.getTags(call);
      if (!tags.ok) return tags;
      await store.setTags(tags.value);
      report.tags = tags.value.length;
    }
    if (report.added > 0) await store.analyze();
    // The pass is complete: only now does the watermark move.
    const watermark = await store.latestReceived();
    await store.addPage([], { phase: 'synced', strategy, watermark });
    report.watermark = watermark;
    report.size = await store.count();
    report.durationMs = performance.now() - started;
    return { ok: true, value: report };
  } catch (cause) {
    if (cause instanceof RKError) return { ok: false, error: asFailure(cause) };
    return { ok: false, error: new RKInvalidInputError(OPERATION, 'replica', cause instanceof Error ? cause.message : String(cause)) };
  }
}
