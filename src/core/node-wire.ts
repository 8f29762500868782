import type { Dispatcher, Pool } from 'undici';
import { FetchWire } from './fetch-wire.js';
import { networkFailure, type Wire, type WireAnswer, type WireRequest } from './wire.js';

type RawHeaders = Record<string, string | string[] | undefined>;

/**
 * The Wire on Node without an injected fetch: one undici Pool per origin and client, undici
 * loaded with a dynamic import when the client is made, so it stays out of the module graph of
 * other runtimes. Requests go through `Pool.dispatch` with a handler of our own (no stream per
 * answer, no signal handed to undici). Should undici fail to load (a bundle without it), every
 * request goes through fetch instead.
 */
export class NodeWire implements Wire {
  readonly #insecure: boolean;
  #pools = new Map<string, Pool>();
  #loading: Promise<typeof import('undici')> | undefined;
  #undici: typeof import('undici') | undefined;
  /** undici could not be loaded: requests go through fetch. */
  #fallback: FetchWire | undefined;
  readonly #fetch: typeof globalThis.fetch;
  #loaded = false;

  constructor(insecure: boolean, fetch: typeof globalThis.fetch) {
    this.#insecure = insecure;
    this.#fetch = fetch;
  }

  /** Pending until undici is loaded (or known missing), from the first request on; undefined after. */
  get loading(): Promise<unknown> | undefined {
    return this.#loaded ? undefined : this.#load();
  }

  #load(): Promise<unknown> {
    this.#loading ??= import('undici').then(
      (undici) => (this.#undici = undici),
      (error: unknown) => {
        this.#fallback = new FetchWire(this.#fetch);
        throw error;
      },
    );
    return this.#loading.then(
      () => (this.#loaded = true),
      () => (this.#loaded = true),
    );
  }

  /** Rejects with undici's error in fetch's shape (`TypeError('fetch failed', { cause })`), or the cancel's reason. */
  request(request: WireRequest): Promise<WireAnswer> {
    if (this.#fallback) return this.#fallback.request(request);
    const pool = this.#pools.get(request.origin);
    const sent = pool === undefined ? this.#pool(request.origin).then((created) => this.#dispatch(created, request)) : this.#dispatch(pool, request);
    return sent.catch((error: unknown) => {
      if (request.cancel.aborted) throw request.cancel.reason;
      if (this.#fallback) return this.#fallback.request(request);
      throw networkFailure(error);
    });
  }

  #dispatch(pool: Pool, request: WireRequest): Promise<WireAnswer> {
    const { cancel } = request;
    if (cancel.aborted) return Promise.reject(cancel.reason);
    return new Promise<WireAnswer>((resolve, reject) => {
      let control: Dispatcher.DispatchController | undefined;
      let status = 0;
      let statusText = '';
      let headers: RawHeaders = {};
      // One chunk (a PEM's acknowledgement) is decoded once at the end; more (a page of a list) are
      // decoded as they come, so no chunk, nor the socket buffer it is a view of, outlives its turn.
      let first: Buffer | undefined;
      let decoder: InstanceType<typeof TextDecoder> | undefined;
      let decoded = '';
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
          if (decoder === undefined && first === undefined) {
            first = chunk;
            return;
          }
          if (decoder === undefined) {
            decoder = new TextDecoder();
            decoded = decoder.decode(first, { stream: true });
            first = undefined;
          }
          decoded += decoder.decode(chunk, { stream: true });
        },
        onResponseEnd() {
          const text = decoder !== undefined ? decoded + decoder.decode() : first !== undefined ? first.toString('utf8') : '';
          first = undefined;
          decoded = '';
          finish(undefined, new NodeAnswer(status, statusText, headers, text));
        },
        onResponseError(_controller, error) {
          finish(error);
        },
      };
      pool.dispatch({ path: request.path, method: request.method as Dispatcher.HttpMethod, headers: request.headers, body: request.body ?? null }, handler);
    });
  }

  async #pool(origin: string): Promise<Pool> {
    await this.#load();
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

/** An undici answer: Headers are built only when read. */
class NodeAnswer implements WireAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly text: string;
  readonly #raw: RawHeaders;
  #headers: Headers | undefined;

  constructor(status: number, statusText: string, raw: RawHeaders, text: string) {
    this.status = status;
    this.statusText = statusText;
    this.#raw = raw;
    this.text = text;
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

  header(name: string): string | undefined {
    const value = this.#raw[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
}
