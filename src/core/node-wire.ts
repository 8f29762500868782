import type { Dispatcher, Pool } from 'undici';

/**
 * The Node hot path: one undici Pool per origin and client, loaded on first use with a dynamic
 * import so undici stays out of the module graph of other runtimes and of clients that never
 * send. It carries only requests the transport builds itself (a body already serialized, a path
 * with nothing to fill in: POST /pem); everything else goes through openapi-fetch and fetch.
 */
export interface WireRequest {
  origin: string;
  path: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  cancel: WireCancel;
}

/**
 * How the transport cancels a request without an AbortSignal (one per request would cost an
 * AbortController and a listener): the wire sets `onAbort` while the request runs and clears it
 * when the request ends.
 */
export interface WireCancel {
  readonly aborted: boolean;
  readonly reason: unknown;
  onAbort: ((reason: unknown) => void) | undefined;
}

export interface WireAnswer {
  status: number;
  statusText: string;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export class NodeWire {
  readonly #insecure: boolean;
  #pools = new Map<string, Pool>();
  #loading: Promise<typeof import('undici')> | undefined;
  #undici: typeof import('undici') | undefined;
  /** undici could not be loaded (a bundle without it): every request goes through fetch. */
  failed = false;

  constructor(insecure: boolean) {
    this.#insecure = insecure;
  }

  /** True once undici is loaded: requests may use the wire. */
  get ready(): boolean {
    return this.#undici !== undefined;
  }

  /** Starts loading undici; resolves once it is loaded or known to be missing (`failed`). */
  load(): Promise<unknown> {
    this.#loading ??= import('undici').then(
      (undici) => (this.#undici = undici),
      (error: unknown) => {
        this.failed = true;
        throw error;
      },
    );
    return this.#loading.catch(() => {});
  }

  /**
   * One request through `Pool.dispatch` with a handler of our own: no stream per answer (as
   * `Pool.request` makes), no signal handed to undici; the caller's signal aborts the dispatch
   * through its controller. Rejects with undici's error (the caller reshapes it).
   */
  request(request: WireRequest): Promise<WireAnswer> {
    const pool = this.#pools.get(request.origin);
    if (pool === undefined) return this.#pool(request.origin).then((created) => this.#dispatch(created, request));
    return this.#dispatch(pool, request);
  }

  #dispatch(pool: Pool, request: WireRequest): Promise<WireAnswer> {
    const { cancel } = request;
    if (cancel.aborted) return Promise.reject(cancel.reason);
    return new Promise<WireAnswer>((resolve, reject) => {
      let control: Dispatcher.DispatchController | undefined;
      let status = 0;
      let statusText = '';
      let headers: WireAnswer['headers'] = {};
      let first: Buffer | undefined;
      let more: Buffer[] | undefined;
      let settled = false;
      const finish = (error: unknown, answer?: WireAnswer) => {
        if (settled) return;
        settled = true;
        cancel.onAbort = undefined;
        if (answer) resolve(answer);
        else reject(error);
      };
      cancel.onAbort = (reason) => {
        control?.abort(reason as Error);
        finish(reason);
      };
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(controller) {
          control = controller;
          if (cancel.aborted) controller.abort(cancel.reason as Error);
        },
        onResponseStart(_controller, statusCode, responseHeaders, statusMessage) {
          status = statusCode;
          headers = responseHeaders;
          statusText = statusMessage ?? '';
        },
        onResponseData(_controller, chunk) {
          if (first === undefined) first = chunk;
          else (more ??= [first]).push(chunk);
        },
        onResponseEnd() {
          const text = more !== undefined ? Buffer.concat(more).toString('utf8') : first !== undefined ? first.toString('utf8') : '';
          first = more = undefined;
          finish(undefined, { status, statusText, headers, text });
        },
        onResponseError(_controller, error) {
          finish(error);
        },
      };
      pool.dispatch({ path: request.path, method: request.method as Dispatcher.HttpMethod, headers: request.headers, body: request.body ?? null }, handler);
    });
  }

  async #pool(origin: string): Promise<Pool> {
    await this.load();
    const undici = this.#undici;
    if (!undici) throw new Error('undici could not be loaded');
    let pool = this.#pools.get(origin);
    if (!pool) {
      pool = new undici.Pool(origin, this.#insecure ? { connect: { rejectUnauthorized: false } } : {});
      this.#pools.set(origin, pool);
    }
    return pool;
  }
}

/** The answer as openapi-fetch's Response would show it: Headers are built only when read. */
export class WireResponse {
  readonly status: number;
  readonly statusText: string;
  readonly url: string;
  readonly #raw: WireAnswer['headers'];
  #headers: Headers | undefined;

  constructor(answer: WireAnswer, url: string) {
    this.status = answer.status;
    this.statusText = answer.statusText;
    this.url = url;
    this.#raw = answer.headers;
  }

  get ok(): boolean {
    // 200 to 299, as fetch defines ok.
    return Math.floor(this.status / 100) === 2;
  }

  get headers(): Headers {
    if (!this.#headers) {
      const headers = new Headers();
      for (const [name, value] of Object.entries(this.#raw)) {
        if (Array.isArray(value)) for (const v of value) headers.append(name, v);
        else if (value !== undefined) headers.set(name, value);
      }
      this.#headers = headers;
    }
    return this.#headers;
  }

  /** One raw header (lower-case name), without building Headers. */
  header(name: string): string | undefined {
    const value = this.#raw[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
}
