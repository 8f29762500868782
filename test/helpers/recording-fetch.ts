/**
 * An injected fetch that records each Request and answers from a script, so tests assert exact
 * methods, URLs, headers and bodies without global mocks.
 */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: Headers;
  body: string;
}

export type Responder = (request: Request, index: number) => Response | Promise<Response>;

export function recordingFetch(...responders: Responder[]) {
  const requests: RecordedRequest[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input, init);
    const body = request.body ? await request.clone().text() : '';
    requests.push({ method: request.method, url: request.url, headers: request.headers, body });
    const index = requests.length - 1;
    const responder = responders[Math.min(index, responders.length - 1)];
    if (!responder) throw new Error(`recordingFetch: no response scripted for request ${index}`);
    return responder(request, index);
  };
  return { fetch: fetch as typeof globalThis.fetch, requests };
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

export function text(body: string, status = 200): Response {
  return new Response(body, { status, headers: { 'Content-Type': 'text/plain' } });
}

/** Answers only when the request is aborted, as a server that never replies would. */
export function hang(): Responder {
  return (request) =>
    new Promise<Response>((_, reject) => {
      request.signal.addEventListener('abort', () => reject(request.signal.reason), { once: true });
    });
}

export const receiverInfo = {
  version: '3.5.0',
  pem_version: '2.0.0',
  pem_size_limit: 1048576,
  auth_required: true,
  pem_auth_required: false,
};
