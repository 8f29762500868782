import type { Wire, WireAnswer, WireRequest } from './wire.js';

type FetchFn = typeof globalThis.fetch;

/**
 * The Wire over a fetch: the runtime's, an injected one, or the insecure one (insecure-fetch.ts).
 * Redirects come back as answers (`redirect: 'manual'`) so the transport follows them and decides
 * which headers go to another origin. A browser hides a redirect's target from script
 * (`opaqueredirect`, status 0): that is reported as a failure that says so, never followed blind.
 */
export class FetchWire implements Wire {
  readonly #fetch: FetchFn;

  constructor(fetch: FetchFn) {
    this.#fetch = fetch;
  }

  async request(request: WireRequest): Promise<WireAnswer> {
    const { cancel } = request;
    if (cancel.aborted) throw cancel.reason;
    const response = await this.#fetch(`${request.origin}${request.path}`, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      redirect: 'manual',
      signal: cancel.signal,
    });
    if (response.type === 'opaqueredirect') {
      throw new TypeError(
        'the service answered with a redirect whose target this runtime hides from scripts (a browser); configure the URL it redirects to',
      );
    }
    const text = await response.text();
    const headers = response.headers;
    return {
      status: response.status,
      statusText: response.statusText,
      text,
      headers,
      header: (name) => headers.get(name) ?? undefined,
    };
  }
}
