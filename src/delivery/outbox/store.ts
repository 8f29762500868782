import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { redact } from '../../core/redact.js';
import { isHexId } from '../../wire/ids.js';

/**
 * The outbox on disk: one file per PEM, written so that a file under its final name is always
 * complete (temporary file, fsync, atomic rename, fsync of the folder), and removed only after the
 * Receiver acknowledged it. Names sort in arrival order, so listing the folder is the FIFO.
 *
 *   <dir>/000001764280000123-0000004242-00000007-<ID>.pem   an entry
 *   <dir>/.tmp-<pid>-<random>                               a write in progress
 *   <dir>/dead/<entry>.pem + <entry>.pem.reason.json        a dead letter and why
 *   <dir>/outbox.lock                                       the drainer's lock (outbox-lock.ts)
 *
 * An entry is a header line, then the PEM's exact JSON bytes:
 *   RKPEM/1 <sha256 of the body, hex> <body length in bytes> <enqueued at, ms since epoch>\n<body>
 * so a torn or altered file is recognised instead of sent.
 */

export const ENTRY_SUFFIX = '.pem';
const TEMP_PREFIX = '.tmp-';
const REASON_SUFFIX = '.reason.json';
const MAGIC = 'RKPEM/1';
/** Owner only: entries and reasons may carry what the service and its servers said. */
const FOLDER_MODE = 0o700;
const FILE_MODE = 0o600;
const ENTRY_NAME = /^(\d{18})-(\d{10})-(\d{8})-([0-9a-f]{32})\.pem$/;

export interface StoredEntry {
  name: string;
  ID: string;
  body: string;
  enqueuedAt: number;
  bytes: number;
}

export type ReadOutcome =
  | { state: 'ok'; entry: StoredEntry }
  | { state: 'gone' }
  | { state: 'corrupt'; problem: string };

export interface DeadReason {
  reason: string;
  message: string;
  status?: number | undefined;
}

/** A PEM the outbox gave up on, with why. */
export interface DeadLetter {
  /** The file name inside `<dir>/dead/`; pass it to replay or purge. */
  file: string;
  /** The PEM ID, when the file name carries one. */
  ID: string | undefined;
  /** `rejected`, `too_large`, `corrupt`, `expired`, ... */
  reason: string;
  message: string;
  status: number | undefined;
  /** When it was moved to dead/ (ISO 8601). */
  deadAt: string | undefined;
}

export class OutboxStore {
  readonly dir: string;
  readonly deadDir: string;
  readonly #fsync: boolean;
  readonly #dirSync: GroupSync;
  #seq = 0;

  constructor(dir: string, options: { fsync: boolean; onSyncError: (error: unknown) => void }) {
    this.dir = dir;
    this.deadDir = join(dir, 'dead');
    this.#fsync = options.fsync;
    this.#dirSync = new GroupSync(() => syncDirectory(this.dir), options.onSyncError);
  }

  /**
   * Creates the folders readable by their owner only (entries hold PEMs, reasons hold what servers
   * said). Resolves with the folders that already existed with wider modes, for a warning: their
   * modes are the operator's to change.
   */
  async init(): Promise<{ path: string; mode: number }[]> {
    await mkdir(this.deadDir, { recursive: true, mode: FOLDER_MODE });
    if (process.platform === 'win32') return [];
    const wide: { path: string; mode: number }[] = [];
    for (const path of [this.dir, this.deadDir]) {
      const mode = (await stat(path)).mode & 0o777;
      if (mode & 0o077) wide.push({ path, mode });
    }
    return wide;
  }

  /** A new entry's name: it sorts after every entry named before it (by this or another process). */
  nameFor(id: string, enqueuedAt: number): string {
    // The only part of a name that comes from a PEM is its ID, and only when it is 32 hex digits:
    // nothing a caller passes can make a path outside the folder.
    if (!isHexId(id)) throw new Error('outbox: an entry needs a PEM ID of 32 lowercase hex digits');
    return `${pad(Math.max(0, Math.floor(enqueuedAt)), 18)}-${pad(process.pid, 10)}-${pad(this.#seq++ % 1e8, 8)}-${id}${ENTRY_SUFFIX}`;
  }

  /**
   * Writes the PEM durably under `name` (from nameFor); resolves with its size once the file and
   * its name are on disk.
   */
  async write(name: string, body: string, enqueuedAt: number): Promise<{ name: string; bytes: number }> {
    const bodyBytes = Buffer.from(body, 'utf8');
    const header = `${MAGIC} ${sha256(bodyBytes)} ${bodyBytes.length} ${Math.floor(enqueuedAt)}\n`;
    const data = Buffer.concat([Buffer.from(header, 'utf8'), bodyBytes]);
    const temp = join(this.dir, `${TEMP_PREFIX}${process.pid}-${Math.random().toString(36).slice(2)}`);
    const handle = await open(temp, 'wx', FILE_MODE);
    try {
      await handle.writeFile(data);
      if (this.#fsync) await handle.sync();
    } catch (error) {
      await handle.close().catch(() => {});
      await unlink(temp).catch(() => {});
      throw error;
    }
    await handle.close();
    await rename(temp, join(this.dir, name));
    if (this.#fsync) await this.#dirSync.sync();
    return { name, bytes: data.length };
  }

  /** Entry names, oldest first. */
  async list(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names.filter((name) => name.endsWith(ENTRY_SUFFIX) && !name.startsWith('.')).sort();
  }

  /** Every entry with its size in bytes (entries that vanish while scanning are left out). */
  async scan(): Promise<Map<string, number>> {
    const sizes = new Map<string, number>();
    for (const name of await this.list()) {
      const size = await this.sizeOf(name);
      if (size !== undefined) sizes.set(name, size);
    }
    return sizes;
  }

  async sizeOf(name: string): Promise<number | undefined> {
    return stat(join(this.dir, name)).then((s) => s.size, () => undefined);
  }

  async read(name: string): Promise<ReadOutcome> {
    let data: Buffer;
    try {
      data = await readFile(join(this.dir, name));
    } catch (error) {
      if (isCode(error, 'ENOENT')) return { state: 'gone' };
      return { state: 'corrupt', problem: `cannot be read (${codeOf(error)})` };
    }
    return parseEntry(name, data);
  }

  /** True when this call removed it (false: already gone, e.g. removed by another client). */
  async remove(name: string): Promise<boolean> {
    try {
      await unlink(join(this.dir, name));
      return true;
    } catch (error) {
      if (isCode(error, 'ENOENT')) return false;
      throw error;
    }
  }

  /**
   * Moves the entry to dead/, then records why. False when it was already gone (another client
   * sent or buried it): then nothing is touched, least of all that client's reason file.
   */
  async bury(name: string, why: DeadReason, now: number): Promise<boolean> {
    try {
      await rename(join(this.dir, name), join(this.deadDir, name));
    } catch (error) {
      if (isCode(error, 'ENOENT')) return false;
      throw error;
    }
    const reason = { ...why, deadAt: new Date(now).toISOString() };
    // The reason is scrubbed here too, whoever made it: it outlives the process that wrote it.
    const text = redact(JSON.stringify(reason, null, 2));
    await writeFile(join(this.deadDir, name + REASON_SUFFIX), text + '\n', { mode: FILE_MODE });
    return true;
  }

  /** Removes temporary files left by processes that are gone (a crash during a write). */
  async removeLeftoverTemps(): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      if (!name.startsWith(TEMP_PREFIX)) continue;
      const pid = Number(/^\.tmp-(\d+)-/.exec(name)?.[1]);
      if (pid === process.pid || (Number.isInteger(pid) && pid > 0 && processAlive(pid))) continue;
      if (await unlink(join(this.dir, name)).then(() => true, () => false)) removed++;
    }
    return removed;
  }

  async deadLetters(): Promise<DeadLetter[]> {
    const names = (await readdir(this.deadDir).catch(() => [] as string[])).filter((n) => n.endsWith(ENTRY_SUFFIX)).sort();
    const letters: DeadLetter[] = [];
    for (const file of names) {
      const reason = await readFile(join(this.deadDir, file + REASON_SUFFIX), 'utf8').then(
        (text) => JSON.parse(text) as Partial<DeadReason & { deadAt: string }>,
        () => ({}) as Partial<DeadReason & { deadAt: string }>,
      );
      letters.push({
        file,
        ID: idOfName(file),
        reason: typeof reason.reason === 'string' ? reason.reason : 'unknown',
        message: typeof reason.message === 'string' ? reason.message : '',
        status: typeof reason.status === 'number' ? reason.status : undefined,
        deadAt: typeof reason.deadAt === 'string' ? reason.deadAt : undefined,
      });
    }
    return letters;
  }

  async deadCount(): Promise<number> {
    return (await readdir(this.deadDir).catch(() => [] as string[])).filter((n) => n.endsWith(ENTRY_SUFFIX)).length;
  }

  /** Moves dead letters back into the outbox (all, or the named files); resolves with how many. */
  async replay(files?: readonly string[]): Promise<string[]> {
    const replayed: string[] = [];
    for (const file of await this.#select(files)) {
      const moved = await rename(join(this.deadDir, file), join(this.dir, file)).then(() => true, () => false);
      if (!moved) continue;
      await unlink(join(this.deadDir, file + REASON_SUFFIX)).catch(() => {});
      replayed.push(file);
    }
    if (replayed.length && this.#fsync) await this.#dirSync.sync();
    return replayed;
  }

  /** Deletes dead letters (all, or the named files); resolves with how many. */
  async purge(files?: readonly string[]): Promise<number> {
    let purged = 0;
    for (const file of await this.#select(files)) {
      if (await unlink(join(this.deadDir, file)).then(() => true, () => false)) purged++;
      await unlink(join(this.deadDir, file + REASON_SUFFIX)).catch(() => {});
    }
    return purged;
  }

  async #select(files: readonly string[] | undefined): Promise<string[]> {
    const present = (await readdir(this.deadDir).catch(() => [] as string[])).filter((n) => n.endsWith(ENTRY_SUFFIX));
    if (files === undefined) return present.sort();
    const wanted = new Set(files);
    return present.filter((name) => wanted.has(name)).sort();
  }
}

/** The PEM ID in an entry name. */
export function idOfName(name: string): string | undefined {
  return ENTRY_NAME.exec(name)?.[4];
}

export function parseEntry(name: string, bytes: Uint8Array): ReadOutcome {
  // Uint8Array in the signature: the declarations must compile without @types/node.
  const data = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const newline = data.indexOf(0x0a);
  if (newline < 0) return { state: 'corrupt', problem: 'has no header line (torn write?)' };
  const header = data.subarray(0, newline).toString('utf8').split(' ');
  const [magic, digest, length, at] = header;
  if (header.length !== 4 || magic !== MAGIC || !digest || !length || !at || !/^\d+$/.test(length) || !/^\d+$/.test(at)) {
    return { state: 'corrupt', problem: 'has an unreadable header' };
  }
  const body = data.subarray(newline + 1);
  if (body.length !== Number(length)) {
    return { state: 'corrupt', problem: `holds ${body.length} bytes of the ${length} its header announces (torn write?)` };
  }
  if (sha256(body) !== digest) return { state: 'corrupt', problem: 'does not match its checksum' };
  const text = body.toString('utf8');
  let id: unknown;
  try {
    id = (JSON.parse(text) as { ID?: unknown }).ID;
  } catch {
    return { state: 'corrupt', problem: 'is not JSON' };
  }
  if (!isHexId(id)) return { state: 'corrupt', problem: 'holds no valid PEM ID' };
  const named = idOfName(name);
  if (named !== undefined && named !== id) return { state: 'corrupt', problem: `holds PEM ${id}, its name says ${named}` };
  return { state: 'ok', entry: { name, ID: id, body: text, enqueuedAt: Number(at), bytes: data.length } };
}

/** Whether a process with this ID exists (EPERM: it does, under another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isCode(error, 'EPERM');
  }
}

export function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

function codeOf(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : String(error);
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Group commit: callers that arrive while a sync runs share the next one, which starts after the
 * current one ends (so it covers their renames). 100 concurrent writes cost ~2 folder fsyncs, not 100.
 */
class GroupSync {
  readonly #run: () => Promise<void>;
  readonly #onError: (error: unknown) => void;
  #running: Promise<void> | undefined;
  #queued: Promise<void> | undefined;

  constructor(run: () => Promise<void>, onError: (error: unknown) => void) {
    this.#run = run;
    this.#onError = onError;
  }

  sync(): Promise<void> {
    if (!this.#running) return this.#start();
    this.#queued ??= this.#running.then(() => {
      this.#queued = undefined;
      return this.#start();
    });
    return this.#queued;
  }

  #start(): Promise<void> {
    const current: Promise<void> = this.#run()
      .catch((error: unknown) => this.#onError(error))
      .finally(() => {
        if (this.#running === current) this.#running = undefined;
      });
    this.#running = current;
    return current;
  }
}
