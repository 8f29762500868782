// A proxy that injects faults into POST /pem in front of a Receiver, for scripts/chaos.mjs and
// bench/delivery.mjs (--faults). Each POST /pem draws at most one fault; everything else, and every
// other request, is forwarded unchanged. Counts what it did.
//
// Faults: drop (connection destroyed before forwarding), commitThenReset (forwarded and stored, then
// the connection destroyed without an answer), delay (0.2-1.5 s before forwarding), unavailable
// (503), tooMany (429 with Retry-After: 1).
import { createServer, request as httpRequest } from 'node:http';

/** The chaos run's mix: 19 % of POST /pem get a fault. */
export const CHAOS_FAULTS = Object.freeze({ drop: 0.04, commitThenReset: 0.04, delay: 0.04, unavailable: 0.04, tooMany: 0.03 });

/**
 * The chaos mix's failures (drop, commit-then-reset, 503, 429 with Retry-After: 1; not its delays,
 * as a slow answer is not a failed one) scaled so that `rate` (0 to 1) of POST /pem fail, in the
 * chaos run's proportions.
 */
export function failuresAt(rate) {
  const failing = Object.entries(CHAOS_FAULTS).filter(([name]) => name !== 'delay');
  const total = failing.reduce((sum, [, p]) => sum + p, 0);
  return Object.fromEntries(failing.map(([name, p]) => [name, (p / total) * rate]));
}

/** A proxy to `upstreamOrigin` that injects `faults` (name -> probability) into POST /pem. */
export async function startFaultProxy(upstreamOrigin, faults = CHAOS_FAULTS) {
  const counts = { requests: 0, drop: 0, commitThenReset: 0, delay: 0, unavailable: 0, tooMany: 0, forwarded: 0 };
  const forward = (req, body) =>
    new Promise((resolveForward, reject) => {
      const target = new URL(req.url, upstreamOrigin);
      const headers = { ...req.headers, host: target.host };
      const out = httpRequest(target, { method: req.method, headers }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolveForward({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      out.on('error', reject);
      out.end(body);
    });
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    const isPem = req.method === 'POST' && req.url.endsWith('/pem');
    let fault;
    if (isPem) {
      counts.requests++;
      let roll = Math.random();
      for (const [name, p] of Object.entries(faults)) {
        if (roll < p) {
          fault = name;
          break;
        }
        roll -= p;
      }
    }
    try {
      if (fault) counts[fault]++;
      if (fault === 'drop') return req.socket.destroy();
      if (fault === 'unavailable') return end(res, 503, { message: 'injected 503' });
      if (fault === 'tooMany') return end(res, 429, { message: 'injected 429' }, { 'Retry-After': '1' });
      if (fault === 'delay') await new Promise((r) => setTimeout(r, 200 + Math.random() * 1300));
      const answer = await forward(req, body);
      if (fault === 'commitThenReset') return req.socket.destroy();
      counts.forwarded++;
      const headers = { ...answer.headers };
      delete headers['transfer-encoding'];
      res.writeHead(answer.status, headers);
      res.end(answer.body);
    } catch {
      req.socket.destroy(); // upstream down (the kill loop): the client sees a reset
    }
  });
  server.keepAliveTimeout = 5000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: server.address().port,
    counts,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function end(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
