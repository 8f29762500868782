import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseRows } from '../../src/python-literal.js';
import type { LocalRKOptions } from '../src/index.js';
import { b64, hexId, makePem, startHarness, waitForReport, type Harness } from './helpers/harness.js';

/**
 * The server's behaviour over raw HTTP, every response checked against the specs. Defined once
 * and run on each storage (PGlite in memory, a real PostgreSQL): the same SQL must behave the same.
 */
export function defineServerSuite(storage: string, options: () => Promise<LocalRKOptions> | LocalRKOptions): void {
  describe(`local RK on ${storage}`, { timeout: 60_000 }, () => {
    let h: Harness;

    beforeAll(async () => {
      h = await startHarness({ pemSizeLimit: 4096, ...(await options()) });
    }, 120_000);

    afterAll(async () => {
      await h?.stop();
    });

    afterEach(() => {
      expect(h.validator.violations()).toEqual([]);
    });

    /** Sends each bad request and asserts it is refused with `status` and changes nothing. */
    async function refusedWithoutChange(status: number, send: () => Promise<{ status: number; json: any }>, field?: string) {
      const before = await h.counts();
      const response = await send();
      expect(response.status, JSON.stringify(response.json)).toBe(status);
      expect(typeof response.json?.message).toBe('string');
      if (field !== undefined) {
        expect(response.json.field).toBe(field);
        expect(response.json.message).toContain(field);
      }
      expect(await h.counts()).toEqual(before);
      return response.json;
    }

    describe('Receiver', () => {
      it('describes itself from its configuration and the spec', async () => {
        const info = await h.call('receiver', 'GET', '/info');
        expect(info.json).toEqual({ version: '3.5.0', pem_version: '2.0.0', pem_size_limit: 4096, auth_required: false, pem_auth_required: false });
      });

      it('stores a PEM and the Query service reads it back field for field', async () => {
        const pem = makePem({
          Type: 'train',
          Predecessor: hexId(),
          Properties: { epochs: 10, rate: 0.5, tags: ['a', 'b'], deep: { x: null, y: true }, unicode: 'naïve ☃' },
          Tag: 'nightly',
          TagNamespace: 'trainer-ns',
          UsesArtifacts: [
            { Name: `in-${hexId()}`, Properties: { uri: 's3://b/in' }, CreatedAt: null },
            { Name: `in2-${hexId()}`, Properties: {}, CreatedAt: null },
          ],
          ProducesArtifacts: [{ Name: `out-${hexId()}`, Properties: { uri: 's3://b/out', sha: 'abc' }, CreatedAt: null }],
        });
        const ack = await h.call('receiver', 'POST', '/pem', { body: pem });
        expect(ack.status).toBe(200);
        expect(ack.json).toEqual({ ID: pem.ID, status: 'accepted' });

        const stored = await h.call('query', 'GET', `/pem/${pem.ID}`);
        expect(stored.status).toBe(200);
        const { Version: _version, UsesArtifacts, ProducesArtifacts, ...fields } = pem;
        expect(stored.json).toEqual({
          ...fields,
          TimestampReceived: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
          UsesArtifacts: UsesArtifacts.map((a) => a.Name),
          ProducesArtifacts: ProducesArtifacts.map((a) => a.Name),
        });
        // Key order of Properties is kept as sent.
        expect(Object.keys(stored.json.Properties)).toEqual(Object.keys(pem.Properties));

        for (const artifact of [...UsesArtifacts, ...ProducesArtifacts]) {
          const listed = await h.call('query', 'GET', `/artifacts?Name=${encodeURIComponent(artifact.Name)}`);
          expect(listed.json).toEqual([{ Name: artifact.Name, Properties: artifact.Properties, CreatedAt: stored.json.TimestampReceived }]);
        }
        const tag = await h.call('query', 'GET', `/tag/${b64('trainer-ns')}/${b64('nightly')}`);
        expect(tag.text).toBe(pem.ID);
      });

      it('acknowledges an identical resend as a duplicate, in any key order, and refuses other content with 409', async () => {
        const pem = makePem();
        expect((await h.call('receiver', 'POST', '/pem', { body: pem })).json.status).toBe('accepted');
        const reordered = Object.fromEntries(Object.entries(pem).reverse());
        const again = await h.call('receiver', 'POST', '/pem', { body: reordered });
        expect(again.status).toBe(200);
        expect(again.json).toEqual({ ID: pem.ID, status: 'duplicate' });
        const json = await refusedWithoutChange(409, () => h.call('receiver', 'POST', '/pem', { body: { ...pem, Type: 'other' } }), 'ID');
        expect(json.code).toBe('conflict');
        expect((await h.call('query', 'GET', `/pem/${pem.ID}`)).json.Type).toBe(pem.Type);
      });

      it('stores a PEM sent concurrently once: one accepted, the rest duplicates or conflicts', async () => {
        const pem = makePem();
        const same = await Promise.all(Array.from({ length: 8 }, () => h.call('receiver', 'POST', '/pem', { body: pem })));
        expect(same.map((r) => r.json.status).sort()).toEqual(['accepted', ...Array(7).fill('duplicate')]);
        const other = makePem();
        const variants = await Promise.all(Array.from({ length: 8 }, (_, i) => h.call('receiver', 'POST', '/pem', { body: { ...other, Type: `variant-${i}` } })));
        expect(variants.filter((r) => r.status === 200)).toHaveLength(1);
        expect(variants.filter((r) => r.status === 409)).toHaveLength(7);
        const winner = variants.find((r) => r.status === 200)!;
        expect(winner.json).toEqual({ ID: other.ID, status: 'accepted' });
        expect((await h.call('query', 'GET', `/pems_count?ID=${other.ID}`)).json).toEqual({ pems_count: 1 });
      });

      it("keeps an artifact's CreatedAt from its first sight and merges its properties", async () => {
        const name = `shared-${hexId()}`;
        await h.call('receiver', 'POST', '/pem', { body: makePem({ UsesArtifacts: [{ Name: name, Properties: { uri: 'first', a: '1' }, CreatedAt: null }] }) });
        const [first] = (await h.call('query', 'GET', `/artifacts?Name=${name}`)).json;
        await h.call('receiver', 'POST', '/pem', {
          body: makePem({ ProducesArtifacts: [{ Name: name, Properties: { uri: 'second' }, CreatedAt: null }], UsesArtifacts: [] }),
        });
        const [second] = (await h.call('query', 'GET', `/artifacts?Name=${name}`)).json;
        expect(second).toEqual({ Name: name, Properties: { uri: 'second', a: '1' }, CreatedAt: first.CreatedAt });
      });

      it('refuses a PEM over pem_size_limit with 413 giving both sizes, with or without Content-Length', async () => {
        const big = makePem({ Properties: { blob: 'x'.repeat(5000) } });
        const size = Buffer.byteLength(JSON.stringify(big));
        const json = await refusedWithoutChange(413, () => h.call('receiver', 'POST', '/pem', { body: big }));
        expect(json.code).toBe('pem_too_large');
        expect(json.message).toContain(String(size));
        expect(json.message).toContain('4096');
        const chunked = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(JSON.stringify(big)));
            controller.close();
          },
        });
        const streamed = await refusedWithoutChange(413, () =>
          h.call('receiver', 'POST', '/pem', { raw: chunked, headers: { 'Content-Type': 'application/json' } }),
        );
        expect(streamed.message).toContain(String(size));
        // The connection is still usable afterwards.
        expect((await h.call('receiver', 'GET', '/info')).status).toBe(200);
      });

      it('moves a tag to a PEM, records when, and accepts the reference client\'s raw text body under application/json', async () => {
        const first = makePem();
        const second = makePem();
        await h.call('receiver', 'POST', '/pem', { body: first });
        await h.call('receiver', 'POST', '/pem', { body: second });
        const ns = b64('deploy');
        const tag = b64('production');
        const set = await h.call('receiver', 'POST', `/tag/${ns}/${tag}/${first.ID}`, { raw: tag, headers: { 'Content-Type': 'application/json' } });
        expect(set.status).toBe(200);
        expect(set.json).toEqual({ NamespaceID: 'deploy', Tag: 'production', EventID: first.ID, UpdatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/) });
        const before = (await h.counts()).tags;
        const moved = await h.call('receiver', 'POST', `/tag/${ns}/${tag}/${second.ID}`, { raw: 'anything at all', headers: { 'Content-Type': 'text/plain' } });
        expect(moved.json.EventID).toBe(second.ID);
        expect((await h.counts()).tags).toBe(before);
        expect((await h.call('query', 'GET', `/tag/${ns}/${tag}`)).text).toBe(second.ID);
        const record = (await h.call('query', 'GET', '/tags')).json.find((t: any) => t.NamespaceID === 'deploy' && t.Tag === 'production');
        expect(record).toEqual(moved.json);
      });

      it('answers 404 for a tag on a PEM that does not exist, storing nothing', async () => {
        const json = await refusedWithoutChange(404, () => h.call('receiver', 'POST', `/tag/${b64('ns')}/${b64('t')}/${hexId()}`), 'pem_id');
        expect(json.code).toBe('not_found');
      });

      it('takes tags with non-ASCII text and base64 holding /, + and =, raw or percent-encoded', async () => {
        const pem = makePem();
        await h.call('receiver', 'POST', '/pem', { body: pem });
        const cases = [
          { ns: 'équipe données', tag: 'prød 🚀' },
          { ns: '???', tag: 'slash' }, // Pz8/ : a '/'
          { ns: '>>>', tag: 'plus' }, // Pj4+ : a '+'
          { ns: '?>', tag: 'eq' }, // Pz4= : a '='
        ];
        expect(b64('???')).toContain('/');
        expect(b64('>>>')).toContain('+');
        expect(b64('?>')).toContain('=');
        for (const { ns, tag } of cases) {
          const encoded = `/tag/${encodeURIComponent(b64(ns))}/${encodeURIComponent(b64(tag))}`;
          const set = await h.call('receiver', 'POST', `${encoded}/${pem.ID}`);
          expect(set.status, ns).toBe(200);
          expect(set.json).toMatchObject({ NamespaceID: ns, Tag: tag, EventID: pem.ID });
          expect((await h.call('query', 'GET', encoded)).text).toBe(pem.ID);
          // The reference client sends the base64 unencoded, '/' included; these all split one way.
          const raw = `/tag/${b64(ns)}/${b64(tag)}`;
          expect((await h.call('receiver', 'POST', `${raw}/${pem.ID}`)).status).toBe(200);
          expect((await h.call('query', 'GET', raw)).text).toBe(pem.ID);
        }
        const tags = (await h.call('query', 'GET', '/tags')).json;
        expect(tags).toEqual(expect.arrayContaining(cases.map(({ ns, tag }) => expect.objectContaining({ NamespaceID: ns, Tag: tag }))));
      });

      it('treats SQL and Cypher fragments in tags as plain text', async () => {
        const pem = makePem();
        await h.call('receiver', 'POST', '/pem', { body: pem });
        const hostile = ["x'); DROP TABLE rk_pems; --", '"; DELETE FROM rk_tags; --', "a'}) MATCH (n) DETACH DELETE n //", '%_\\'];
        for (const text of hostile) {
          const path = `/tag/${encodeURIComponent(b64(text))}/${encodeURIComponent(b64(text))}`;
          expect((await h.call('receiver', 'POST', `${path}/${pem.ID}`)).json).toMatchObject({ NamespaceID: text, Tag: text });
          expect((await h.call('query', 'GET', path)).text).toBe(pem.ID);
        }
        expect((await h.call('query', 'GET', `/pem/${pem.ID}`)).status).toBe(200);
        expect((await h.counts()).pems).toBeGreaterThan(0);
      });
    });

    describe('bad input is refused with an explanation and stores nothing', () => {
      it('malformed JSON is 400', async () => {
        const json = await refusedWithoutChange(400, () =>
          h.call('receiver', 'POST', '/pem', { raw: '{"ID": "abc",', headers: { 'Content-Type': 'application/json' } }),
        );
        expect(json.code).toBe('malformed_request');
        expect(json.message).toMatch(/not valid JSON/);
      });

      it('a body that is not JSON at all, or not sent as JSON, is 400', async () => {
        await refusedWithoutChange(400, () => h.call('receiver', 'POST', '/pem', { raw: 'hello', headers: { 'Content-Type': 'application/json' } }));
        await refusedWithoutChange(400, () => h.call('receiver', 'POST', '/pem', { raw: JSON.stringify(makePem()), headers: { 'Content-Type': 'text/plain' } }), 'body');
      });

      it.each([
        ['a wrong type', { Type: 5 }, 'Type'],
        ['a wrong nested type', { UsesArtifacts: [{ Name: 'a', Properties: { n: 1 }, CreatedAt: null }] }, 'UsesArtifacts[0].Properties.n'],
        ['Properties that are not an object', { Properties: [1, 2] }, 'Properties'],
        ['a non-hex ID', { ID: 'A606C8EA39A111EB8AD60A9A235141B0' }, 'ID'],
        ['a dashed ID', { ID: 'a606c8ea-39a1-11eb-8ad6-0a9a235141b0' }, 'ID'],
        ['a non-hex Predecessor', { Predecessor: 'not-an-id' }, 'Predecessor'],
        ['a bad timestamp', { TimestampClient: '2026-11-27T22:06:40Z' }, 'TimestampClient'],
        ['another PEM version', { Version: '1.0.0' }, 'Version'],
        ['an empty Type', { Type: '' }, 'Type'],
        ['an unknown field', { Colour: 'red' }, 'Colour'],
        ['an artifact without a Name', { ProducesArtifacts: [{ Properties: {}, CreatedAt: null }] }, 'ProducesArtifacts[0].Name'],
        ['a NUL character', { Properties: { text: 'a\u0000b' } }, 'Properties.text'],
        ['an unpaired surrogate', { Emitter: 'x\ud800y' }, 'Emitter'],
      ])('%s is 422 naming the field', async (_case, change, field) => {
        const json = await refusedWithoutChange(422, () => h.call('receiver', 'POST', '/pem', { body: { ...makePem(), ...change } }), field);
        expect(json.code).toBe('invalid_request');
      });

      it.each(['ID', 'Type', 'Emitter', 'Properties', 'UsesArtifacts', 'Version', 'Predecessor'])('a missing %s is 422 naming it', async (field) => {
        const pem: Record<string, unknown> = makePem();
        delete pem[field];
        await refusedWithoutChange(422, () => h.call('receiver', 'POST', '/pem', { body: pem }), field);
      });

      it('non-hex IDs in paths are 422', async () => {
        await refusedWithoutChange(422, () => h.call('query', 'GET', '/pem/XYZ'), 'pem_id');
        const pem = makePem();
        await h.call('receiver', 'POST', '/pem', { body: pem });
        await refusedWithoutChange(422, () => h.call('receiver', 'POST', `/tag/${b64('n')}/${b64('t')}/${pem.ID.toUpperCase()}`), 'pem_id');
        await refusedWithoutChange(422, () => h.call('query', 'GET', '/report/not-a-uuid'), 'report_id');
        await refusedWithoutChange(422, () => h.call('query', 'POST', '/remove_unconnected_artifacts/123', { body: {} }), 'report_id');
      });

      it('tag segments that are not base64 of UTF-8 text are 422', async () => {
        const pem = makePem();
        await h.call('receiver', 'POST', '/pem', { body: pem });
        await refusedWithoutChange(422, () => h.call('receiver', 'POST', `/tag/${encodeURIComponent('no spaces')}/${b64('t')}/${pem.ID}`), 'ns_b64');
        await refusedWithoutChange(422, () => h.call('receiver', 'POST', `/tag/${b64('n')}/abc/${pem.ID}`), 'tag_b64');
        await refusedWithoutChange(422, () => h.call('receiver', 'POST', `/tag/${b64('n')}/${encodeURIComponent('/w==')}/${pem.ID}`), 'tag_b64');
        await refusedWithoutChange(422, () => h.call('query', 'GET', `/tag/${b64('n')}/${b64('a\u0000')}`), 'tag_b64');
      });

      it("a raw '/' that fits no reading of the base64 segments cannot be routed: 404 with the remedy", async () => {
        const pem = makePem();
        await h.call('receiver', 'POST', '/pem', { body: pem });
        const before = await h.counts();
        // 'Pz8/x' and 'x/dA==' are no base64 (lengths 5 and 6), so no split of the path fits.
        const response = await fetch(h.url('receiver', `/tag/${b64('???')}x/${b64('t')}/${pem.ID}`), { method: 'POST' });
        expect(response.status).toBe(404);
        expect(((await response.json()) as { message: string }).message).toContain('%2F');
        expect(await h.counts()).toEqual(before);
      });

      it('unknown sort and filter fields are 400 naming them', async () => {
        for (const path of ['/pems?Colour=red', '/pems_count?Colour=red', '/artifacts?Type=x', '/artifacts_count?Emitter=x']) {
          const json = await refusedWithoutChange(400, () => h.call('query', 'GET', path));
          expect(json.code).toBe('malformed_request');
          expect(json.message).toMatch(/Unknown filter field '(Colour|Type|Emitter)'/);
        }
        const sort = await refusedWithoutChange(400, () => h.call('query', 'GET', '/pems?sortField=Colour'), 'sortField');
        expect(sort.message).toContain("Unknown sortField 'Colour'");
        await refusedWithoutChange(400, () => h.call('query', 'GET', '/artifacts?sortField=Type'), 'sortField');
      });

      it('bad paging is 422', async () => {
        await refusedWithoutChange(422, () => h.call('query', 'GET', '/pems?pageSize=0'), 'pageSize');
        await refusedWithoutChange(422, () => h.call('query', 'GET', '/pems?pageSize=ten'), 'pageSize');
        await refusedWithoutChange(422, () => h.call('query', 'GET', '/pems?pageIndex=-1&pageSize=2'), 'pageIndex');
        await refusedWithoutChange(422, () => h.call('query', 'GET', '/pems?pageIndex=1'), 'pageIndex');
        await refusedWithoutChange(422, () => h.call('query', 'GET', '/pems?sortOrder=up'), 'sortOrder');
        await refusedWithoutChange(422, () => h.call('query', 'GET', '/pems?Type=a&Type=b'), 'Type');
        await refusedWithoutChange(422, () => h.call('query', 'GET', '/pems?ID=XYZ'), 'ID');
      });

      it('operations without arguments take exactly {}', async () => {
        await refusedWithoutChange(422, () => h.call('query', 'POST', '/clean', { body: { everything: true } }), 'body');
        // Unparseable JSON is malformed (400) wherever the spec documents it, as it does for /clean.
        await refusedWithoutChange(400, () => h.call('query', 'POST', '/clean', { raw: '{oops', headers: { 'Content-Type': 'application/json' } }), 'body');
        await refusedWithoutChange(422, () => h.call('query', 'POST', '/clean'), 'body');
        await refusedWithoutChange(422, () => h.call('graph-builder', 'POST', '/verify', { body: { check_pems: 'yes', check_artifacts: true } }), 'check_pems');
        await refusedWithoutChange(422, () => h.call('graph-builder', 'POST', '/verify', { body: { check_pems: true } }), 'check_artifacts');
        await refusedWithoutChange(422, () => h.call('query', 'POST', '/query', { body: { query: 'MATCH (a:Artifact) RETURN count(a)', type: 'x' } }), 'type');
      });

      it('SQL fragments in filters match nothing and change nothing', async () => {
        await h.call('receiver', 'POST', '/pem', { body: makePem() });
        const before = await h.counts();
        for (const fragment of ["x' OR '1'='1", "'; DELETE FROM rk_pems; --", "1) OR (1=1", 'ingest" OR "1"="1']) {
          const q = encodeURIComponent(fragment);
          expect((await h.call('query', 'GET', `/pems?Type=${q}`)).json).toEqual([]);
          expect((await h.call('query', 'GET', `/pems_count?Emitter=${q}`)).json).toEqual({ pems_count: 0 });
          expect((await h.call('query', 'GET', `/artifacts?Name=${q}`)).json).toEqual([]);
          expect((await h.call('query', 'GET', `/artifacts_count?Name=${q}`)).json).toEqual({ artifacts_count: 0 });
        }
        expect(await h.counts()).toEqual(before);
      });

      it('Cypher that is not supported is 400 listing what is, and a fragment inside a literal is just text', async () => {
        await h.call('receiver', 'POST', '/pem', { body: makePem() });
        await h.call('graph-builder', 'POST', '/flush', { body: {} });
        const count = async () => parseRows((await h.call('query', 'POST', '/query', { body: { query: 'MATCH (a:Artifact) RETURN count(a);', type: 'r' } })).text);
        const before = await count();
        for (const query of ['MATCH (n) DETACH DELETE n', 'MATCH (a:Artifact) RETURN count(a); MATCH (n) DETACH DELETE n', 'CREATE (a:Artifact {rk_id: "x"})', 'match (a:artifact) return count(a)']) {
          const json = await refusedWithoutChange(400, () => h.call('query', 'POST', '/query', { body: { query, type: 'rw' } }), 'query');
          expect(json.message).toContain('MATCH (a:Artifact) RETURN a.rk_id AS rk_id, a.properties as properties, a.created_at as created_at');
          expect(json.message).toContain("CALL rk.lineage.upstream('…', '…')");
        }
        const injected = await h.call('query', 'POST', '/query', {
          body: { query: "CALL rk.lineage.upstream('Artifact', 'a\\') MATCH (n) DETACH DELETE n //')", type: 'rw' },
        });
        expect(injected.status).toBe(200);
        expect(injected.text).toBe('[]');
        expect(await count()).toEqual(before);
      });

      it('unknown paths and methods are refused', async () => {
        const before = await h.counts();
        expect((await fetch(h.url('query', '/nothing'))).status).toBe(404);
        expect((await fetch(`${h.rk.receiverUrl.replace('/receiver', '')}/elsewhere`)).status).toBe(404);
        const wrongMethod = await fetch(h.url('query', '/pems'), { method: 'DELETE' });
        expect(wrongMethod.status).toBe(405);
        expect(wrongMethod.headers.get('allow')).toBe('GET');
        expect(await h.counts()).toEqual(before);
      });
    });

    describe('Query', () => {
      const emitter = `lister-${hexId().slice(0, 8)}`;
      const sent: ReturnType<typeof makePem>[] = [];

      beforeAll(async () => {
        const types = ['ingest', 'train', 'evaluate', 'deploy', 'train'];
        for (let i = 0; i < 12; i++) {
          const pem = makePem({
            Emitter: emitter,
            Type: types[i % types.length]!,
            TimestampClient: `2026-11-${String(10 + ((i * 7) % 12)).padStart(2, '0')} 10:00:00`,
            Tag: i % 2 ? 'odd' : 'even',
            TagNamespace: emitter,
            UsesArtifacts: [{ Name: `${emitter}-art_${i}%`, Properties: { i: String(i) }, CreatedAt: null }],
          });
          sent.push(pem);
          expect((await h.call('receiver', 'POST', '/pem', { body: pem })).status).toBe(200);
        }
      });

      it('pages from index 0 in arrival order, covering every match once', async () => {
        const seen: string[] = [];
        for (let page = 0; ; page++) {
          const list = (await h.call('query', 'GET', `/pems?pageIndex=${page}&pageSize=5&Emitter=${emitter}`)).json as any[];
          seen.push(...list.map((p) => p.ID));
          if (list.length < 5) break;
        }
        expect(seen).toEqual(sent.map((p) => p.ID));
        const all = (await h.call('query', 'GET', `/pems?Emitter=${emitter}`)).json as any[];
        expect(all.map((p) => p.ID)).toEqual(seen);
        expect((await h.call('query', 'GET', `/pems?Emitter=${emitter}&pageSize=5&pageIndex=99999999999`)).json).toEqual([]);
      });

      it.each(['ID', 'Type', 'Emitter', 'TimestampClient', 'TimestampReceived', 'Tag', 'TagNamespace'])('sorts by %s ascending and descending', async (field) => {
        const all = (await h.call('query', 'GET', `/pems?Emitter=${emitter}`)).json as any[];
        const byteOrder = (a: any, b: any) => Buffer.compare(Buffer.from(a[field]), Buffer.from(b[field]));
        const asc = (await h.call('query', 'GET', `/pems?Emitter=${emitter}&sortField=${field}&sortOrder=asc`)).json as any[];
        const desc = (await h.call('query', 'GET', `/pems?Emitter=${emitter}&sortField=${field}&sortOrder=desc`)).json as any[];
        expect(asc.map((p) => p[field])).toEqual([...all].sort(byteOrder).map((p) => p[field]));
        expect(desc.map((p) => p[field])).toEqual([...all].sort(byteOrder).reverse().map((p) => p[field]));
        // Ties keep arrival order (reversed when descending), so pages are stable.
        const pages = await Promise.all([0, 1, 2].map(async (i) => (await h.call('query', 'GET', `/pems?Emitter=${emitter}&sortField=${field}&pageSize=5&pageIndex=${i}`)).json as any[]));
        expect(pages.flat().map((p) => p.ID)).toEqual(asc.map((p) => p.ID));
      });

      it('filters PEMs exactly and counts agree with the lists', async () => {
        for (const filter of ['Type=train', 'Type=trai', 'Tag=odd', `TagNamespace=${emitter}`, `ID=${sent[3]!.ID}`, 'TimestampClient=2026-11-17 10:00:00']) {
          const [key, value] = filter.split('=') as [keyof (typeof sent)[number], string];
          const expected = sent.filter((p) => p[key] === value).map((p) => p.ID);
          const query = `Emitter=${emitter}&${key}=${encodeURIComponent(value)}`;
          expect((await h.call('query', 'GET', `/pems?${query}`)).json.map((p: any) => p.ID), filter).toEqual(expected);
          expect((await h.call('query', 'GET', `/pems_count?${query}`)).json).toEqual({ pems_count: expected.length });
        }
        const child = makePem({ Emitter: emitter, Predecessor: sent[0]!.ID });
        await h.call('receiver', 'POST', '/pem', { body: child });
        expect((await h.call('query', 'GET', `/pems?Predecessor=${sent[0]!.ID}`)).json.map((p: any) => p.ID)).toEqual([child.ID]);
        sent.push(child);
      });

      it("matches artifact Names that contain the filter, with '%' and '_' taken literally", async () => {
        const names = sent.flatMap((p) => p.UsesArtifacts.map((a) => a.Name)).filter((n) => n.startsWith(emitter));
        const list = async (query: string) => ((await h.call('query', 'GET', `/artifacts?${query}`)).json as any[]).map((a) => a.Name);
        expect(await list(`Name=${emitter}`)).toEqual(names);
        expect(await list(`Name=${encodeURIComponent(`${emitter}-art_1`)}`)).toEqual(names.filter((n) => n.includes(`${emitter}-art_1`)));
        expect(await list(`Name=${encodeURIComponent('_1%')}&pageSize=100`)).toEqual(names.filter((n) => n.includes('_1%')));
        expect(await list(`Name=${encodeURIComponent(`${emitter}-art%`)}`)).toEqual([]);
        expect(await list(`Name=${encodeURIComponent(`${emitter}-art__`)}`)).toEqual([]);
        expect((await h.call('query', 'GET', `/artifacts_count?Name=${emitter}`)).json).toEqual({ artifacts_count: names.length });
        const byName = await list(`Name=${emitter}&sortField=Name&sortOrder=desc`);
        expect(byName).toEqual([...names].sort().reverse());
        const latest = (await h.call('query', 'GET', `/artifacts?pageSize=1&sortField=CreatedAt&sortOrder=desc&Name=${emitter}`)).json;
        expect(latest.map((a: any) => a.Name)).toEqual([names[names.length - 1]]);
        const page = await list(`Name=${emitter}&pageSize=4&pageIndex=1`);
        expect(page).toEqual(names.slice(4, 8));
      });

      it('lists and counts tags', async () => {
        const tags = (await h.call('query', 'GET', '/tags')).json as any[];
        expect((await h.call('query', 'GET', '/tags_count')).json).toEqual({ tags_count: tags.length });
        const odd = tags.find((t) => t.NamespaceID === emitter && t.Tag === 'odd');
        expect(odd.EventID).toBe(sent.filter((p) => p.Tag === 'odd').at(-1)!.ID);
        expect((await h.call('query', 'GET', `/tag/${b64(emitter)}/${b64('missing')}`)).status).toBe(404);
      });
    });

    describe('maintenance reports', () => {
      it('finds unconnected artifacts, removes them after a finished check, and reports both', async () => {
        const orphan = `orphan-${hexId()}`;
        const kept = makePem();
        await h.call('receiver', 'POST', '/pem', { body: kept });
        await h.rk.storage.query(`INSERT INTO rk_artifacts (name, properties, created_at) VALUES ($1, '{}'::jsonb, '2026-01-01 00:00:00')`, [orphan]);
        const started = await h.call('query', 'POST', '/verify_artifact_connections', { body: {} });
        expect(started.status).toBe(202);
        const check = await waitForReport(h, started.json.report_id);
        expect(check).toMatchObject({ report_id: started.json.report_id, kind: 'artifact_connections', status: 'finished' });
        expect(check.report.artifacts).toContain(orphan);
        expect(check.report.artifacts).not.toContain(kept.UsesArtifacts[0]!.Name);
        expect(check.report.message).toMatch(/of \d+ artifacts/);

        const before = await h.counts();
        const removal = await h.call('query', 'POST', `/remove_unconnected_artifacts/${started.json.report_id}`, { body: {} });
        expect(removal.status).toBe(202);
        const removed = await waitForReport(h, removal.json.report_id);
        expect(removed).toMatchObject({ kind: 'artifact_removal', status: 'finished' });
        expect(removed.report.artifacts).toContain(orphan);
        expect(await h.counts()).toEqual({ ...before, artifacts: before.artifacts - removed.report.artifacts.length });
        expect((await h.call('query', 'GET', `/artifacts?Name=${orphan}`)).json).toEqual([]);
        // A removal report cannot drive another removal.
        await refusedWithoutChange(422, () => h.call('query', 'POST', `/remove_unconnected_artifacts/${removal.json.report_id}`, { body: {} }), 'report_id');
      });

      it('refuses removal for a check that is running or failed, and 404 for an unknown report', async () => {
        for (const status of ['running', 'failed']) {
          const id = crypto.randomUUID();
          await h.rk.storage.query(`INSERT INTO rk_reports (id, kind, status, body, created_at) VALUES ($1, 'artifact_connections', $2, NULL, '2026-01-01 00:00:00')`, [id, status]);
          const report = await h.call('query', 'GET', `/report/${id}`);
          expect(report.json).toEqual({ report_id: id, kind: 'artifact_connections', status, report: null });
          const json = await refusedWithoutChange(422, () => h.call('query', 'POST', `/remove_unconnected_artifacts/${id}`, { body: {} }), 'report_id');
          expect(json.message).toContain(status);
        }
        await refusedWithoutChange(404, () => h.call('query', 'POST', `/remove_unconnected_artifacts/${crypto.randomUUID()}`, { body: {} }), 'report_id');
        expect((await h.call('query', 'GET', `/report/${crypto.randomUUID()}`)).status).toBe(404);
      });
    });

    describe('Graph Builder', () => {
      it('projects on flush, verifies, rebuilds, and reports counts and loop state', async () => {
        await h.call('receiver', 'POST', '/pem', { body: makePem() });
        const stale = (await h.call('graph-builder', 'GET', '/info')).json;
        expect(stale.pg_pems_count).toBeGreaterThan(stale.neo4j_pems_count);
        expect(Number(stale.pems_sync_pct)).toBeLessThan(100);
        expect((await h.call('graph-builder', 'POST', '/verify', { body: { check_pems: true, check_artifacts: false } })).json.msg).toMatch(/missing from the graph: PEM [0-9a-f]{32}/);

        const flushed = await h.call('graph-builder', 'POST', '/flush', { body: {} });
        expect(flushed.status).toBe(200);
        expect(flushed.json.msg).toMatch(/^Flushed \d+ PEMs?/);
        const info = (await h.call('graph-builder', 'GET', '/info')).json;
        expect(info).toMatchObject({
          version: '3.5.0',
          neo4j_pems_count: info.pg_pems_count,
          neo4j_artifacts_count: info.pg_artifacts_count,
          pems_sync_pct: '100.0',
          artifacts_sync_pct: '100.0',
          loop_iteration_interval: 60,
          loop_state_should_rebuild: 'False',
          loop_state_should_flush: 'False',
        });
        const verify = (await h.call('graph-builder', 'POST', '/verify', { body: { check_pems: true, check_artifacts: true } })).json.msg as string;
        expect(verify.split('\n')).toEqual([
          `PEMs: ${info.pg_pems_count} in tables, ${info.pg_pems_count} in graph, 0 missing, 0 extra`,
          expect.stringMatching(/^Edges: (\d+) in tables, \1 in graph, 0 missing, 0 extra$/),
          `Artifacts: ${info.pg_artifacts_count} in tables, ${info.pg_artifacts_count} in graph, 0 missing, 0 extra`,
        ]);

        const rebuild = await h.call('graph-builder', 'POST', '/rebuild', { body: {} });
        expect(rebuild.status).toBe(202);
        await h.call('graph-builder', 'POST', '/flush', { body: {} });
        const rebuilt = (await h.call('graph-builder', 'GET', '/info')).json;
        expect(rebuilt).toMatchObject({ neo4j_pems_count: rebuilt.pg_pems_count, loop_state_should_rebuild: 'False' });
      });

      it('answers the reference client\'s graph statements from the projection', async () => {
        await h.call('graph-builder', 'POST', '/flush', { body: {} });
        const rows = parseRows(
          (await h.call('query', 'POST', '/query', {
            body: { query: 'MATCH (a:Artifact) RETURN a.rk_id AS rk_id, a.properties as properties, a.created_at as created_at', type: 'r' },
          })).text,
        );
        const artifacts = (await h.call('query', 'GET', '/artifacts')).json as any[];
        const byName = (a: { Name: string }, b: { Name: string }) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0);
        const graphArtifacts = rows.map(([name, properties, createdAt]) => ({ Name: name as string, Properties: JSON.parse(properties as string), CreatedAt: createdAt }));
        expect(graphArtifacts.sort(byName)).toEqual([...artifacts].sort(byName));
        const count = await h.call('query', 'POST', '/query', { body: { query: 'MATCH (a:Artifact) RETURN count(a);', type: 'r' } });
        expect(count.headers.get('content-type')).toMatch(/^text\/plain/);
        expect(count.text).toBe(`[[${artifacts.length}]]`);
        const pems = parseRows((await h.call('query', 'POST', '/query', { body: { query: 'match (p:PEM) return COUNT(p)', type: 'r' } })).text);
        expect(pems).toEqual([[(await h.counts()).pems]]);
      });

      it('answers lineage queries along uses, produces and predecessor edges', async () => {
        const n = hexId().slice(0, 6);
        const ingest = makePem({ Type: 'ingest', UsesArtifacts: [{ Name: `raw-${n}`, Properties: {}, CreatedAt: null }], ProducesArtifacts: [{ Name: `data-${n}`, Properties: {}, CreatedAt: null }] });
        const train = makePem({ Type: 'train', Predecessor: ingest.ID, UsesArtifacts: [{ Name: `data-${n}`, Properties: {}, CreatedAt: null }], ProducesArtifacts: [{ Name: `model-${n}`, Properties: {}, CreatedAt: null }] });
        const deploy = makePem({ Type: 'deploy', UsesArtifacts: [{ Name: `model-${n}`, Properties: {}, CreatedAt: null }], ProducesArtifacts: [] });
        for (const pem of [ingest, train, deploy]) await h.call('receiver', 'POST', '/pem', { body: pem });
        await h.call('graph-builder', 'POST', '/flush', { body: {} });
        const query = async (text: string) => {
          const response = await h.call('query', 'POST', '/query', { body: { query: text, type: 'r' } });
          expect(response.status, response.text).toBe(200);
          return parseRows(response.text);
        };
        expect(await query(`CALL rk.lineage.upstream('PEM', '${deploy.ID}')`)).toEqual([
          [0, deploy.ID, 'deploy', 'test-emitter', deploy.TimestampClient, [`model-${n}`], []],
          [1, train.ID, 'train', 'test-emitter', train.TimestampClient, [`data-${n}`], [`model-${n}`]],
          [2, ingest.ID, 'ingest', 'test-emitter', ingest.TimestampClient, [`raw-${n}`], [`data-${n}`]],
        ]);
        expect((await query(`CALL rk.lineage.upstream('Artifact', 'model-${n}');`)).map((r) => [r[0], r[1]])).toEqual([
          [1, train.ID],
          [2, ingest.ID],
        ]);
        expect((await query(`call rk.lineage.downstream("Artifact", "raw-${n}")`)).map((r) => [r[0], r[2]])).toEqual([
          [1, 'ingest'],
          [2, 'train'],
          [3, 'deploy'],
        ]);
        expect(await query(`MATCH (p:PEM {rk_id: '${train.ID}'})-[:USES]->(a:Artifact) RETURN a.rk_id AS rk_id`)).toEqual([[`data-${n}`]]);
        expect(await query(`MATCH (p:PEM)-[:PRODUCES]->(a:Artifact {rk_id: 'model-${n}'}) RETURN p.rk_id AS rk_id`)).toEqual([[train.ID]]);
        expect(await query(`CALL rk.lineage.upstream('Artifact', 'no-such-artifact')`)).toEqual([]);
        const wrongKind = await h.call('query', 'POST', '/query', { body: { query: `CALL rk.lineage.upstream('Model', 'x')`, type: 'r' } });
        expect(wrongKind.status).toBe(400);
      });

      it('binds each use to the producer at or before the user: a producer that came after it is not listed', async () => {
        const n = hexId().slice(0, 6);
        const artifact = (name: string) => [{ Name: `${name}-${n}`, Properties: {}, CreatedAt: null }];
        const train1 = makePem({ Type: 'train', TimestampClient: '2026-11-27 10:00:10', UsesArtifacts: artifact('data'), ProducesArtifacts: artifact('model') });
        const deploy = makePem({ Type: 'deploy', TimestampClient: '2026-11-27 10:00:20', UsesArtifacts: artifact('model'), ProducesArtifacts: [] });
        // Retrained after the deploy: the deploy did not use this version.
        const train2 = makePem({ Type: 'train', TimestampClient: '2026-11-27 10:00:30', UsesArtifacts: artifact('data'), ProducesArtifacts: artifact('model') });
        // Same second as the deploy but following it on the Predecessor chain: also after it.
        const patch = makePem({ Type: 'patch', Predecessor: deploy.ID, TimestampClient: '2026-11-27 10:00:20', UsesArtifacts: [], ProducesArtifacts: artifact('model') });
        for (const pem of [train1, deploy, train2, patch]) await h.call('receiver', 'POST', '/pem', { body: pem });
        await h.call('graph-builder', 'POST', '/flush', { body: {} });
        const query = async (text: string) => parseRows((await h.call('query', 'POST', '/query', { body: { query: text, type: 'r' } })).text);
        expect((await query(`CALL rk.lineage.upstream('PEM', '${deploy.ID}')`)).map((r) => [r[0], r[1]])).toEqual([
          [0, deploy.ID],
          [1, train1.ID],
        ]);
        expect((await query(`CALL rk.lineage.downstream('PEM', '${train1.ID}')`)).map((r) => [r[0], r[1]])).toEqual([
          [0, train1.ID],
          [1, deploy.ID],
          [2, patch.ID],
        ]);
        expect((await query(`CALL rk.lineage.downstream('PEM', '${train2.ID}')`)).map((r) => r[1])).toEqual([train2.ID]);
        // From the artifact: its latest version.
        expect((await query(`CALL rk.lineage.upstream('Artifact', 'model-${n}')`)).map((r) => [r[0], r[1]])).toEqual([[1, train2.ID]]);
        expect((await query(`CALL rk.lineage.downstream('Artifact', 'data-${n}')`)).filter((r) => r[0] === 1).map((r) => r[1]).sort()).toEqual([train1.ID, train2.ID].sort());
      });

      it('erases everything on /clean', async () => {
        await h.call('receiver', 'POST', '/pem', { body: makePem() });
        const cleaned = await h.call('query', 'POST', '/clean', { body: {} });
        expect(cleaned.status).toBe(200);
        expect(cleaned.json.msg).toMatch(/^Erased \d+ PEMs?, \d+ artifacts?, \d+ tags? and \d+ reports?$/);
        expect(await h.counts()).toEqual({ pems: 0, artifacts: 0, tags: 0 });
        const info = (await h.call('graph-builder', 'GET', '/info')).json;
        expect(info).toMatchObject({ pg_pems_count: 0, neo4j_pems_count: 0, neo4j_artifacts_count: 0 });
      });
    });
  });
}
