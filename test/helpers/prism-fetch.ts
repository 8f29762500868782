/**
 * A fetch for talking to a Prism mock: it goes to the network through globalThis.fetch and records
 * what each response said about the request, so contract tests can assert that Prism found
 * nothing wrong with any request the client sent. Prism reports what it found in the
 * `sl-violations` response header (a JSON list) and still answers, so a client bug that Prism
 * only notes would otherwise go unseen. When Prism refuses a request, its answer is the spec's
 * example error ("ID: must match pattern") whatever was wrong; the real violations are printed.
 */
export interface SeenResponse {
  method: string;
  url: string;
  status: number;
  /** The `sl-violations` header, or null when Prism found nothing to report. */
  violations: string | null;
}

export interface PrismFetchOptions {
  /** Where a refused request's violations are printed; default stderr. */
  report?: (line: string) => void;
}

/** Prism's violations as one readable line each: `[error] body.ID: must match pattern ...`. */
export function describeViolations(header: string): string[] {
  try {
    const list = JSON.parse(header) as { severity?: string; location?: string[]; message?: string; code?: string }[];
    return list.map((v) => `[${v.severity ?? '?'}] ${(v.location ?? []).join('.') || '(request)'}: ${v.message ?? v.code ?? 'violation'}`);
  } catch {
    return [header];
  }
}

export function prismFetch(options: PrismFetchOptions = {}) {
  const report = options.report ?? ((line: string) => process.stderr.write(`${line}\n`));
  const responses: SeenResponse[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const response = await globalThis.fetch(request);
    const violations = response.headers.get('sl-violations');
    responses.push({ method: request.method, url: request.url, status: response.status, violations });
    if (violations !== null && !response.ok) {
      const { pathname, search } = new URL(request.url);
      report([`Prism refused ${request.method} ${pathname}${search} with ${response.status}:`, ...describeViolations(violations).map((l) => `  ${l}`)].join('\n'));
    }
    return response;
  };
  return {
    fetch: fetch as typeof globalThis.fetch,
    responses,
    /** The responses on which Prism reported a violation. */
    violations: () => responses.filter((r) => r.violations !== null),
  };
}
