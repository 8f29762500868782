import type { RKError } from './errors.js';
import type { Logger } from './logger.js';
import type { Settings } from './settings.js';

/** A retry of an RKQuery or RKAdmin call: the same event RKClient emits for sendPem, named by operation. */
export interface CallRetryEvent {
  /** In words: "Reading PEM". */
  operation: string;
  /** The attempt about to be made (2 for the first retry). */
  attempt: number;
  delayMs: number;
  error: RKError;
}

/** What RKQuery.stats() and RKAdmin.stats() report: the counters of RKClient.stats() that apply to calls. */
export interface CallStats {
  /** Requests made (first attempts and retries). */
  attempts: number;
  /** Of those, retries. */
  retries: number;
  /** Retries the budget refused. */
  retriesDenied: number;
  /** Tokens left in the client's retry budget (undefined: no budget). */
  retryBudget: number | undefined;
}

/** The events RKQuery.on and RKAdmin.on take: `retry`, before each retry of a call. */
export type CallEventName = 'retry';
/** A listener of RKQuery.on / RKAdmin.on: told of each retry, after the failure and before the backoff wait. */
export type CallListener = (event: CallRetryEvent) => void;

/**
 * The counters and `retry` listeners of one client's calls (every service of an RKAdmin shares
 * them, as they share one retry budget). Nothing is built for an event nobody listens to.
 */
export class CallObserver {
  attempts = 0;
  retries = 0;
  retriesDenied = 0;
  readonly #listeners = new Set<CallListener>();
  readonly #settings: Settings;

  constructor(settings: Settings) {
    this.#settings = settings;
  }

  get listening(): boolean {
    return this.#listeners.size > 0;
  }

  on(name: CallEventName, listener: CallListener): () => void {
    if (name !== 'retry') throw new TypeError(`unknown event "${String(name)}"; RKQuery and RKAdmin emit "retry"`);
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  emit(event: CallRetryEvent): void {
    const logger: Logger = this.#settings.logger;
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        logger.warn(`a "retry" listener threw: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  stats(): CallStats {
    return { attempts: this.attempts, retries: this.retries, retriesDenied: this.retriesDenied, retryBudget: this.#settings.budget?.tokens };
  }
}

const observers = new WeakMap<Settings, CallObserver>();

/** The observer of the client these settings belong to. */
export function observerOf(settings: Settings): CallObserver {
  let observer = observers.get(settings);
  if (!observer) observers.set(settings, (observer = new CallObserver(settings)));
  return observer;
}
