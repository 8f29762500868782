import type { DeadLetter } from './store.js';
import type { DurableOutcome, Outbox as FileOutbox, OutboxControl, OutboxDeps, OutboxStats } from './outbox.js';
import type { ResolvedOutboxOptions } from './options.js';

export type { OutboxControl, OutboxStats } from './outbox.js';

/**
 * The durable outbox, loaded on first use: the outbox needs a file system (node:fs, node:path,
 * node:os, node:crypto), and a static import would put those into every bundle of the client,
 * where a browser or an edge runtime cannot load them. This stands in for the real Outbox with
 * the same members delivery.ts uses, forwarding each once the module has loaded. Where it cannot
 * load, `ready` rejects with a message that says so, and the client sends without an outbox
 * (delivery.ts warns once).
 */
export class Outbox implements OutboxControl {
  readonly dir: string;
  readonly options: ResolvedOutboxOptions;
  readonly ready: Promise<void>;
  #real: FileOutbox | undefined;
  readonly #loaded: Promise<FileOutbox>;

  constructor(options: ResolvedOutboxOptions, deps: OutboxDeps) {
    this.options = options;
    this.dir = options.dir;
    this.#loaded = import('./outbox.js').then(
      (module) => (this.#real = new module.Outbox(options, deps)),
      (error: unknown) => {
        throw new Error(
          `the durable outbox needs a file system (node:fs), which this runtime cannot load (${error instanceof Error ? error.message : String(error)}); ` +
            'leave out the outbox option here, or run where Node.js, Bun or Deno provide one',
          { cause: error },
        );
      },
    );
    this.ready = this.#loaded.then((real) => real.ready);
    this.#loaded.catch(() => {}); // `ready` carries the failure; this copy must not be reported as unhandled
  }

  /** True until the real outbox knows the Receiver is failing. */
  get healthy(): boolean {
    return this.#real?.healthy ?? true;
  }

  /** What this client believes is waiting. */
  get knownEntries(): number {
    return this.#real?.knownEntries ?? 0;
  }

  /** The drainer's members delivery.ts uses. */
  get drainer(): { nudge(): void; readonly holdsLock: boolean } {
    const real = this.#real;
    return { nudge: () => real?.drainer.nudge(), holdsLock: real?.drainer.holdsLock ?? false };
  }

  async send(...args: Parameters<FileOutbox['send']>): Promise<DurableOutcome | undefined> {
    try {
      await this.ready;
    } catch {
      return undefined;
    }
    return this.#real!.send(...args);
  }

  stats(): OutboxStats {
    return (
      this.#real?.stats() ?? { dir: this.dir, entries: 0, bytes: 0, dead: 0, draining: false, paused: undefined, backoffMs: 0, consecutiveFailures: 0 }
    );
  }

  async stop(): Promise<void> {
    const real = await this.#loaded.catch(() => undefined);
    await real?.stop();
  }

  async deadLetters(): Promise<DeadLetter[]> {
    return (await this.#loaded).deadLetters();
  }

  async replay(files?: readonly string[]): Promise<number> {
    return (await this.#loaded).replay(files);
  }

  async purge(files?: readonly string[]): Promise<number> {
    return (await this.#loaded).purge(files);
  }

  resume(): void {
    this.#real?.resume();
  }

  /** Entries waiting; none where the outbox could not load (flush and close ask, and must not reject). */
  async size(): Promise<number> {
    const real = await this.#loaded.catch(() => undefined);
    return real ? real.size() : 0;
  }
}
