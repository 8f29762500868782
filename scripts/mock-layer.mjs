// @ts-check
// A thin layer in front of one Prism mock, so `npm run mock` serves every call exactly as the
// client sends it to a real Record Keeper. Prism stays the engine (routing, validation, security,
// examples); the layer only adapts two things Prism cannot do, both read from the spec:
//
// - A body labelled application/json that is not JSON, on an operation whose spec also takes
//   text/plain (setTag: the reference sends the base64 tag as raw text under a JSON label, which
//   Prism refuses with "Invalid JSON" before it reads the spec). It is passed on as a JSON string.
// - A response whose named examples carry `x-rk-statement` (queryGraph): the example whose
//   statement the request sends is chosen with Prism's `Prefer: example=<name>` header, so the
//   artifact rows query gets artifact rows and the count query a count.
//
// What the client sends is never changed for a real RK: the layer exists only in front of Prism.
import http from 'node:http';
import path from 'node:path';
import { bundle, createConfig } from '@redocly/openapi-core';
import { ROOT } from './apis.mjs';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/**
 * @typedef {object} Adaptation
 * @property {string} method
 * @property {RegExp} pattern the path template as a regular expression
 * @property {boolean} quotesText the operation takes text/plain beside application/json
 * @property {Record<string, string>} examples statement -> example name
 */

/** What the layer adapts, per operation, from the spec. @param {string} specPath @returns {Promise<Adaptation[]>} */
export async function adaptationsOf(specPath) {
  const result = await bundle({ ref: path.resolve(ROOT, specPath), config: await createConfig({}), dereference: true });
  /** @type {any} */
  const document = result.bundle.parsed;
  /** @type {Adaptation[]} */
  const adaptations = [];
  for (const [template, item] of Object.entries(document.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const content = op.requestBody?.content ?? {};
      const quotesText = 'application/json' in content && 'text/plain' in content;
      /** @type {Record<string, string>} */
      const examples = {};
      for (const response of Object.values(op.responses ?? {})) {
        for (const media of Object.values(/** @type {any} */ (response).content ?? {})) {
          for (const [name, example] of Object.entries(/** @type {any} */ (media).examples ?? {})) {
            const statement = /** @type {any} */ (example)['x-rk-statement'];
            if (typeof statement === 'string') examples[normalise(statement)] = name;
          }
        }
      }
      if (!quotesText && Object.keys(examples).length === 0) continue;
      const pattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
      adaptations.push({ method: method.toUpperCase(), pattern, quotesText, examples });
    }
  }
  return adaptations;
}

/** @param {string} text */
const normalise = (text) => text.replace(/\s+/g, ' ').trim();

/** @param {string} contentType */
const isJson = (contentType) => /^application\/([\w.+-]*\+)?json\b/i.test(contentType);

/**
 * The request Prism should see, and the example to prefer.
 * @param {Adaptation | undefined} adaptation
 * @param {string} contentType
 * @param {Buffer} body
 * @returns {{ body: Buffer, prefer?: string }}
 */
export function adapt(adaptation, contentType, body) {
  if (!adaptation || body.length === 0) return { body };
  const text = body.toString('utf8');
  /** @type {unknown} */
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    if (adaptation.quotesText && isJson(contentType)) return { body: Buffer.from(JSON.stringify(text)) };
    return { body };
  }
  const values = parsed !== null && typeof parsed === 'object' ? Object.values(parsed) : [];
  for (const value of values) {
    const example = typeof value === 'string' ? adaptation.examples[normalise(value)] : undefined;
    if (example) return { body, prefer: `example=${example}` };
  }
  return { body };
}

/**
 * @typedef {object} MockLayer
 * @property {string} url
 * @property {number} port
 * @property {() => Promise<void>} stop
 */

/**
 * Listens on `port` (0: any free one) and passes every request on to `target` (a Prism URL),
 * adapted as above; replies come back as Prism gave them, `sl-violations` included.
 * @param {{ spec: string, target: string, port?: number, host?: string }} options
 * @returns {Promise<MockLayer>}
 */
export async function startMockLayer({ spec, target, port = 0, host = '127.0.0.1' }) {
  const adaptations = await adaptationsOf(spec);
  const server = http.createServer((req, res) => {
    /** @type {Buffer[]} */
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', async () => {
      try {
        const pathname = new URL(req.url ?? '/', 'http://layer').pathname;
        const adaptation = adaptations.find((a) => a.method === req.method && a.pattern.test(pathname));
        const { body, prefer } = adapt(adaptation, String(req.headers['content-type'] ?? ''), Buffer.concat(chunks));
        const headers = new Headers();
        for (const [name, value] of Object.entries(req.headers)) {
          if (value === undefined || name === 'host' || name === 'content-length' || name === 'connection') continue;
          headers.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        if (prefer && !headers.has('prefer')) headers.set('prefer', prefer);
        const method = req.method ?? 'GET';
        const reply = await fetch(`${target}${req.url}`, { method, headers, ...(method === 'GET' || method === 'HEAD' ? {} : { body }) });
        const out = Buffer.from(await reply.arrayBuffer());
        /** @type {Record<string, string>} */
        const replyHeaders = {};
        reply.headers.forEach((value, name) => {
          if (name !== 'content-length' && name !== 'transfer-encoding' && name !== 'connection' && name !== 'content-encoding') replyHeaders[name] = value;
        });
        res.writeHead(reply.status, replyHeaders).end(out);
      } catch (error) {
        res.writeHead(502, { 'content-type': 'text/plain' }).end(`mock layer: Prism at ${target} did not answer: ${error instanceof Error ? error.message : error}`);
      }
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, () => resolve(undefined));
  });
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
