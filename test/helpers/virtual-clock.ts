import type { Clock } from '../../src/resilience/clock.js';

interface Timer {
  due: number;
  seq: number;
  kind: 'sleep' | 'timeout';
  fire: () => void;
}

/**
 * Virtual time for the delivery layer. Nothing happens until time moves:
 * - `advance(ms)` / `advanceTo(t)` move it by hand, firing every timer due on the way, in order;
 * - with `auto: true`, each sleep moves time to the earliest pending sleep as soon as the event
 *   loop has run once (like a paused runtime that auto-advances). Deadlines (`timeout`) never move
 *   time by themselves: they fire only when sleeps or `advance` carry time past them, so a request
 *   in flight on a real socket is never cut short by virtual time racing ahead.
 */
export class VirtualClock implements Clock {
  #now: number;
  readonly #auto: boolean;
  #seq = 0;
  #timers: Timer[] = [];
  /** Every sleep requested, in ms, in order: the delays the code chose. */
  readonly sleeps: number[] = [];

  constructor(options: { start?: number; auto?: boolean } = {}) {
    this.#now = options.start ?? 0;
    this.#auto = options.auto ?? false;
  }

  now(): number {
    return this.#now;
  }

  /** Sleeps pending right now. */
  get pendingSleeps(): number {
    return this.#timers.filter((t) => t.kind === 'sleep').length;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const timer: Timer = {
        due: this.#now + Math.max(0, ms),
        seq: this.#seq++,
        kind: 'sleep',
        fire: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.#remove(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#add(timer);
      if (this.#auto) setImmediate(() => void this.#autoStep());
    });
  }

  timeout(ms: number, cancel?: AbortSignal): AbortSignal {
    const controller = new AbortController();
    if (cancel?.aborted) return controller.signal;
    const timer: Timer = {
      due: this.#now + Math.max(0, ms),
      seq: this.#seq++,
      kind: 'timeout',
      fire: () => {
        cancel?.removeEventListener('abort', onCancel);
        controller.abort(new DOMException(`The operation timed out after ${ms} ms`, 'TimeoutError'));
      },
    };
    const onCancel = () => this.#remove(timer);
    cancel?.addEventListener('abort', onCancel, { once: true });
    this.#add(timer);
    return controller.signal;
  }

  advance(ms: number): Promise<void> {
    return this.advanceTo(this.#now + ms);
  }

  /** Moves time to `t`, firing due timers one by one and letting their continuations run between. */
  async advanceTo(t: number): Promise<void> {
    for (;;) {
      const next = this.#timers[0];
      if (!next || next.due > t) break;
      this.#timers.shift();
      this.#now = Math.max(this.#now, next.due);
      next.fire();
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.#now = Math.max(this.#now, t);
  }

  async #autoStep(): Promise<void> {
    const next = this.#timers.find((t) => t.kind === 'sleep');
    if (next) await this.advanceTo(next.due);
  }

  #add(timer: Timer): void {
    this.#timers.push(timer);
    this.#timers.sort((a, b) => a.due - b.due || a.seq - b.seq);
  }

  #remove(timer: Timer): void {
    const index = this.#timers.indexOf(timer);
    if (index >= 0) this.#timers.splice(index, 1);
  }
}

/** Polls `condition` in real time until it holds; throws after `timeoutMs` (a hang guard, not a speed assertion). */
export async function until(condition: () => boolean | Promise<boolean>, what = 'condition', timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`until: ${what} did not hold within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
