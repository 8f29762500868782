import { RKAbortError } from './errors.js';
import type { CallOptions } from './options.js';
import type { Result } from './result.js';

/** Where a listing is: after each page. */
export interface PageProgress {
  /** Pages read so far (1 after the first). */
  pages: number;
  /** Items read so far. */
  items: number;
}

/** How an iterator reads its pages. */
export interface PageOptions {
  /** Items per request. Default 500. */
  pageSize?: number;
  /** Called after each page, before its items are yielded. */
  onProgress?: (progress: PageProgress) => void;
}

export const DEFAULT_PAGE_SIZE = 500;

/**
 * Every item of a paged listing, one page in memory at a time: page 0, 1, ... until a page comes
 * back shorter than `pageSize`. A failed page (after the call's retries) is thrown as its RKError;
 * `call.signal` stops the listing between pages and cancels the page in flight (RKAbortError).
 * Breaking out of the loop makes no further request.
 *
 * The page is let go item by item as it is yielded, and before the next request: a yielded item
 * the caller has dropped is garbage at once, and the parse of the next page never finds the last
 * one still alive (which would have it copied and promoted by every young-generation GC, and the
 * heap grown for it).
 */
export async function* pagesOf<T>(
  operation: string,
  pageSize: number,
  call: CallOptions | undefined,
  onProgress: PageOptions['onProgress'],
  page: (pageIndex: number) => Promise<Result<T[]>>,
): AsyncGenerator<T, void, undefined> {
  let items = 0;
  for (let index = 0; ; index++) {
    const signal = call?.signal;
    if (signal?.aborted) throw new RKAbortError(operation, signal.reason);
    let result: Result<T[]> | undefined = await page(index);
    if (!result.ok) throw result.error;
    let values: (T | undefined)[] | undefined = result.value;
    result = undefined;
    const count = values.length;
    items += count;
    onProgress?.({ pages: index + 1, items });
    for (let i = 0; i < count; i++) {
      const value = values[i] as T;
      values[i] = undefined;
      yield value;
    }
    values = undefined;
    if (count < pageSize) return;
  }
}
