import type { Result } from '../public.js';
import { stringFlag, type Context, type OptionSpec } from './command.js';
import { failWith, UsageError } from './exit.js';
import type { Column } from './output.js';
import { during, startProgress } from './progress.js';

/** The paging and sorting flags every listing takes; the library does the paging. */
export const PAGING_OPTIONS: Record<string, OptionSpec> = {
  limit: { type: 'string', value: '<n>', description: 'how many to show (default 20)' },
  page: { type: 'string', value: '<n>', description: 'which page of --limit items, from 0' },
  all: { type: 'boolean', description: 'every match, page after page (streamed; NDJSON with --json)' },
  'page-size': { type: 'string', value: '<n>', description: 'items per request with --all (default 100)' },
  sort: { type: 'string', value: '<field>', description: 'sort by this field' },
  desc: { type: 'boolean', description: 'sort descending (with --sort)' },
};

const DEFAULT_LIMIT = 20;
const DEFAULT_PAGE_SIZE = 100;

export interface Listing<T> {
  /** `[PEM, PEMs]`: for messages. */
  noun: readonly [string, string];
  columns: readonly Column[];
  row: (item: T) => string[];
  page: (paging: { pageIndex: number; pageSize: number }) => Promise<Result<T[]>>;
  /** How many match in all, for the "showing 20 of 57" line. */
  count?: () => Promise<Result<number>>;
}

export function wholeFlag(ctx: Context, name: string, min: number): number | undefined {
  const text = stringFlag(ctx.values, name);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min) throw new UsageError(`--${name} must be a whole number from ${min}, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** `{ sortField, sortOrder }` from --sort and --desc. */
export function sortOptions<F extends string>(ctx: Context): { sortField?: F; sortOrder?: 'asc' | 'desc' } {
  const field = stringFlag(ctx.values, 'sort');
  if (field === undefined) {
    if (ctx.values.desc) throw new UsageError('--desc needs --sort <field>');
    return {};
  }
  return { sortField: field as F, sortOrder: ctx.values.desc ? 'desc' : 'asc' };
}

function counted(n: number, noun: readonly [string, string]): string {
  return `${n} ${n === 1 ? noun[0] : noun[1]}`;
}

/** One page (--limit, --page) as a table or a JSON array, or every page (--all) streamed. */
export async function runListing<T>(ctx: Context, listing: Listing<T>, setting: { flag: string; env: string }): Promise<void> {
  const all = ctx.values.all === true;
  const limit = wholeFlag(ctx, 'limit', 1);
  const pageIndex = wholeFlag(ctx, 'page', 0);
  const pageSize = wholeFlag(ctx, 'page-size', 1);
  if (all && (limit !== undefined || pageIndex !== undefined)) throw new UsageError('--all lists every page; leave out --limit and --page (--page-size sets the request size)');
  if (!all && pageSize !== undefined) throw new UsageError('--page-size goes with --all; use --limit for one page');
  const out = ctx.out;
  if (!all) {
    const paging = { pageIndex: pageIndex ?? 0, pageSize: limit ?? DEFAULT_LIMIT };
    ctx.verbose(`listing ${listing.noun[1]}, page ${paging.pageIndex} of ${paging.pageSize}`);
    const result = await during(out.stderr, `Listing ${listing.noun[1]}...`, listing.page(paging));
    if (!result.ok) failWith(result.error, setting);
    if (out.json) {
      out.document(result.value);
      return;
    }
    if (!result.value.length) {
      out.line(paging.pageIndex ? `No ${listing.noun[1]} on page ${paging.pageIndex}.` : `No ${listing.noun[1]} match.`);
      return;
    }
    out.table(listing.columns, result.value.map(listing.row));
    const total = listing.count ? await during(out.stderr, `Counting ${listing.noun[1]}...`, listing.count()) : undefined;
    const first = paging.pageIndex * paging.pageSize;
    if (total?.ok) {
      const last = first + result.value.length;
      const shown = first === 0 && last === total.value ? counted(total.value, listing.noun) : `${first + 1}-${last} of ${counted(total.value, listing.noun)}`;
      const more = last < total.value ? `; next: --page ${paging.pageIndex + 1}, every page: --all` : '';
      out.line(out.paint('dim', `${shown}${more}`));
    }
    return;
  }
  const size = pageSize ?? DEFAULT_PAGE_SIZE;
  const progress = startProgress(out.stderr, `Listing ${listing.noun[1]}...`);
  let widths: number[] | undefined;
  let count = 0;
  try {
    for (let index = 0; ; index++) {
      ctx.verbose(`listing ${listing.noun[1]}, page ${index} of ${size}`);
      const result = await listing.page({ pageIndex: index, pageSize: size });
      if (!result.ok) {
        progress.stop();
        if (count) out.note(`${counted(count, listing.noun)} listed before the failure.`);
        failWith(result.error, setting);
      }
      progress.clear();
      if (out.json) for (const item of result.value) out.record(item);
      else if (result.value.length) {
        const rows = result.value.map(listing.row);
        const own = listing.columns.map((c, i) => Math.max(c.title.length, ...rows.map((r) => (r[i] ?? '').length)));
        if (!widths) widths = out.table(listing.columns, rows);
        else out.table(listing.columns, rows, (widths = widths.map((w, i) => Math.max(w, own[i] ?? 0))));
      }
      count += result.value.length;
      progress.update(`Listing ${listing.noun[1]}: ${count} so far...`);
      if (result.value.length < size) break;
    }
  } finally {
    progress.stop();
  }
  if (!out.json) out.line(out.paint('dim', count ? counted(count, listing.noun) : `No ${listing.noun[1]} match.`));
}
