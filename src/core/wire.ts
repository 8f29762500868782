/**
 * The one seam between the client and an HTTP library: a Wire sends one request and hands back
 * the whole answer as text, nothing more (no redirects followed, no retries, no status meaning).
 * Two implementations: `fetch-wire.ts` (any fetch: browsers, Deno, Bun, an injected fetch) and
 * `node-wire.ts` (an undici Pool per origin, Node's hot path). Settings picks one per client, once;
 * the transport (deadline, credential, redirects, errors) runs on either the same way, so replacing
 * a library is a change to one implementation.
 */
export interface Wire {
  /**
   * Resolves with the answer, a redirect included (the transport decides whether to follow it);
   * rejects with the library's error on a network failure, or with `cancel.reason` once cancelled.
   */
  request(request: WireRequest): Promise<WireAnswer>;
  /** Resolves once the wire can send (a library still loading); its time is not the service's. */
  readonly loading?: Promise<unknown> | undefined;
}

export interface WireRequest {
  /** `http://host:port`, no trailing slash. */
  origin: string;
  /** The path with its query string: `/query/pems?pageSize=1`. */
  path: string;
  method: string;
  /** Every header of the request, built once by the transport. */
  headers: Record<string, string>;
  body: string | undefined;
  cancel: WireCancel;
}

/**
 * How a request is cancelled without an AbortSignal per request (one would cost an AbortController
 * and a listener on the hot path): a wire that needs a signal reads `signal` (made on first read);
 * one that does not sets `onAbort` while the request runs and clears it when the request ends.
 */
export interface WireCancel {
  readonly aborted: boolean;
  readonly reason: unknown;
  readonly signal: AbortSignal;
  onAbort: ((reason: unknown) => void) | undefined;
}

/** A whole answer: status, headers (built only when read) and the body as text. */
export interface WireAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly text: string;
  readonly headers: Headers;
  /** One header by its lower-case name, without building Headers. */
  header(name: string): string | undefined;
}

/** An attempt's cancellation (see WireCancel): the AbortController is made only when read. */
export class Cancel implements WireCancel {
  aborted = false;
  reason: unknown;
  onAbort: ((reason: unknown) => void) | undefined;
  #controller: AbortController | undefined;

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.aborted) this.#controller.abort(this.reason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.#controller?.abort(reason);
    this.onAbort?.(reason);
  }
}

/** The network failure of every wire in fetch's shape, so both give the same RKConnectionError. */
export function networkFailure(cause: unknown): TypeError {
  return new TypeError('fetch failed', { cause });
}
