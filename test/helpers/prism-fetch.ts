/**
 * A fetch for talking to a Prism mock: it goes to the network through globalThis.fetch and records
 * what each response said about the request, so contract tests can assert that Prism found
 * nothing wrong with any request the client sent. Prism reports what it found in the
 * `sl-violations` response header (a JSON list) and still answers, so a client bug that Prism
 * only notes would otherwise go unseen.
 */
export interface SeenResponse {
  method: string;
  url: string;
  status: number;
  /** The `sl-violations` header, or null when Prism found nothing to report. */
  violations: string | null;
}

export interface PrismFetchOptions {
  /**
   * Names the spec example Prism should answer this request with (sent as `Prefer: example=<name>`),
   * for operations whose spec holds several named examples. Receives a clone of the request.
   */
  preferExample?: (request: Request) => string | undefined | Promise<string | undefined>;
  /**
   * Prism parses every `application/json` body before it reads the spec, so the reference client's
   * setTag body (raw base64 text labelled JSON, which the real Record Keeper accepts) is refused by
   * Prism alone. For requests this returns true, the body is re-sent to Prism as a JSON string; the
   * client's own bytes are asserted in the unit tests.
   */
  quoteBody?: (request: Request) => boolean;
}

export function prismFetch(options: PrismFetchOptions = {}) {
  const responses: SeenResponse[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    let request = new Request(input, init);
    if (options.quoteBody?.(request)) {
      request = new Request(request, { body: JSON.stringify(await request.clone().text()) });
    }
    const example = await options.preferExample?.(request.clone());
    if (example !== undefined) request.headers.set('Prefer', `example=${example}`);
    const response = await globalThis.fetch(request);
    responses.push({
      method: request.method,
      url: request.url,
      status: response.status,
      violations: response.headers.get('sl-violations'),
    });
    return response;
  };
  return {
    fetch: fetch as typeof globalThis.fetch,
    responses,
    /** The responses on which Prism reported a violation. */
    violations: () => responses.filter((r) => r.violations !== null),
  };
}
