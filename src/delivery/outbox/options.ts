import { whole } from '../../core/checks.js';
import { runtimeProcess } from '../../core/environment.js';
import { RKInvalidInputError } from '../../core/errors.js';
import type { OutboxOptions } from '../../core/options.js';
import { MAX_TIMER_MS } from '../../resilience/clock.js';

/** The outbox's options, checked once when the client is made. */

export interface ResolvedOutboxOptions {
  dir: string;
  maxEntries: number;
  maxBytes: number;
  maxAgeMs: number;
  onFull: 'reject' | 'drop-oldest';
  concurrency: number;
  maxBackoffMs: number;
  pollIntervalMs: number;
  fsync: boolean;
  lockStaleMs: number;
  /** The drainer's first backoff (the client's retry.baseDelayMs). */
  baseDelayMs: number;
}

export const OUTBOX_DEFAULTS = Object.freeze({
  maxEntries: 100_000,
  maxBytes: 256 * 1024 * 1024,
  maxAgeMs: 7 * 24 * 60 * 60 * 1000,
  onFull: 'reject' as const,
  // Not the 8 of maxInFlight: the drainer shares those slots with live sends, so 4 leave half of
  // them to new PEMs' first attempts during a drain, and a backlog drains no faster at 8 (it is
  // bound by reading and removing the entries: BENCHMARKS.md, "What durability costs").
  concurrency: 4,
  maxBackoffMs: 300_000,
  pollIntervalMs: 1_000,
  fsync: true,
  lockStaleMs: 60_000,
});

export function resolveOutboxOptions(operation: string, options: OutboxOptions, baseDelayMs: number): ResolvedOutboxOptions {
  if (typeof options !== 'object' || options === null || typeof options.dir !== 'string' || options.dir.trim() === '') {
    throw new RKInvalidInputError(operation, 'outbox.dir', 'must be a folder path, for example { dir: "./rk-outbox" }');
  }
  const onFull = options.onFull ?? OUTBOX_DEFAULTS.onFull;
  if (onFull !== 'reject' && onFull !== 'drop-oldest') {
    throw new RKInvalidInputError(operation, 'outbox.onFull', `must be "reject" or "drop-oldest", got ${JSON.stringify(onFull)}`);
  }
  const n = (name: keyof typeof OUTBOX_DEFAULTS, min: number, max: number) =>
    whole(operation, `outbox.${name}`, options[name as keyof OutboxOptions] ?? OUTBOX_DEFAULTS[name], min, max);
  return {
    dir: absoluteDir(options.dir),
    maxEntries: n('maxEntries', 1, 1e9),
    maxBytes: n('maxBytes', 1, Number.MAX_SAFE_INTEGER),
    maxAgeMs: n('maxAgeMs', 1, Number.MAX_SAFE_INTEGER),
    onFull,
    concurrency: n('concurrency', 1, 64),
    maxBackoffMs: n('maxBackoffMs', 1, MAX_TIMER_MS),
    pollIntervalMs: n('pollIntervalMs', 1, MAX_TIMER_MS),
    fsync: options.fsync ?? OUTBOX_DEFAULTS.fsync,
    lockStaleMs: n('lockStaleMs', 1000, MAX_TIMER_MS),
    baseDelayMs,
  };
}


/**
 * The folder as an absolute, normalized path, as node:path's `resolve` makes it on POSIX, without
 * importing node:path: this module is part of the core client, which also loads in browsers.
 * Elsewhere (Windows, or no `process.cwd`) the path is kept as given; the file system resolves it.
 */
function absoluteDir(dir: string): string {
  const proc = runtimeProcess();
  if (proc?.platform === 'win32' || (!dir.startsWith('/') && typeof proc?.cwd !== 'function')) return dir;
  const parts: string[] = [];
  for (const part of `${dir.startsWith('/') ? '' : proc!.cwd!()}/${dir}`.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}
