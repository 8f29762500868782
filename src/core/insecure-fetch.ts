type FetchFn = typeof globalThis.fetch;

/**
 * Certificate checks off for this client only: an undici dispatcher of its own, never the process
 * environment. undici is loaded on first use so clients that verify TLS never pay for it.
 */
export function insecureFetch(base: FetchFn, injected: boolean): FetchFn {
  let ready: Promise<{ fetch: FetchFn; dispatcher: unknown }> | undefined;
  const load = () =>
    (ready ??= import('undici').then((undici) => ({
      fetch: undici.fetch as unknown as FetchFn,
      dispatcher: new undici.Agent({ connect: { rejectUnauthorized: false } }),
    })));
  return async (input, init) => {
    const { fetch, dispatcher } = await load();
    if (injected) return base(input, { ...init, dispatcher } as RequestInit);
    // undici's own fetch with its own Agent: mixing an npm undici Agent into Node's bundled fetch
    // is not supported across major versions.
    const request = input instanceof Request ? input : new Request(input, init);
    const body = request.body ? await request.arrayBuffer() : undefined;
    return fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body,
      signal: request.signal,
      redirect: request.redirect,
      dispatcher,
    } as RequestInit);
  };
}
