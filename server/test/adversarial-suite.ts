import { request as httpRequest } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRKOptions } from '../src/index.js';
import { b64, hexId, makePem, startHarness, type Harness } from './helpers/harness.js';

/**
 * Hostile input over raw HTTP: bad bodies, long and odd strings, NUL, filters, base64 segments,
 * Cypher, cross-site requests and size limits. Every case must be a 4xx that names the field,
 * stores nothing and leaves the server serving; every answer is checked against the specs.
 * Run on PGlite and on PostgreSQL (pglite.test.ts, postgres.test.ts).
 */
export function defineAdversarialSuite(storage: string, options: () => Promise<LocalRKOptions> | LocalRKOptions): void {
  describe(`hostile input on ${storage}`, { timeout: 60_000 }, () => {
    let h: Harness;

    beforeAll(async () => {
      h = await startHarness({ pemSizeLimit: 64 * 1024, ...(await options()) });
      // Something stored, so "nothing erased" means something.
      expect((await h.call('receiver', 'POST', '/pem', { body: makePem() })).status).toBe(200);
    }, 120_000);

    afterAll(async () => {
      await h?.stop();
    });

    afterEach(async () => {
      expect(h.validator.violations()).toEqual([]);
      expect((await h.call('receiver', 'GET', '/info')).status).toBe(200);
    });

    type Answer = { status: number; json: any };
    async function refused(status: number | number[], send: () => Promise<Answer>, field?: string, text?: string): Promise<any> {
      const before = await h.counts();
      const answer = await send();
      const allowed = Array.isArray(status) ? status : [status];
      expect(allowed, JSON.stringify(answer.json)).toContain(answer.status);
      expect(typeof answer.json?.message).toBe('string');
      if (field !== undefined) {
        expect(answer.json.field).toBe(field);
        expect(answer.json.message).toContain(field);
      }
      if (text !== undefined) expect(answer.json.message).toContain(text);
      // No internals in any refusal.
      expect(answer.json.message).not.toMatch(/SELECT |INSERT |\brk_(pems|artifacts|tags|graph_nodes|graph_edges|pem_artifacts|reports|meta)\b|pkey|btree|index row|\$\d/);
      expect(await h.counts()).toEqual(before);
      return answer.json;
    }
    const sendPem = (overrides: Record<string, unknown>) => () => h.call('receiver', 'POST', '/pem', { body: { ...makePem(), ...overrides } });
    const artifact = (Name: string) => ({ Name, Properties: {}, CreatedAt: null });
    const random = (n: number) => Array.from({ length: n }, () => String.fromCharCode(33 + Math.floor(Math.random() * 90))).join('');

    describe('long and odd strings', () => {
      it('refuses names, types, emitters, tags and namespaces past their maxLength with 422 naming field and limit', async () => {
        await refused(422, sendPem({ UsesArtifacts: [artifact(random(2700))] }), 'UsesArtifacts[0].Name', '512');
        await refused(422, sendPem({ ProducesArtifacts: [artifact('x'.repeat(10_000))] }), 'ProducesArtifacts[0].Name', '512');
        await refused(422, sendPem({ UsesArtifacts: [artifact('n'.repeat(513))] }), 'UsesArtifacts[0].Name', '512');
        await refused(422, sendPem({ Tag: 't'.repeat(3000) }), 'Tag', '256');
        await refused(422, sendPem({ TagNamespace: 'n'.repeat(10_000) }), 'TagNamespace', '256');
        await refused(422, sendPem({ Type: 'y'.repeat(257) }), 'Type', '256');
        await refused(422, sendPem({ Emitter: 'e'.repeat(5000) }), 'Emitter', '256');
      });

      it('accepts text at the limits in 4-byte characters, and the graph projects it', async () => {
        const name = '🦊'.repeat(512);
        const pem = makePem({ Tag: '🏷'.repeat(256), TagNamespace: '🌐'.repeat(256), Type: '🧪'.repeat(256), Emitter: '📮'.repeat(256), UsesArtifacts: [artifact(name)] });
        expect((await h.call('receiver', 'POST', '/pem', { body: pem })).status).toBe(200);
        expect((await h.call('graph-builder', 'POST', '/flush', { body: {} })).status).toBe(200);
        const info = (await h.call('graph-builder', 'GET', '/info')).json;
        expect(info.loop_state_should_flush).toBe('False');
        expect(info.pems_sync_pct).toBe('100.0');
      });

      it('refuses NUL and lone surrogates wherever text goes', async () => {
        await refused(422, sendPem({ Type: 'a\u0000b' }), 'Type');
        await refused(422, sendPem({ Properties: { 'k\u0000': 1 } }), 'Properties');
        await refused(422, sendPem({ UsesArtifacts: [{ Name: 'a', Properties: { u: '\ud800' }, CreatedAt: null }] }));
      });

      it('refuses impossible timestamps', async () => {
        await refused(422, sendPem({ TimestampClient: '2026-13-45 99:99:99' }), 'TimestampClient');
        await refused(422, sendPem({ TimestampClient: '2026-02-30 10:00:00' }), 'TimestampClient');
        await refused(422, sendPem({ TimestampClient: '2026-01-01 24:00:00' }), 'TimestampClient');
      });
    });

    describe('bad bodies', () => {
      const raw = (text: string | Uint8Array, type = 'application/json') => () => h.call('receiver', 'POST', '/pem', { raw: text, headers: { 'Content-Type': type } });
      it('refuses what is not a JSON PEM with 400 or 422', async () => {
        await refused(400, raw('{"ID": '), 'body');
        await refused(400, raw(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), 'body');
        await refused(422, raw('[]'));
        await refused(422, raw('null'));
        await refused(422, raw('"text"'));
        await refused(422, raw(JSON.stringify(makePem()).replace('"rows":3', '"rows":1e999')));
        await refused(422, raw(JSON.stringify({ ...makePem(), Properties: JSON.parse('['.repeat(500) + ']'.repeat(500)) })));
        await refused(422, raw(JSON.stringify(makePem({ Properties: { deep: JSON.parse('{"a":'.repeat(200) + '1' + '}'.repeat(200)) } }))));
        await refused(422, raw(JSON.stringify({ ...makePem(), Extra: 1 })), 'Extra');
      });

      it('refuses a PEM over the size limit, with and without Content-Length, reading no more than the limit', async () => {
        const big = JSON.stringify(makePem({ Properties: { blob: 'x'.repeat(70 * 1024) } }));
        await refused(413, raw(big));
        let sent = 0;
        const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
        const endless = new ReadableStream<Uint8Array>({
          pull(controller) {
            // 64 MiB if the server read it all; it must answer long before.
            if (sent++ > 1024) controller.close();
            else controller.enqueue(chunk);
          },
        });
        const json = await refused(413, () => h.call('receiver', 'POST', '/pem', { raw: endless, headers: { 'Content-Type': 'application/json' } }));
        expect(json.message).toContain('more than 65536');
        expect(sent).toBeLessThan(100);
      });

      it('refuses other bodies over 1 MiB', async () => {
        await refused(400, () => h.call('query', 'POST', '/query', { raw: JSON.stringify({ query: 'x'.repeat(1_100_000), type: 'r' }), headers: { 'Content-Type': 'application/json' } }), 'body');
      });
    });

    describe('filters and paths', () => {
      it('refuses NUL in list and count filters with 422 naming the filter', async () => {
        await refused(422, () => h.call('query', 'GET', '/pems?Type=a%00b'), 'Type');
        await refused(422, () => h.call('query', 'GET', '/pems_count?Emitter=%00'), 'Emitter');
        await refused(422, () => h.call('query', 'GET', '/artifacts?Name=%00'), 'Name');
        await refused(422, () => h.call('query', 'GET', '/artifacts_count?Name=x%00'), 'Name');
      });

      it('answers odd filters without a 500', async () => {
        for (const value of ['%25', '_', '%5C', "'", '%22', '%F0%9F%A6%8A', 'x'.repeat(5000)]) {
          const answer = await h.call('query', 'GET', `/pems?Type=${value}`);
          expect(answer.status).toBe(200);
          const count = await h.call('query', 'GET', `/artifacts_count?Name=${value}`);
          expect(count.status).toBe(200);
        }
        await refused(422, () => h.call('query', 'GET', '/pems?pageSize=-1'), 'pageSize');
        await refused(422, () => h.call('query', 'GET', '/pems?pageSize=99999999999999999999'), 'pageSize');
        await refused([400, 422], () => h.call('query', 'GET', '/pems?sortField=%00'), 'sortField');
        // Bytes that are not UTF-8 and broken escapes are refused (issue 19), not read as other text.
        for (const value of ['%C3%28', '%ZZ', '%E2%9C']) {
          await refused(400, () => h.call('query', 'GET', `/pems?Type=${value}`), 'Type');
          await refused(400, () => h.call('query', 'GET', `/artifacts_count?Name=${value}`), 'Name');
        }
      });

      it('refuses base64 tag segments that are not base64 of short UTF-8 text', async () => {
        const id = hexId();
        const tag = (ns: string, name: string) => () => h.call('receiver', 'POST', `/tag/${ns}/${name}/${id}`, { raw: name, headers: { 'Content-Type': 'application/json' } });
        await refused(422, tag('abc', b64('t')), 'ns_b64');
        await refused(422, tag(Buffer.from([0xff, 0xfe]).toString('base64'), b64('t')), 'ns_b64');
        await refused(422, tag(b64('a\u0000'), b64('t')), 'ns_b64');
        await refused(422, tag(b64('n'), b64('x'.repeat(300))), 'tag_b64', '256');
        await refused(422, tag(b64('n'), 'QUFB'.repeat(400)), 'tag_b64');
        await refused([400, 404, 422], () => h.call('query', 'GET', `/tag/${'%2F'.repeat(50)}/${b64('t')}`));
      });

      it('refuses NUL inside a Cypher string literal, and unsupported statements, without a 500', async () => {
        const query = (text: string) => () => h.call('query', 'POST', '/query', { body: { query: text, type: 'r' } });
        await refused(422, query("CALL rk.lineage.upstream('PEM', 'a\\u0000b')"), 'query');
        await refused(422, query("MATCH (p:PEM)-[:USES]->(a:Artifact {rk_id: 'x\\u0000'}) RETURN p.rk_id AS rk_id"), 'query');
        await refused(422, query('MATCH (a:Artifact) RETURN count(a)\u0000'), 'query');
        await refused(400, query('MATCH (n) DETACH DELETE n'), 'query');
        await refused(400, query("CALL rk.lineage.upstream('PEM', 'unterminated)"), 'query');
        const answer = await h.call('query', 'POST', '/query', { body: { query: `CALL rk.lineage.upstream('Artifact', '${'z'.repeat(3000)}')`, type: 'r' } });
        expect(answer.status).toBe(200);
      });
    });

    describe('cross-site requests', () => {
      it('refuses a JSON endpoint called without Content-Type or with a form type: nothing erased', async () => {
        await refused([400, 422], () => h.call('query', 'POST', '/clean', { raw: '{}', headers: {} }), 'body');
        await refused([400, 422], () => h.call('query', 'POST', '/clean', { raw: '{}', headers: { 'Content-Type': 'text/plain' } }), 'body');
        await refused([400, 422], () => h.call('query', 'POST', '/clean', { raw: '', headers: {} }), 'body');
        await refused([400, 422], () => h.call('query', 'POST', '/clean', { raw: 'a=1', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), 'body');
        await refused([400, 422], () => h.call('receiver', 'POST', '/pem', { raw: JSON.stringify(makePem()), headers: { 'Content-Type': 'text/plain' } }), 'body');
      });

      it('refuses state changes from a foreign Origin with 403, and answers no preflight', async () => {
        await refused(403, () => h.call('query', 'POST', '/clean', { body: {}, headers: { Origin: 'http://evil.example' } }));
        await refused(403, () => h.call('receiver', 'POST', '/pem', { body: makePem(), headers: { Origin: 'null' } }));
        const preflight = await fetch(h.url('query', '/clean'), { method: 'OPTIONS', headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' } });
        expect(preflight.status).toBe(403);
        expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
        // The server's own origin is not foreign.
        const own = new URL(h.rk.receiverUrl).origin;
        expect((await h.call('receiver', 'POST', '/pem', { body: makePem(), headers: { Origin: own } })).status).toBe(200);
      });

      it('refuses state changes sent to a host name that is not the server (DNS rebinding)', async () => {
        const before = await h.counts();
        const url = new URL(h.url('receiver', '/pem'));
        const body = JSON.stringify(makePem());
        const status = await new Promise<number>((resolve, reject) => {
          const req = httpRequest(
            { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { Host: `rebind.example:${url.port}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          );
          req.on('error', reject);
          req.end(body);
        });
        expect(status).toBe(403);
        expect(await h.counts()).toEqual(before);
      });
    });
  });

  describe(`CORS opt-in on ${storage}`, { timeout: 60_000 }, () => {
    let h: Harness;
    const origin = 'http://localhost:5173';
    beforeAll(async () => {
      h = await startHarness({ ...(await options()), cors: [origin] });
    }, 120_000);
    afterAll(async () => {
      await h?.stop();
    });

    it('answers the preflight of an allowed origin and lets it send a PEM', async () => {
      const preflight = await fetch(h.url('receiver', '/pem'), {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
      expect(preflight.headers.get('access-control-allow-headers')).toContain('content-type');
      const sent = await h.call('receiver', 'POST', '/pem', { body: makePem(), headers: { Origin: origin } });
      expect(sent.status).toBe(200);
      expect(sent.headers.get('access-control-allow-origin')).toBe(origin);
      const other = await h.call('receiver', 'POST', '/pem', { body: makePem(), headers: { Origin: 'http://localhost:9999' } });
      expect(other.status).toBe(403);
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      expect(h.validator.violations()).toEqual([]);
    });
  });
}
