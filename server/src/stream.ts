import type { ServerResponse } from 'node:http';

/**
 * Streamed JSON array bodies for the full listings (GET /pems, GET /artifacts without pageSize;
 * issue 9 item 4). The handler returns a `StreamedJsonArray` whose batches are read from the
 * database one after the other (keyset, LIST_BATCH rows each); `sendStreamed` writes `[`, each
 * item, `]` as the batches arrive, waiting for `drain` when the socket is full. Memory stays at
 * about one batch per listing, and other requests run between two batches.
 *
 * http.ts calls `enableStreamedReplies()` when it builds its listener and `sendStreamed()` first
 * in its send(); a handler used without that layer (streamedRepliesEnabled() false) answers with
 * a plain array, still read batch by batch, so no statement binds every ID.
 */

export class StreamedJsonArray {
  constructor(readonly batches: () => AsyncIterable<readonly unknown[]>) {}

  /** A streamed body must never be serialized whole. */
  toJSON(): never {
    throw new Error('a StreamedJsonArray is written by sendStreamed (server/src/stream.ts), not by JSON.stringify');
  }
}

let enabled = false;

/** Called once by the http layer that writes streamed bodies with sendStreamed. */
export function enableStreamedReplies(): void {
  enabled = true;
}

export function streamedRepliesEnabled(): boolean {
  return enabled;
}

export function isStreamed(body: unknown): body is StreamedJsonArray {
  return body instanceof StreamedJsonArray;
}

interface StreamableReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string> | undefined;
}

/** Writes the reply when its body is streamed (and returns true); otherwise leaves it to the caller. */
export function sendStreamed(res: ServerResponse, reply: StreamableReply): boolean {
  if (!isStreamed(reply.body)) return false;
  void writeStreamed(res, reply.status, reply.body, reply.headers);
  return true;
}

export async function writeStreamed(
  res: ServerResponse,
  status: number,
  body: StreamedJsonArray,
  headers: Record<string, string> = {},
): Promise<void> {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  let first = true;
  try {
    await write(res, '[');
    for await (const batch of body.batches()) {
      if (res.destroyed) return;
      let chunk = '';
      for (const item of batch) {
        chunk += (first ? '' : ',') + JSON.stringify(item);
        first = false;
      }
      if (chunk) await write(res, chunk);
    }
    res.end(']');
  } catch {
    // Headers are out: the only honest signal left is a cut connection (the JSON is incomplete).
    res.destroy();
  }
}

function write(res: ServerResponse, text: string): Promise<void> {
  if (res.write(text)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      res.off('drain', done);
      res.off('close', closed);
      if (error) reject(error);
      else resolve();
    };
    const closed = () => done(new Error('the client closed the connection'));
    res.once('drain', () => done());
    res.once('close', closed);
  });
}
