import { linkSignals } from './signals.js';

/**
 * At most `limit` holders at a time; waiters are served first come, first served. A waiter whose
 * signal aborts leaves the line without taking a slot. The line is a queue with a moving head, so
 * a burst of 10 000 waiters costs O(1) per grant; a waiter's listeners go when it leaves.
 */
export class Limiter {
  readonly limit: number;
  #active = 0;
  #waiters: Waiter[] = [];
  #head = 0;
  #waiting = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    return this.#waiting;
  }

  /** Resolves with a release function once a slot is free; rejects with the first aborting signal's reason. */
  acquire(signal?: AbortSignal | readonly AbortSignal[]): Promise<() => void> {
    const signals: readonly AbortSignal[] = signal === undefined ? [] : signal instanceof AbortSignal ? [signal] : signal;
    for (const s of signals) if (s.aborted) return Promise.reject(s.reason);
    if (this.#active < this.limit && this.#waiting === 0) {
      this.#active++;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        live: true,
        grant: () => {
          waiter.unlink();
          this.#active++;
          resolve(this.#releaser());
        },
        unlink: () => {},
      };
      waiter.unlink = linkSignals(signals, (reason) => {
        if (!waiter.live) return;
        waiter.live = false;
        this.#waiting--;
        reject(reason);
      });
      this.#waiters.push(waiter);
      this.#waiting++;
    });
  }

  #next(): Waiter | undefined {
    while (this.#head < this.#waiters.length) {
      const waiter = this.#waiters[this.#head++]!;
      if (waiter.live) {
        waiter.live = false;
        this.#waiting--;
        this.#compact();
        return waiter;
      }
    }
    this.#compact();
    return undefined;
  }

  /** Drops the served part of the line now and then. */
  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#waiters.length) {
      this.#waiters = this.#waiters.slice(this.#head);
      this.#head = 0;
    }
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#active--;
      this.#next()?.grant();
    };
  }
}

interface Waiter {
  live: boolean;
  grant: () => void;
  unlink: () => void;
}
