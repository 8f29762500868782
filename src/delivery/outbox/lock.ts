import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isCode, processAlive } from './store.js';

/**
 * One drainer per outbox folder: `outbox.lock`, created with O_EXCL, names its holder (host, pid,
 * the process's start time, a random token). A lock is taken over when its holder is gone: on this
 * host when the process no longer exists (or the PID now belongs to a process that started later);
 * from another host when the holder stopped refreshing the file for `staleMs`.
 *
 * Two drainers at once (a takeover race) would cost duplicate requests, never a lost or doubled
 * PEM: the Receiver stores an identical resend once. Each holder re-reads the lock before every
 * pass and stops when it is no longer its own.
 */
export const LOCK_FILE = 'outbox.lock';

/** Tokens of the locks this process holds now. */
const liveTokens = new Set<string>();

interface Holder {
  host: string;
  pid: number;
  /** /proc start time of the holder, when the platform has one: tells a reused PID apart. */
  started: string | undefined;
  token: string;
}

export class OutboxLock {
  readonly path: string;
  readonly #token: string;
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  private constructor(path: string, token: string, heartbeatMs: number) {
    this.path = path;
    this.#token = token;
    liveTokens.add(token);
    // Real time on purpose: other hosts judge staleness by the file's mtime, which is real time.
    this.#heartbeat = setInterval(() => {
      const now = new Date();
      utimes(this.path, now, now).catch(() => {});
    }, heartbeatMs);
    this.#heartbeat.unref();
  }

  /** The lock, or undefined when a live holder has it. */
  static async acquire(dir: string, options: { staleMs: number }): Promise<OutboxLock | undefined> {
    const path = join(dir, LOCK_FILE);
    const me: Holder = { host: hostname(), pid: process.pid, started: startTimeOf(process.pid), token: randomUUID() };
    for (let round = 0; round < 2; round++) {
      try {
        await writeFile(path, JSON.stringify(me), { flag: 'wx', mode: 0o600 });
      } catch (error) {
        if (!isCode(error, 'EEXIST')) throw error;
        if (!(await isStale(path, options.staleMs))) return undefined;
        await unlink(path).catch(() => {});
        continue;
      }
      const lock = new OutboxLock(path, me.token, Math.max(1000, Math.floor(options.staleMs / 3)));
      if (await lock.held()) return lock;
      lock.#stopHeartbeat();
      return undefined;
    }
    return undefined;
  }

  /** Whether the lock file still names this holder. */
  async held(): Promise<boolean> {
    const holder = await readHolder(this.path);
    return holder !== undefined && holder.token === this.#token;
  }

  async release(): Promise<void> {
    this.#stopHeartbeat();
    if (await this.held()) await unlink(this.path).catch(() => {});
  }

  #stopHeartbeat(): void {
    liveTokens.delete(this.#token);
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }
}

async function readHolder(path: string): Promise<Holder | undefined> {
  try {
    const holder = JSON.parse(await readFile(path, 'utf8')) as Partial<Holder>;
    if (typeof holder.host !== 'string' || typeof holder.pid !== 'number' || typeof holder.token !== 'string') return undefined;
    return { host: holder.host, pid: holder.pid, token: holder.token, started: typeof holder.started === 'string' ? holder.started : undefined };
  } catch {
    return undefined;
  }
}

async function isStale(path: string, staleMs: number): Promise<boolean> {
  const [holder, info] = await Promise.all([readHolder(path), stat(path).catch(() => undefined)]);
  if (!info) return true; // gone already: try again
  const quiet = Date.now() - info.mtimeMs > staleMs;
  // Unreadable: being written right now, or garbage. Only age decides.
  if (!holder) return quiet;
  if (holder.host !== hostname()) return quiet;
  // Our own PID: held by another client in this process, or left by an earlier incarnation (a
  // restarted container reuses PIDs).
  if (holder.pid === process.pid) return !liveTokens.has(holder.token);
  if (!processAlive(holder.pid)) return true;
  const started = startTimeOf(holder.pid);
  return holder.started !== undefined && started !== undefined && started !== holder.started;
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); undefined off Linux. */
function startTimeOf(pid: number): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}
