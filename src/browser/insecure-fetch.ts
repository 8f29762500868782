/**
 * The browser's stand-in for core/insecure-fetch.js (see README.md): a page cannot turn off
 * certificate checks, so `insecure: true` answers every request with an error that says so.
 */
type FetchFn = typeof globalThis.fetch;

export function insecureFetch(_base: FetchFn, _injected: boolean): FetchFn {
  return () =>
    Promise.reject(
      new TypeError(
        'insecure: true cannot work in a browser: the browser decides which certificates it trusts; ' +
          "trust the server's certificate in the browser or the system, or leave out insecure",
      ),
    );
}
