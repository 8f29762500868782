import type { RKError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

/** Why a PEM will not be delivered by this client. Every drop is counted under its reason. */
export type DropReason =
  /** The PEM failed the client's own checks. */
  | 'invalid'
  /** Larger than the Receiver's pem_size_limit (checked before sending, or a 413). */
  | 'too_large'
  /** The Receiver refused it (400, 409, 422, another final 4xx); in the outbox it moved to dead/. */
  | 'rejected'
  /** 401 or 403 without an outbox. */
  | 'auth'
  /** 404 or 405 without an outbox: the Receiver URL is wrong. */
  | 'not_found'
  /** The in-memory send queue was full. */
  | 'queue_full'
  /** The outbox was full and refuses new PEMs (`onFull: 'reject'`). */
  | 'outbox_full'
  /** The outbox was full and this older entry made room (`onFull: 'drop-oldest'`). */
  | 'dropped_oldest'
  /** An outbox entry older than `maxAgeMs`; moved to dead/. */
  | 'expired'
  /** An outbox file that is torn or does not verify; moved to dead/. */
  | 'corrupt'
  /** The client was closed before the PEM was delivered and there is no outbox. */
  | 'shutdown'
  /** The caller's signal aborted the send. */
  | 'aborted'
  /** Retries ran out (or the budget or deadline did) on a timeout, connection failure or 5xx. */
  | 'timeout'
  | 'connection'
  | 'http'
  | 'unexpected_response';

/** The events RKClient.on listens to, with what each carries. */
export interface DeliveryEvents {
  /** A sendPem attempt failed and another follows after `delayMs`. */
  retry: { ID: string; attempt: number; delayMs: number; error: RKError };
  /** The PEM is safe in the outbox and will be delivered later. */
  persisted: { ID: string; file: string };
  /** The Receiver acknowledged the PEM (`fromOutbox`: by the drainer). */
  delivered: { ID: string; status: 'accepted' | 'duplicate'; attempts: number; fromOutbox: boolean };
  /** The PEM will not be delivered; `file` is its dead letter when it has one. */
  drop: { ID: string | undefined; reason: DropReason; error: RKError | undefined; file?: string };
  /** The outbox stopped draining on 401, 403, 404 or 405; every entry is kept. */
  paused: { error: RKError };
  /** Draining continues after a pause. */
  resumed: Record<string, never>;
}

/** One of the event names of DeliveryEvents. */
export type DeliveryEventName = keyof DeliveryEvents;
/** A listener for one event. */
export type DeliveryListener<E extends DeliveryEventName> = (event: DeliveryEvents[E]) => void;

/** A small typed emitter: a listener that throws is reported to the logger, never to the sender. */
export class DeliveryEmitter {
  readonly #listeners = new Map<DeliveryEventName, Set<(event: never) => void>>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  on<E extends DeliveryEventName>(name: E, listener: DeliveryListener<E>): () => void {
    let set = this.#listeners.get(name);
    if (!set) this.#listeners.set(name, (set = new Set()));
    const entry = listener as (event: never) => void;
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  /** Whether anyone listens: callers skip building an event nobody receives. */
  listening(name: DeliveryEventName): boolean {
    return (this.#listeners.get(name)?.size ?? 0) > 0;
  }

  emit<E extends DeliveryEventName>(name: E, event: DeliveryEvents[E]): void {
    for (const listener of this.#listeners.get(name) ?? []) {
      try {
        (listener as DeliveryListener<E>)(event);
      } catch (error) {
        this.#logger.warn(`a "${name}" listener threw: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}

/** Resolves every current waiter when something changes (a send settles, an entry leaves the outbox). */
export class Notifier {
  #waiters: (() => void)[] = [];

  notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves on the next notify, or when `signal` aborts (never rejects). */
  wait(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.#waiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
