import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { badPercentEncoding, IGNORED_BODY } from '../src/http.js';
import { loadSpecs, SERVICES } from '../src/spec.js';
import { SchemaValidator } from '../src/validation.js';
import { fileStore, makePem, startHarness, type Harness } from './helpers/harness.js';

/**
 * Issue 19's server refusals: the spec's refusals are the server's (impossible client times and
 * broken percent-encoding in filters, the Idempotency-Key and X-RK-Attempt headers), a client that
 * goes away mid-upload is an info line and not an internal error, and without credentials only
 * requests sent to this server's own Host names are answered (DNS rebinding).
 */

/** One PGlite store for the file's servers, emptied for each. */
const store = fileStore();

/** A raw request, so the Host header and the query string go out exactly as written. */
function raw(url: string, init: { host?: string; method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const target = new URL(url);
  return new Promise<{ status: number; json: any }>((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: init.method ?? 'GET',
        headers: { ...(init.host ? { host: init.host } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = text;
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

describe('the request schemas', () => {
  // The server compiles a schema on the first request that needs it (http.ts); this is the check
  // a start-up compile of every schema made: the specs hold no schema strict Ajv cannot read.
  it('every parameter and request body schema of the three specs fits the meta-schema and compiles as the server compiles it', async () => {
    const specs = await loadSpecs();
    // checkSchemas on (the default): the server compiles without the meta-schema, this proves it unneeded.
    const validator = new SchemaValidator();
    const compiled: string[] = [];
    for (const service of SERVICES) {
      for (const operation of specs[service].operations) {
        for (const parameter of operation.parameters) {
          expect(() => validator.compile(parameter.schema), `${operation.operationId} ${parameter.name}`).not.toThrow();
          compiled.push(`${operation.operationId} ${parameter.name}`);
        }
        const schema = operation.requestBody?.content['application/json']?.schema;
        if (schema && !IGNORED_BODY.has(operation.operationId)) {
          expect(() => validator.compile(schema), `${operation.operationId} body`).not.toThrow();
          compiled.push(`${operation.operationId} body`);
        }
      }
    }
    expect(compiled).toContain('sendPem body');
    expect(compiled.length).toBeGreaterThan(20);
  });
});

describe('the spec refusals are the server refusals', { timeout: 60_000 }, () => {
  let h: Harness;
  const infos: string[] = [];
  const errors: unknown[] = [];

  beforeAll(async () => {
    h = await startHarness({ storage: await store(), onInfo: (line) => infos.push(line), onError: (error) => errors.push(error) });
  }, 120_000);
  afterAll(async () => h?.stop());
  afterEach(() => expect(h.validator.violations()).toEqual([]));

  it('refuses a client time that does not exist in a filter with 422 naming it, on lists and counts', async () => {
    await h.call('receiver', 'POST', '/pem', { body: makePem({ TimestampClient: '2026-11-27 22:06:40' }) });
    for (const path of ['/pems', '/pems_count']) {
      for (const time of ['2026-13-45 99:99:99', '2026-02-30 10:00:00', '2026-11-27 24:00:00']) {
        const refused = await h.call('query', 'GET', `${path}?TimestampClient=${encodeURIComponent(time)}`);
        expect({ status: refused.status, code: refused.json.code, field: refused.json.field }, `${path} ${time}`).toEqual({
          status: 422,
          code: 'invalid_request',
          field: 'TimestampClient',
        });
        expect(refused.json.message).toContain('is not a real UTC time');
      }
    }
    const real = await h.call('query', 'GET', `/pems_count?TimestampClient=${encodeURIComponent('2026-11-27 22:06:40')}`);
    expect(real.json.pems_count).toBeGreaterThanOrEqual(1);
  });

  it('refuses broken percent-encoding in a filter with 400, instead of filtering by the literal text', async () => {
    for (const query of ['Type=%ZZ', 'Emitter=a%2', 'Type=%FF', 'Ty%ZZpe=x']) {
      const refused = await raw(h.url('query', `/pems?${query}`));
      expect({ status: refused.status, code: refused.json.code }, query).toEqual({ status: 400, code: 'malformed_request' });
      expect(refused.json.message).toMatch(/is not valid percent-encoding.*%25/);
    }
    expect((await raw(h.url('query', '/pems?Type=100%25'))).status).toBe(200);
    expect(badPercentEncoding('Type=a+b&Emitter=%E2%9C%93')).toBeUndefined();
    expect(badPercentEncoding('Type=ok&Emitter=%E2%9C')).toEqual({ name: 'Emitter', text: '%E2%9C' });
  });

  it('validates Idempotency-Key and X-RK-Attempt as the specs declare them, and stores nothing refused', async () => {
    const before = await h.counts();
    for (const [header, value, message] of [
      ['Idempotency-Key', '', /Idempotency-Key: is empty/],
      ['X-RK-Attempt', '0', /X-RK-Attempt: must be >= 1/],
      ['X-RK-Attempt', 'two', /X-RK-Attempt: must be integer/],
      ['X-RK-Attempt', '1.5', /X-RK-Attempt: must be integer/],
      ['X-RK-Attempt', '-3', /X-RK-Attempt: must be integer/],
    ] as const) {
      const refused = await raw(h.url('receiver', '/pem'), { method: 'POST', body: JSON.stringify(makePem()), headers: { [header]: value } });
      expect({ status: refused.status, field: refused.json.field }, `${header}: ${value}`).toEqual({ status: 422, field: header });
      expect(refused.json.message).toMatch(message);
    }
    expect(await h.counts()).toEqual(before);
    const pem = makePem();
    const accepted = await h.call('receiver', 'POST', '/pem', { body: pem, headers: { 'Idempotency-Key': pem.ID, 'X-RK-Attempt': '2' } });
    expect(accepted.status).toBe(200);
    const flushed = await h.call('graph-builder', 'POST', '/flush', { body: {}, headers: { 'X-RK-Attempt': 'again' } });
    expect(flushed.status).toBe(422);
    // An operation that declares neither header ignores them.
    expect((await h.call('query', 'GET', '/pems_count', { headers: { 'X-RK-Attempt': 'again' } })).status).toBe(200);
  });

  it('logs a PEM upload cut short as one info line, not as an internal error, and stores nothing', async () => {
    const before = await h.counts();
    const body = JSON.stringify(makePem({ Properties: { pad: 'x'.repeat(5000) } }));
    const url = new URL(h.url('receiver', '/pem'));
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(
          `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 1000)}`,
          () => setTimeout(() => socket.destroy(), 100),
        );
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    for (let i = 0; i < 50 && !infos.length; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(infos).toEqual([`sendPem: the client closed the connection after 1000 of ${Buffer.byteLength(body)} bytes of the body; nothing was stored`]);
    expect(errors).toEqual([]);
    expect(await h.counts()).toEqual(before);
  });
});

describe('without credentials only requests to its own Host names are answered', { timeout: 60_000 }, () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ storage: await store(), allowedHosts: ['rk.lan'] });
  }, 120_000);
  afterAll(async () => h?.stop());

  it('refuses reads sent to another host name (DNS rebinding) with 403 saying which names it answers', async () => {
    const pem = makePem();
    await h.call('receiver', 'POST', '/pem', { body: pem });
    for (const path of [`/pem/${pem.ID}`, '/pems', '/info']) {
      const refused = await raw(h.url('query', path), { host: 'attacker.example:8082' });
      expect({ status: refused.status, code: refused.json.code }, path).toEqual({ status: 403, code: 'forbidden' });
      expect(refused.json.message).toBe(
        'Host "attacker.example" is not this server\'s; it answers localhost, 127.0.0.1, [::1], rk.lan (add names with --allowed-host)',
      );
      expect(JSON.stringify(refused.json)).not.toContain(pem.ID);
    }
    expect((await raw(h.url('receiver', '/info'), { host: 'attacker.example' })).status).toBe(403);
    expect((await raw(h.url('query', '/nowhere'), { host: 'attacker.example' })).status).toBe(403);
    for (const host of ['localhost:1', '127.0.0.1', '[::1]:8082', 'RK.lan:80']) {
      const read = await raw(h.url('query', `/pem/${pem.ID}`), { host });
      expect({ host, status: read.status, id: read.json.ID }).toEqual({ host, status: 200, id: pem.ID });
    }
    expect(h.rk.answeredHosts).toBe('localhost, 127.0.0.1, [::1], rk.lan (add names with --allowed-host)');
  });
});

describe('with credentials the Host is checked on state changes only', { timeout: 60_000 }, () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ storage: await store(), userTokens: ['reader'] });
  }, 120_000);
  afterAll(async () => h?.stop());

  it('answers a read with a credential whatever the Host, and says nothing about hosts at start-up', async () => {
    const read = await raw(h.url('query', '/pems_count'), { host: 'rk.internal.example', headers: { 'X-RK-User-Auth': 'reader' } });
    expect(read).toEqual({ status: 200, json: { pems_count: 0 } });
    const post = await raw(h.url('receiver', '/pem'), { host: 'rk.internal.example', method: 'POST', body: JSON.stringify(makePem()) });
    expect(post.status).toBe(403);
    expect(h.rk.answeredHosts).toBeUndefined();
  });
});
