import { createServer, type IncomingMessage, type Server } from 'node:http';
import { expect } from 'vitest';

/**
 * A server (or proxy) that echoes the request headers into its error pages, in the shapes such
 * pages take (JSON, nested JSON, text, HTML with and without a title, a long text whose 300-character
 * cut would fall inside the credential), for the redaction tests of the library and the CLI.
 */

// Characters that JSON, URLs and HTML each escape, so every echoed form is exercised.
export const SECRET = 'tok3n+/Secr3t=&"<x>';
export const FORMS = [SECRET, JSON.stringify(SECRET).slice(1, -1), encodeURIComponent(SECRET), SECRET.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;')];

export function expectClean(text: unknown, where: string): void {
  const shown = typeof text === 'string' ? text : String(JSON.stringify(text));
  for (const form of FORMS) expect(shown, `${where} carries the credential (${form})`).not.toContain(form);
}

export type Answer = { status: number; style: 'json' | 'nested' | 'text' | 'html' | 'page' | 'long'; headerEcho?: boolean };

function headerLines(req: IncomingMessage): string {
  return Object.entries(req.headers)
    .map(([name, value]) => `${name}: ${String(value)}`)
    .join('\n');
}

function htmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Answers every request with `answer`, echoing the request's headers into the body (and a header). */
export function echoServer(): { server: Server; answer: Answer; echoed: number; start(): Promise<string>; stop(): Promise<void> } {
  const state = { server: undefined as unknown as Server, answer: { status: 500, style: 'text' } as Answer, echoed: 0 };
  state.server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const { status, style, headerEcho } = state.answer;
      const lines = headerLines(req);
      let type = 'text/plain';
      let body: string;
      switch (style) {
        case 'json':
          type = 'application/json';
          body = JSON.stringify({ message: `refused; you sent ${lines}`, headers: req.headers });
          break;
        case 'nested':
          type = 'application/json';
          body = JSON.stringify({ error: { message: `upstream said no to ${JSON.stringify(req.headers)}` } });
          break;
        case 'html':
          type = 'text/html';
          body = `<html><body><h1>Bad gateway</h1><p>Your request:</p><pre>${htmlEscape(lines)}</pre></body></html>`;
          break;
        case 'page':
          type = 'text/html';
          body = `<!doctype html><html><head><title>Error: ${htmlEscape(lines)}</title></head><body>${htmlEscape(lines)}</body></html>`;
          break;
        case 'long':
          // The credential straddles the 300-character cut of serverMessage.
          body = `${'x'.repeat(290)} ${lines}`;
          break;
        default:
          body = `request was ${lines}; query ${req.url}; encoded ${encodeURIComponent(lines)}`;
      }
      if (body.includes(SECRET) || body.includes(JSON.stringify(SECRET).slice(1, -1)) || body.includes(htmlEscape(SECRET))) state.echoed++;
      const headers: Record<string, string> = { 'Content-Type': type };
      if (headerEcho) headers['X-Echo-Auth'] = String(req.headers['x-rk-puc-auth'] ?? req.headers['x-rk-user-auth'] ?? '');
      res.writeHead(status, headers);
      res.end(body);
    });
  });
  return Object.assign(state, {
    start: async () => {
      await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
      const address = state.server.address();
      return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    },
    stop: async () => {
      state.server.closeAllConnections();
      await new Promise((resolve) => state.server.close(resolve));
    },
  });
}

