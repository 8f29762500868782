import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A local Receiver on 127.0.0.1 whose answers to `POST /pem` are scripted request by request, and
 * which otherwise behaves like the real one: it stores each PEM by ID, answers an identical resend
 * `duplicate` and a different body under a stored ID 409. So "one PEM stored" is checked on the
 * receiving side, exactly as the Receiver's own dedupe would keep it.
 *
 * With `upstream` (the local RK server's Receiver URL) it is a fault-injecting proxy instead:
 * scripted faults are answered here, everything else (and the commit of "commit then reset") is
 * forwarded, so the real server's dedupe decides what is stored. `stored` and `acceptedCount`
 * then record what the server acknowledged.
 */
export type Action =
  /** Answer with this status and JSON `body`, or `text` as text/plain; `retryAfter` sets the header. */
  | { status: number; body?: unknown; text?: string; retryAfter?: string | number; headers?: Record<string, string> }
  /** Accept the request and never answer (until the receiver closes). */
  | { hang: true }
  /** Destroy the connection without storing or answering. */
  | { reset: 'before-response' }
  /** Store the PEM, then destroy the connection without answering. */
  | { reset: 'after-commit' }
  /** Behave like the real Receiver (store, dedupe), after `delayMs` real ms and once `gate` resolves. */
  | { default: true; delayMs?: number; gate?: Promise<unknown> };

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The PEM ID in the body, for POST /pem. */
  id: string | undefined;
  idempotencyKey: string | undefined;
  attempt: string | undefined;
  /** The injected clock's time when the request arrived. */
  at: number;
}

export interface ReceiverOptions {
  /** Time stamped on each request (an injected clock's now). Default Date.now. */
  now?: () => number;
  /** Path prefix of the base URL. Default `/receiver`. */
  prefix?: string;
  info?: Record<string, unknown>;
  /** Forward what is not a scripted fault to this Receiver base URL (e.g. startLocalRK's receiverUrl). */
  upstream?: string;
  /**
   * `reference`: acknowledge as the reference client's tests mock the real Receiver, with the text
   * `Ack getting <Type>` (duplicates alike) and an empty 200 for tags. Default `rich`: our JSON.
   */
  replies?: 'rich' | 'reference';
}

export interface ScriptableReceiver {
  /** The base URL, e.g. http://127.0.0.1:4711/receiver */
  readonly url: string;
  readonly port: number;
  readonly requests: ReceivedRequest[];
  /** PEM ID -> body as stored. */
  readonly stored: Map<string, string>;
  /** PEM ID -> how many times it was answered `accepted` (more than 1 would be a double store). */
  readonly acceptedCount: Map<string, number>;
  /** Only the POST /pem requests. */
  pemRequests(): ReceivedRequest[];
  /** Queues actions for the next POST /pem requests, one each, in order; then the default rule. */
  script(...actions: Action[]): void;
  /** Decides every POST /pem not covered by `script` (n counts POST /pem from 0). */
  setRule(rule: ((request: ReceivedRequest, n: number) => Action) | undefined): void;
  /** Stop listening and drop every connection: new connections are refused. */
  refuse(): Promise<void>;
  /** Listen again on the same port. */
  accept(): Promise<void>;
  close(): Promise<void>;
}

const RECEIVER_INFO = {
  version: '3.5.0',
  pem_version: '2.0.0',
  pem_size_limit: 1048576,
  auth_required: false,
  pem_auth_required: false,
};

export async function startScriptableReceiver(options: ReceiverOptions = {}): Promise<ScriptableReceiver> {
  const now = options.now ?? Date.now;
  const prefix = options.prefix ?? '/receiver';
  const requests: ReceivedRequest[] = [];
  const stored = new Map<string, string>();
  const acceptedCount = new Map<string, number>();
  const queue: Action[] = [];
  let rule: ((request: ReceivedRequest, n: number) => Action) | undefined;
  let pemCount = 0;
  const sockets = new Set<Socket>();

  const storePem = (request: ReceivedRequest): { status: number; body: unknown; text?: string } => {
    let id: unknown;
    try {
      id = (JSON.parse(request.body) as { ID?: unknown }).ID;
    } catch {
      return { status: 400, body: { message: 'the body is not JSON', code: 'invalid_request' } };
    }
    if (typeof id !== 'string') return { status: 422, body: { message: 'ID is missing', code: 'unprocessable' } };
    const previous = stored.get(id);
    const ack = (status: 'accepted' | 'duplicate') =>
      options.replies === 'reference'
        ? { status: 200, body: undefined, text: `Ack getting ${(JSON.parse(request.body) as { Type?: unknown }).Type}` }
        : { status: 200, body: { ID: id, status } };
    if (previous === undefined) {
      stored.set(id, request.body);
      acceptedCount.set(id, (acceptedCount.get(id) ?? 0) + 1);
      return ack('accepted');
    }
    if (previous === request.body) return ack('duplicate');
    return { status: 409, body: { message: `PEM ${id} is already stored with different content`, code: 'conflict', field: 'ID' } };
  };

  /** Passes the request to the upstream Receiver; records what it acknowledged. */
  const forward = async (request: ReceivedRequest): Promise<{ status: number; text: string; contentType: string }> => {
    const target = `${options.upstream}${request.path.slice(prefix.length)}`;
    const contentType = request.headers['content-type'];
    const response = await fetch(target, {
      method: request.method,
      headers: typeof contentType === 'string' ? { 'Content-Type': contentType } : {},
      body: request.method === 'GET' || request.method === 'HEAD' ? undefined : request.body,
    });
    const text = await response.text();
    if (request.method === 'POST' && request.path === `${prefix}/pem` && response.ok) {
      // Our JSON says accepted or duplicate; any other 2xx (reference replies) is taken as a first store.
      let ack: { ID?: string; status?: string } = {};
      try {
        ack = JSON.parse(text) as typeof ack;
      } catch {
        // text acknowledgement
      }
      const ID = ack.ID ?? request.id;
      if (ID !== undefined && (ack.status === 'accepted' || (ack.status === undefined && !stored.has(ID)))) {
        stored.set(ID, request.body);
        acceptedCount.set(ID, (acceptedCount.get(ID) ?? 0) + 1);
      }
    }
    return { status: response.status, text, contentType: response.headers.get('content-type') ?? 'application/json' };
  };

  const relay = (res: ServerResponse, answer: { status: number; text: string; contentType: string }) => {
    if (res.destroyed) return;
    res.writeHead(answer.status, { 'Content-Type': answer.contentType });
    res.end(answer.text);
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (res.destroyed) return;
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const sendText = (res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}) => {
    if (res.destroyed) return;
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
    res.end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    let id: string | undefined;
    try {
      const parsed = JSON.parse(body) as { ID?: unknown };
      if (typeof parsed.ID === 'string') id = parsed.ID;
    } catch {
      // not JSON: fine for non-PEM requests
    }
    const header = (name: string) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const request: ReceivedRequest = {
      method: req.method ?? 'GET',
      path,
      headers: req.headers,
      body,
      id,
      idempotencyKey: header('idempotency-key'),
      attempt: header('x-rk-attempt'),
      at: now(),
    };
    requests.push(request);

    const isPem = request.method === 'POST' && path === `${prefix}/pem`;
    if (options.upstream && !isPem) return relay(res, await forward(request));
    if (request.method === 'GET' && path === `${prefix}/info`) return send(res, 200, options.info ?? RECEIVER_INFO);
    if (request.method === 'POST' && path.startsWith(`${prefix}/tag/`)) {
      if (options.replies === 'reference') return sendText(res, 200, '');
      return send(res, 200, { NamespaceID: 'ns', Tag: 'tag', EventID: path.split('/').pop(), UpdatedAt: '2026-11-27 22:07:00' });
    }
    if (!(request.method === 'POST' && path === `${prefix}/pem`)) return send(res, 404, { message: `no route ${path}` });

    const n = pemCount++;
    const action: Action = queue.shift() ?? rule?.(request, n) ?? { default: true };
    if ('hang' in action) return; // the socket stays open until the client gives up or we close
    if ('reset' in action) {
      if (action.reset === 'after-commit') {
        if (options.upstream) await forward(request);
        else storePem(request);
      }
      req.socket.destroy();
      return;
    }
    if ('default' in action) {
      if (action.delayMs) await new Promise((resolve) => setTimeout(resolve, action.delayMs));
      if (action.gate) await action.gate;
      if (options.upstream) return relay(res, await forward(request));
      const answer = storePem(request);
      if (answer.text !== undefined) return sendText(res, answer.status, answer.text);
      return send(res, answer.status, answer.body);
    }
    const headers: Record<string, string> = { ...action.headers };
    if (action.retryAfter !== undefined) headers['Retry-After'] = String(action.retryAfter);
    if (action.text !== undefined) return sendText(res, action.status, action.text, headers);
    return send(res, action.status, action.body ?? { message: `scripted ${action.status}` }, headers);
  };

  let server: Server = makeServer();
  function makeServer(): Server {
    const s = createServer((req, res) => {
      handle(req, res).catch((error: unknown) => {
        if (!res.headersSent && !res.destroyed) send(res, 500, { message: String(error) });
      });
    });
    s.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    return s;
  }

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  const stop = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await closed;
  };

  const port = await listen(0);
  let listening = true;
  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    port,
    requests,
    stored,
    acceptedCount,
    pemRequests: () => requests.filter((r) => r.method === 'POST' && r.path === `${prefix}/pem`),
    script: (...actions) => queue.push(...actions),
    setRule: (next) => {
      rule = next;
    },
    async refuse() {
      if (!listening) return;
      listening = false;
      await stop();
    },
    async accept() {
      if (listening) return;
      server = makeServer();
      await listen(port);
      listening = true;
    },
    async close() {
      if (!listening) return;
      listening = false;
      await stop();
    },
  };
}
