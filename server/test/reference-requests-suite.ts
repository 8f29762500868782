import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRKOptions, RepliesMode } from '../src/index.js';
import { b64, hexId, makePem, startHarness, type Harness } from './helpers/harness.js';

/**
 * The requests the reference Python client makes, in the forms it makes them (raw base64 in tag
 * paths, list parameters on counts, empty Tag and TagNamespace), accepted in both reply modes;
 * and the reference mode's answers asserted exactly. Every response is checked against the specs,
 * so both modes' forms must be the ones the specs document.
 */
export function defineReferenceRequestsSuite(storage: string, options: (replies: RepliesMode) => Promise<LocalRKOptions> | LocalRKOptions): void {
  for (const replies of ['rich', 'reference'] as const) {
    describe(`the reference client's requests on ${storage}, ${replies} replies`, { timeout: 60_000 }, () => {
      let h: Harness;
      const reference = replies === 'reference';

      beforeAll(async () => {
        h = await startHarness({ pemSizeLimit: 4096, ...(await options(replies)), replies });
        expect(h.rk.replies).toBe(replies);
      }, 120_000);

      afterAll(async () => {
        await h?.stop();
      });

      afterEach(() => {
        expect(h.validator.violations()).toEqual([]);
      });

      const textType = 'text/plain; charset=utf-8';

      /** A reference-mode answer: exactly this status, content type and text. */
      function expectText(response: { status: number; text: string; headers: Headers }, status: number, text: string) {
        expect({ status: response.status, type: response.headers.get('content-type'), text: response.text }).toEqual({ status, type: textType, text });
      }

      /** A refusal in either mode: the status, the explanation (JSON `message` or the whole text), nothing changed. */
      async function refused(status: number, send: () => Promise<{ status: number; json: any; text: string; headers: Headers }>, message: string | RegExp) {
        const before = await h.counts();
        const response = await send();
        expect(response.status, response.text).toBe(status);
        if (reference) {
          expect(response.headers.get('content-type')).toBe(textType);
          expect(response.text).not.toContain('\n');
          if (typeof message === 'string') expect(response.text).toBe(message);
          else expect(response.text).toMatch(message);
        } else {
          expect(response.headers.get('content-type')).toBe('application/json');
          if (typeof message === 'string') expect(response.json.message).toBe(message);
          else expect(response.json.message).toMatch(message);
        }
        expect(await h.counts()).toEqual(before);
        return response;
      }

      async function sendPem(pem: ReturnType<typeof makePem>) {
        const ack = await h.call('receiver', 'POST', '/pem', { body: pem });
        if (reference) expectText(ack, 200, `Ack getting ${pem.Type}`);
        else expect({ status: ack.status, json: ack.json }).toEqual({ status: 200, json: { ID: pem.ID, status: 'accepted' } });
        return ack;
      }

      /** POST /tag as the reference client sends it: the base64 tag name as raw text under application/json. */
      async function setTag(nsPath: string, tagPath: string, pemId: string, tagB64: string) {
        const set = await h.call('receiver', 'POST', `/tag/${nsPath}/${tagPath}/${pemId}`, { raw: tagB64, headers: { 'Content-Type': 'application/json' } });
        if (reference) expectText(set, 200, '');
        else expect(set.status, set.text).toBe(200);
        return set;
      }

      async function getTag(nsPath: string, tagPath: string, pemId: string) {
        const got = await h.call('query', 'GET', `/tag/${nsPath}/${tagPath}`);
        expectText(got, 200, pemId); // bare hex in both modes
      }

      describe('Receiver', () => {
        it('acknowledges a PEM, and an identical resend, in the mode\'s form', async () => {
          const pem = makePem({ Type: 'train' });
          await sendPem(pem);
          const again = await h.call('receiver', 'POST', '/pem', { body: pem });
          if (reference) expectText(again, 200, 'Ack getting train');
          else expect(again.json).toEqual({ ID: pem.ID, status: 'duplicate' });
        });

        it('stores an empty Tag and TagNamespace as sent, and moves no tag', async () => {
          const tagsBefore = (await h.call('query', 'GET', '/tags')).json;
          const cases = [makePem({ Tag: '', TagNamespace: '' }), makePem({ Tag: '', TagNamespace: 'some-ns' }), makePem({ Tag: 'some-tag', TagNamespace: '' })];
          for (const pem of cases) {
            await sendPem(pem);
            const stored = await h.call('query', 'GET', `/pem/${pem.ID}`);
            expect(stored.json).toMatchObject({ ID: pem.ID, Tag: pem.Tag, TagNamespace: pem.TagNamespace });
          }
          expect((await h.call('query', 'GET', '/tags')).json).toEqual(tagsBefore);
          expect((await h.call('query', 'GET', `/pems_count?Tag=&TagNamespace=`)).json.pems_count).toBeGreaterThanOrEqual(1);
          expect((await h.call('query', 'GET', `/tag/${b64('some-ns')}/${b64('some-tag')}`)).status).toBe(404);
        });

        it('takes tag segments raw, with = and + as they are, and + is never a space', async () => {
          const pem = makePem();
          await sendPem(pem);
          const ns = 'wire-ns'; // d2lyZS1ucw==
          const tag = '>>> ü'; // Pj4+IMO8 : a '+'
          expect(b64(ns)).toBe('d2lyZS1ucw==');
          expect(b64(tag)).toContain('+');
          await setTag(b64(ns), b64(tag), pem.ID, b64(tag));
          await getTag(b64(ns), b64(tag), pem.ID);
          const listed = (await h.call('query', 'GET', '/tags')).json.find((t: any) => t.NamespaceID === ns);
          expect(listed).toMatchObject({ NamespaceID: ns, Tag: tag, EventID: pem.ID });
          // Were '+' read as a space (query-string decoding), the tag above would have been refused like this.
          await refused(422, () => h.call('query', 'GET', `/tag/${b64(ns)}/${b64(tag).replace('+', '%20')}`), /^tag_b64: must match pattern/);
        });

        it('takes tag segments percent-encoded: %3D, %2B and %2F', async () => {
          const pem = makePem();
          await sendPem(pem);
          const ns = '???>'; // Pz8/Pg== : '/' and '='
          const tag = '>>>'; // Pj4+ : '+'
          const encode = (text: string) => b64(text).replaceAll('/', '%2F').replaceAll('+', '%2B').replaceAll('=', '%3D');
          expect(encode(ns)).toBe('Pz8%2FPg%3D%3D');
          expect(encode(tag)).toBe('Pj4%2B');
          await setTag(encode(ns), encode(tag), pem.ID, b64(tag));
          await getTag(encode(ns), encode(tag), pem.ID);
          // Our client's form: raw but for '/'.
          const ours = (text: string) => b64(text).replaceAll('/', '%2F');
          await getTag(ours(ns), ours(tag), pem.ID);
        });

        it("takes a raw '/' inside a base64 segment where base64's structure leaves one way to split the path", async () => {
          const first = makePem();
          const second = makePem();
          await sendPem(first);
          await sendPem(second);
          const cases = [
            { ns: '???', tag: 't' }, // Pz8/ + dA== : the '/' ends the namespace
            { ns: 'n', tag: '???' }, // bg== + Pz8/ : the '/' ends the tag
            { ns: '??????', tag: '?>?' }, // Pz8/Pz8/ + Pz4/ : two in one segment
            { ns: 'a?', tag: '\u00ff?' }, // YT8= + w78/ : '=' then '/'
          ];
          for (const { ns, tag } of cases) {
            expect(b64(ns) + b64(tag)).toContain('/');
            await setTag(b64(ns), b64(tag), first.ID, b64(tag));
            await getTag(b64(ns), b64(tag), first.ID);
            await setTag(b64(ns), b64(tag), second.ID, b64(tag));
            await getTag(b64(ns), b64(tag), second.ID);
            const record = (await h.call('query', 'GET', '/tags')).json.find((t: any) => t.NamespaceID === ns && t.Tag === tag);
            expect(record, `${ns} ${tag}`).toMatchObject({ EventID: second.ID });
          }
        });

        it("refuses a raw '/' that base64's structure cannot place, with 400 asking for %2F", async () => {
          const pem = makePem();
          await sendPem(pem);
          // YWJj/YWJ/gA== reads as YWJj + YWJ/gA== or as YWJj/YWJ + gA==.
          const path = '/tag/YWJj/YWJ/gA==';
          const message =
            "The path /tag/YWJj/YWJ/gA== is ambiguous: its raw '/' can be read 2 ways (ns_b64=YWJj tag_b64=YWJ/gA==; ns_b64=YWJj/YWJ tag_b64=gA==); " +
            "percent-encode each '/' inside a base64 segment as %2F";
          await refused(400, () => h.call('query', 'GET', path), message);
          await refused(400, () => h.call('receiver', 'POST', `${path}/${pem.ID}`), message.replace(path, `${path}/${pem.ID}`));
          // Percent-encoding the '/' says which reading is meant; this one is no UTF-8 text, which is 422.
          await refused(422, () => h.call('query', 'GET', '/tag/YWJj/YWJ%2FgA=='), 'tag_b64: does not decode to UTF-8 text');
        });

        it('refuses a tag on a PEM that is not stored with 404', async () => {
          const id = hexId();
          await refused(404, () => h.call('receiver', 'POST', `/tag/${b64('ns')}/${b64('t')}/${id}`), `pem_id: no PEM with ID ${id}; send the PEM before tagging it`);
        });

        it('explains a refused PEM', async () => {
          const prefix = reference ? 'PEM is not valid: ' : '';
          await refused(422, () => h.call('receiver', 'POST', '/pem', { body: makePem({ Type: '' }) }), `${prefix}Type: is empty`);
          await refused(400, () => h.call('receiver', 'POST', '/pem', { raw: '{"ID": ', headers: { 'Content-Type': 'application/json' } }), new RegExp(`^${prefix}body: is not valid JSON \\(`));
          const pem = makePem();
          await sendPem(pem);
          await refused(409, () => h.call('receiver', 'POST', '/pem', { body: { ...pem, Type: 'other' } }), `PEM ${pem.ID} is already stored with different content; send it with a new ID`);
          const big = makePem({ Properties: { blob: 'x'.repeat(5000) } });
          const size = Buffer.byteLength(JSON.stringify(big));
          await refused(413, () => h.call('receiver', 'POST', '/pem', { body: big }), `The PEM is ${size} bytes; this Receiver accepts at most 4096 bytes (pem_size_limit)`);
        });
      });

      describe('Query', () => {
        it('counts with the list parameters the reference client forwards, which change nothing', async () => {
          const emitter = `counted-${hexId().slice(0, 8)}`;
          for (let i = 0; i < 3; i++) await sendPem(makePem({ Emitter: emitter, UsesArtifacts: [{ Name: `${emitter}-art-${i}`, Properties: {}, CreatedAt: null }] }));
          for (const paging of ['pageIndex=1&pageSize=1&sortField=TimestampClient&sortOrder=desc', 'pageIndex=0&pageSize=2', 'pageIndex=5', 'sortOrder=asc']) {
            const pems = await h.call('query', 'GET', `/pems_count?${paging}&Emitter=${emitter}`);
            expect({ status: pems.status, json: pems.json }, paging).toEqual({ status: 200, json: { pems_count: 3 } });
            const artifactPaging = paging.replace('TimestampClient', 'CreatedAt');
            const artifacts = await h.call('query', 'GET', `/artifacts_count?${artifactPaging}&Name=${emitter}`);
            expect({ status: artifacts.status, json: artifacts.json }, paging).toEqual({ status: 200, json: { artifacts_count: 3 } });
          }
        });

        it('still refuses unknown filter fields and sort fields on counts with 400', async () => {
          await refused(
            400,
            () => h.call('query', 'GET', '/pems_count?pageSize=1&Colour=red'),
            "Unknown filter field 'Colour'; filterable fields are ID, Type, Predecessor, Emitter, TimestampClient, Tag, TagNamespace, UsesArtifact, ProducesArtifact, and the list parameters are pageIndex, pageSize, sortField, sortOrder",
          );
          await refused(
            400,
            () => h.call('query', 'GET', '/artifacts_count?Emitter=x'),
            "Unknown filter field 'Emitter'; filterable fields are Name, and the list parameters are pageIndex, pageSize, sortField, sortOrder",
          );
          await refused(400, () => h.call('query', 'GET', '/artifacts_count?sortField=Type'), "Unknown sortField 'Type'; sortable fields are Name, CreatedAt");
        });

        it('answers known replies the same in both modes', async () => {
          const info = await h.call('query', 'GET', '/info');
          // What the local RK offers beyond the real RK (ours) is listed only in rich replies.
          const ours = reference ? {} : { capabilities: ['lineage-reads'] };
          expect({ type: info.headers.get('content-type'), json: info.json }).toEqual({ type: 'application/json', json: { version: '3.5.0', auth_required: false, ...ours } });
          const receiver = await h.call('receiver', 'GET', '/info');
          expect(receiver.json).toEqual({ version: '3.5.0', pem_version: '2.0.0', pem_size_limit: 4096, auth_required: false, pem_auth_required: false });
          const count = await h.call('query', 'POST', '/query', { body: { query: 'MATCH (a:Artifact) RETURN count(a);', type: 'r' } });
          expect({ type: count.headers.get('content-type'), rows: count.text }).toEqual({ type: textType, rows: expect.stringMatching(/^\[\[\d+\]\]$/) });
          const started = await h.call('query', 'POST', '/verify_artifact_connections', { body: {} });
          expect({ status: started.status, json: started.json }).toEqual({ status: 202, json: { report_id: expect.stringMatching(/^[0-9a-f-]{36}$/) } });
          const verify = await h.call('graph-builder', 'POST', '/verify', { body: { check_pems: true, check_artifacts: true } });
          expect(typeof verify.json.msg).toBe('string');
        });

        it('explains an unsupported graph query on one line', async () => {
          const response = await refused(400, () => h.call('query', 'POST', '/query', { body: { query: 'MATCH (n) DETACH DELETE n', type: 'rw' } }), /^Unsupported query: /);
          if (reference) expect(response.text).toContain("MATCH (a:Artifact) RETURN count(a) MATCH (p:PEM) RETURN count(p)");
        });
      });

      describe('admin calls', () => {
        it('answers /rebuild, /flush and /clean in the mode\'s form', async () => {
          await sendPem(makePem());
          const rebuild = await h.call('graph-builder', 'POST', '/rebuild', { body: {} });
          const flush = await h.call('graph-builder', 'POST', '/flush', { body: {} });
          if (reference) {
            expectText(rebuild, 200, 'OK');
            expectText(flush, 200, 'OK');
          } else {
            expect({ status: rebuild.status, msg: rebuild.json.msg }).toEqual({ status: 202, msg: expect.stringMatching(/^Rebuild requested/) });
            expect({ status: flush.status, msg: flush.json.msg }).toEqual({ status: 200, msg: expect.stringMatching(/^Flushed \d+ PEMs?/) });
          }
          const info = (await h.call('graph-builder', 'GET', '/info')).json;
          expect(info.neo4j_pems_count).toBe(info.pg_pems_count);
          const clean = await h.call('query', 'POST', '/clean', { body: {} });
          if (reference) expectText(clean, 200, 'OK');
          else expect({ status: clean.status, msg: clean.json.msg }).toEqual({ status: 200, msg: expect.stringMatching(/^Erased /) });
          expect(await h.counts()).toEqual({ pems: 0, artifacts: 0, tags: 0 });
        });

        it('refuses a body that is not {} with the reason', async () => {
          await refused(422, () => h.call('query', 'POST', '/clean', { body: { everything: true } }), /^body: /);
        });
      });
    });
  }
}
