import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RKAdmin, RKClient, RKHttpError, RKQuery, RKRejectedError, RKSizeLimitError, type Result, type StoredPem } from '../../src/index.js';
import type { Pem } from '../../src/model/pem.js';
import { startLocalRK, type LocalRK } from '../../server/src/index.js';
import { fileStore } from '../../server/test/helpers/harness.js';
import { SpecResponseValidator } from '../../server/test/helpers/spec-validator.js';

/**
 * The client facade against the local Record Keeper: every RKClient, RKQuery and RKAdmin method
 * with real round trips. Every response the server gives is validated against the OpenAPI specs
 * by the fetch the clients are given, and no test may leave a violation behind.
 */

function ok<T>(result: Result<T>): T {
  if (!result.ok) throw result.error;
  return result.value;
}

/** A PEM as the Query service returns it: artifacts by Name, no Version, a receive time. */
function asStored(pem: Pem): Omit<StoredPem, 'TimestampReceived'> {
  const { Version: _version, UsesArtifacts, ProducesArtifacts, ...fields } = pem.toJSON();
  return { ...fields, UsesArtifacts: UsesArtifacts.map((a) => a.Name), ProducesArtifacts: ProducesArtifacts.map((a) => a.Name) };
}

const PEM_SIZE_LIMIT = 8192;

/** One PGlite store for the file's three servers, emptied for each. */
const store = fileStore();

/**
 * Both reply modes: our rich JSON answers, and the publicly known forms only (`Ack getting <Type>`,
 * an empty tag reply, `OK`, text errors), as a real Record Keeper may answer.
 */
const REPLY_MODES = ['rich', 'reference'] as const;

describe.each(REPLY_MODES)('the client facade against the local Record Keeper (%s replies)', { timeout: 60_000 }, (replies) => {
  const rich = replies === 'rich';
  let rk: LocalRK;
  let validator: SpecResponseValidator;
  let client: RKClient;
  let query: RKQuery;
  let admin: RKAdmin;
  const emitter = `e2e-${Date.now().toString(36)}`;

  beforeAll(async () => {
    rk = await startLocalRK({ storage: await store(), pemSizeLimit: PEM_SIZE_LIMIT, graphIntervalMs: 60_000, replies });
    validator = await SpecResponseValidator.create({ receiver: rk.receiverUrl, query: rk.queryUrl, 'graph-builder': rk.graphBuilderUrl });
    const options = { fetch: validator.fetch, timeoutMs: 30_000 };
    // Trailing slashes, as users copy base URLs.
    client = new RKClient(`${rk.receiverUrl}/`, emitter, options);
    query = new RKQuery(`${rk.queryUrl}/`, options);
    admin = new RKAdmin(rk.queryUrl, rk.graphBuilderUrl, options);
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await rk?.stop();
  });

  afterEach(() => {
    expect(validator.violations()).toEqual([]);
  });

  it('RKClient.getInfo reads the Receiver configuration', async () => {
    expect(ok(await client.getInfo())).toEqual({ version: '3.5.0', pem_version: '2.0.0', pem_size_limit: PEM_SIZE_LIMIT, auth_required: false, pem_auth_required: false });
  });

  it('RKQuery.getInfo and RKAdmin.checkConnections and getGraphInfo read the other services', async () => {
    // The local RK lists what it offers beyond the real RK (ours) only in rich replies.
    const info = { version: '3.5.0', auth_required: false, ...(replies === 'reference' ? {} : { capabilities: ['lineage-reads'] }) };
    expect(ok(await query.getInfo())).toEqual(info);
    const connections = ok(await admin.checkConnections());
    expect(connections.query).toEqual(info);
    expect(connections.graphBuilder).toMatchObject({ version: '3.5.0', loop_iteration_interval: 60 });
    expect(ok(await admin.getGraphInfo())).toEqual(connections.graphBuilder);
  });

  it('sendPem stores what preparePem, usesArtifact and producesArtifact made; getPem reads it back field for field', async () => {
    const pem = client
      .preparePem('train', { properties: { epochs: 3, lr: 0.01, layers: [64, 32], note: 'ünïcödé ☃' }, tagName: 'candidate' })
      .usesArtifact(client.prepareArtifact(`${emitter}-dataset`, { uri: 's3://bucket/data.csv', rows: '1000' }))
      .usesArtifact(client.prepareArtifact(`${emitter}-dataset`, { uri: 'skipped: already used' }))
      .producesArtifact(client.prepareArtifact(`${emitter}-model`, { uri: 's3://bucket/model.bin' }))
      .producesArtifact(client.prepareArtifact(`${emitter}-model`, { uri: 's3://bucket/model.bin' }));
    expect(ok(await client.sendPem(pem))).toEqual(rich ? { ID: pem.ID, status: 'accepted' } : { ID: pem.ID, status: 'accepted', reply: 'Ack getting train' });
    const stored = ok(await query.getPem(pem.ID));
    expect(stored).toEqual({ ...asStored(pem), TimestampReceived: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/) });
    expect(stored.UsesArtifacts).toEqual([`${emitter}-dataset`]);
    expect(stored.ProducesArtifacts).toEqual([`${emitter}-model`, `${emitter}-model`]);
    expect(stored.TagNamespace).toBe(emitter);
    expect(ok(await query.getTag(emitter, 'candidate'))).toBe(pem.ID);

    const dataset = ok(await query.getArtifact(`${emitter}-dataset`));
    expect(dataset).toEqual({ Name: `${emitter}-dataset`, Properties: { uri: 's3://bucket/data.csv', rows: '1000' }, CreatedAt: stored.TimestampReceived });
  });

  it('sendPem of the same PEM again is a duplicate; the same ID with other content is a 409', async () => {
    const pem = client.preparePem('ingest');
    expect(ok(await client.sendPem(pem)).status).toBe('accepted');
    // A text acknowledgement cannot say "duplicate": any 2xx is accepted, the Receiver's words kept.
    const again = rich ? { ID: pem.ID, status: 'duplicate' } : { ID: pem.ID, status: 'accepted', reply: 'Ack getting ingest' };
    expect(ok(await client.sendPem(pem))).toEqual(again);
    expect(ok(await client.sendPem(pem.toJSON()))).toEqual(again);
    const changed = await client.sendPem({ ...pem.toJSON(), Type: 'changed' });
    expect(changed.ok).toBe(false);
    expect(!changed.ok && changed.error).toBeInstanceOf(RKRejectedError);
    expect(!changed.ok && changed.error instanceof RKHttpError && [changed.error.status, changed.error.code]).toEqual([409, rich ? 'conflict' : undefined]);
    expect(!changed.ok && changed.error.message).toContain(`PEM ${pem.ID} is already stored with different content`);
    expect(ok(await query.getPem(pem.ID)).Type).toBe('ingest');
    const stats = client.stats();
    if (rich) expect(stats.duplicates).toBeGreaterThanOrEqual(2);
    expect(stats.dropped.rejected).toBeGreaterThanOrEqual(1);
  });

  it('a PEM over the size limit is refused and nothing is stored', async () => {
    const before = ok(await query.getPemsCount());
    const big = client.preparePem('bulky', { properties: { blob: 'x'.repeat(PEM_SIZE_LIMIT) } });
    const result = await client.sendPem(big);
    expect(!result.ok && result.error).toBeInstanceOf(RKSizeLimitError);
    expect(!result.ok && result.error instanceof RKSizeLimitError && result.error.limitBytes).toBe(PEM_SIZE_LIMIT);
    expect(ok(await query.getPemsCount())).toBe(before);
    expect((await query.getPem(big.ID)).ok).toBe(false);
  });

  it('setTag moves a tag; getTag, getTags and getTagsCount read it back', async () => {
    const first = client.preparePem('evaluate');
    const second = client.preparePem('evaluate', { predecessor: first });
    ok(await client.sendPem(first));
    ok(await client.sendPem(second));
    const namespace = `${emitter}/équipe+=`;
    const record = ok(await client.setTag(namespace, 'prod 🚀', first));
    const sent = { NamespaceID: namespace, Tag: 'prod 🚀', EventID: first.ID };
    // Our Receiver says when; an empty reference reply leaves what was sent.
    expect(record).toEqual(rich ? { ...sent, UpdatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/) } : sent);
    expect(ok(await query.getTag(namespace, 'prod 🚀'))).toBe(first.ID);
    const moved = ok(await client.setTag(namespace, 'prod 🚀', second.ID));
    expect(ok(await query.getTag(namespace, 'prod 🚀'))).toBe(second.ID);
    expect(ok(await query.getTag(namespace, 'no such tag'))).toBeNull();
    const tags = ok(await query.getTags());
    expect(tags).toContainEqual({ ...moved, UpdatedAt: expect.any(String) });
    expect(tags.filter((t) => t.NamespaceID === namespace)).toHaveLength(1);
    expect(ok(await query.getTagsCount())).toBe(tags.length);
    const missing = await client.setTag(namespace, 'x', 'f'.repeat(32));
    expect(!missing.ok && missing.error instanceof RKHttpError && missing.error.status).toBe(404);
  });

  describe('listing', () => {
    const lister = `${emitter}-lister`;
    let listClient: RKClient;
    const sent: Pem[] = [];

    beforeAll(async () => {
      listClient = new RKClient(rk.receiverUrl, lister, { fetch: validator.fetch, timeoutMs: 30_000 });
      const types = ['ingest', 'train', 'evaluate', 'deploy'];
      for (let i = 0; i < 10; i++) {
        const pem = listClient
          .preparePem(types[i % 4]!, { tagName: i % 2 ? 'odd' : 'even', properties: { i } })
          .producesArtifact(listClient.prepareArtifact(`${lister}-artifact-${String(i).padStart(2, '0')}`, { i: String(i) }));
        sent.push(pem);
      }
      // Concurrently, as pipelines do; the order they are stored in is then read back.
      for (const result of await Promise.all(sent.map((pem) => listClient.sendPem(pem)))) ok(result);
    });

    afterAll(async () => {
      await listClient?.close();
    });

    it('getPems and getPemsCount agree with what was stored, page by page', async () => {
      const all = ok(await query.getPems({ filters: { Emitter: lister } }));
      expect(all.map((p) => p.ID).sort()).toEqual(sent.map((p) => p.ID).sort());
      for (const pem of sent) expect(all.find((p) => p.ID === pem.ID)).toMatchObject(asStored(pem));
      expect(ok(await query.getPemsCount({ Emitter: lister }))).toBe(10);
      const pages: StoredPem[] = [];
      for (let pageIndex = 0; pageIndex < 4; pageIndex++) pages.push(...ok(await query.getPems({ pageIndex, pageSize: 3, filters: { Emitter: lister } })));
      expect(pages).toEqual(all);
    });

    it('getPems sorts and filters exactly', async () => {
      const byType = ok(await query.getPems({ sortField: 'Type', sortOrder: 'desc', filters: { Emitter: lister } }));
      expect(byType.map((p) => p.Type)).toEqual(sent.map((p) => p.Type).sort().reverse());
      const ids = ok(await query.getPems({ sortField: 'ID', filters: { Emitter: lister } })).map((p) => p.ID);
      expect(ids).toEqual(sent.map((p) => p.ID).sort());
      const trains = ok(await query.getPems({ filters: { Emitter: lister, Type: 'train' } }));
      expect(trains.map((p) => p.ID).sort()).toEqual(sent.filter((p) => p.Type === 'train').map((p) => p.ID).sort());
      expect(ok(await query.getPemsCount({ Emitter: lister, Type: 'train', Tag: 'odd' }))).toBe(sent.filter((p) => p.Type === 'train' && p.Tag === 'odd').length);
      expect(ok(await query.getPems({ filters: { Emitter: lister, Type: 'trai' } }))).toEqual([]);
    });

    it('an unknown filter field is refused by the server with 400', async () => {
      const result = await query.getPems({ filters: { Colour: 'red' } as never });
      expect(!result.ok && result.error instanceof RKHttpError && [result.error.status, result.error.code]).toEqual([400, rich ? 'malformed_request' : undefined]);
      expect(!result.ok && result.error.message).toContain("Unknown filter field 'Colour'");
    });

    it('getArtifacts, getArtifactsCount, getArtifact and getArtifactLatest read the tables', async () => {
      const names = sent.map((p) => p.ProducesArtifacts[0]!.Name).sort();
      const listed = ok(await query.getArtifacts({ sortField: 'Name', filters: { Name: `${lister}-artifact` } }));
      expect(listed.map((a) => a.Name)).toEqual(names);
      for (const artifact of listed) expect(artifact.Properties).toEqual({ i: String(Number(artifact.Name.slice(-2))) });
      expect(ok(await query.getArtifactsCount({ filters: { Name: `${lister}-artifact` } }))).toBe(10);
      expect(ok(await query.getArtifacts({ pageIndex: 1, pageSize: 4, sortField: 'Name', sortOrder: 'desc', filters: { Name: lister } })).map((a) => a.Name)).toEqual([...names].reverse().slice(4, 8));
      expect(ok(await query.getArtifact(names[3]!))).toEqual(listed[3]);
      expect(ok(await query.getArtifact(`${lister}-artifact`))).toBeNull();
      const latest = ok(await query.getArtifactLatest(`${lister}-artifact`));
      const newest = ok(await query.getArtifacts({ filters: { Name: `${lister}-artifact` } })).at(-1);
      expect(latest).toEqual(newest);
      expect(ok(await query.getArtifactLatest('no-such-artifact-anywhere'))).toBeNull();
    });

    it('the graph source agrees with the tables after a flush', async () => {
      const flushed = ok(await admin.graphFlush({ timeoutMs: 60_000 }));
      expect(flushed.msg).toMatch(rich ? /^Flushed \d+ PEMs?/ : /^OK$/);
      expect(flushed.durationMs).toBeGreaterThanOrEqual(0);
      const filters = { Name: `${lister}-artifact` };
      const fromTables = ok(await query.getArtifacts({ sortField: 'Name', filters }));
      expect(ok(await query.getArtifacts({ source: 'graphdb', sortField: 'Name', filters }))).toEqual(fromTables);
      expect(ok(await query.getArtifactsCount({ source: 'graphdb', filters }))).toBe(10);
      expect(ok(await query.getArtifactsCount({ source: 'graphdb' }))).toBe(ok(await query.getArtifactsCount()));
      expect(ok(await query.getArtifacts({ source: 'graphdb', pageIndex: 2, pageSize: 4, sortField: 'Name', filters }))).toEqual(fromTables.slice(8));
    });
  });

  it('RKQuery.queryGraph and RKAdmin.queryGraph answer the graph statements, lineage included', async () => {
    const ingest = client.preparePem('ingest').producesArtifact(client.prepareArtifact(`${emitter}-lineage-data`));
    const train = client
      .preparePem('train', { predecessor: ingest })
      .usesArtifact(client.prepareArtifact(`${emitter}-lineage-data`))
      .producesArtifact(client.prepareArtifact(`${emitter}-lineage-model`));
    ok(await client.sendPem(ingest));
    ok(await client.sendPem(train));
    ok(await admin.graphFlush());
    const count = ok(await query.queryGraph('MATCH (a:Artifact) RETURN count(a);'));
    expect(count).toEqual([[ok(await query.getArtifactsCount())]]);
    expect(ok(await admin.queryGraph('MATCH (p:PEM) RETURN count(p)', 'r'))).toEqual([[ok(await query.getPemsCount())]]);
    const lineage = ok(await query.queryGraph(`CALL rk.lineage.upstream('Artifact', '${emitter}-lineage-model')`));
    expect(lineage).toEqual([
      [1, train.ID, 'train', emitter, train.TimestampClient, [`${emitter}-lineage-data`], [`${emitter}-lineage-model`]],
      [2, ingest.ID, 'ingest', emitter, ingest.TimestampClient, [], [`${emitter}-lineage-data`]],
    ]);
    const refused = await admin.queryGraph('MATCH (n) DETACH DELETE n', 'rw');
    expect(!refused.ok && refused.error instanceof RKHttpError && refused.error.status).toBe(400);
    const body = !refused.ok && refused.error instanceof RKHttpError ? refused.error.body : undefined;
    expect(typeof body === 'string' ? body : (body as { message: string }).message).toContain("CALL rk.lineage.upstream('…', '…')");
  });

  it('RKAdmin.graphVerify and graphRebuild keep the graph equal to the tables', async () => {
    ok(await admin.graphFlush());
    const verify = ok(await admin.graphVerify());
    expect(verify).toMatch(/^PEMs: (\d+) in tables, \1 in graph, 0 missing, 0 extra$/m);
    expect(verify).toMatch(/^Artifacts: (\d+) in tables, \1 in graph, 0 missing, 0 extra$/m);
    expect(ok(await admin.graphVerify({ checkPems: false, checkArtifacts: true })).split('\n')).toHaveLength(1);
    expect(ok(await admin.graphRebuild())).toMatch(rich ? /Rebuild requested/ : /^OK$/);
    ok(await admin.graphFlush());
    const info = ok(await admin.getGraphInfo());
    expect(info).toMatchObject({ neo4j_pems_count: info.pg_pems_count, neo4j_artifacts_count: info.pg_artifacts_count, pems_sync_pct: '100.0', artifacts_sync_pct: '100.0' });
  });

  it('artifactsVerifyConnections, getReport and artifactsRemoveUnconnected run the report lifecycle', async () => {
    const orphan = `${emitter}-orphan`;
    await rk.storage.query(`INSERT INTO rk_artifacts (name, properties, created_at) VALUES ($1, '{"uri": "s3://gone"}'::jsonb, '2026-01-01 00:00:00')`, [orphan]);
    const checkId = ok(await admin.artifactsVerifyConnections());
    let check = ok(await admin.getReport(checkId));
    for (let i = 0; check.status === 'running' && i < 500; i++) check = ok(await admin.getReport(checkId));
    expect(check).toMatchObject({ report_id: checkId, kind: 'artifact_connections', status: 'finished', report: { artifacts: [orphan] } });
    expect(ok(await query.getArtifact(orphan))).not.toBeNull();
    const removalId = ok(await admin.artifactsRemoveUnconnected(checkId));
    let removal = ok(await admin.getReport(removalId));
    for (let i = 0; removal.status === 'running' && i < 500; i++) removal = ok(await admin.getReport(removalId));
    expect(removal).toMatchObject({ kind: 'artifact_removal', status: 'finished', report: { artifacts: [orphan] } });
    expect(ok(await query.getArtifact(orphan))).toBeNull();
    const again = await admin.artifactsRemoveUnconnected(removalId);
    expect(!again.ok && again.error instanceof RKHttpError && again.error.status).toBe(422);
  });

  it('RKClient.flush, stats and on report delivery', async () => {
    const delivered: string[] = [];
    const unsubscribe = client.on('delivered', (event) => delivered.push(event.ID));
    const pems = [client.preparePem('batch'), client.preparePem('batch')];
    const sends = pems.map((pem) => client.sendPem(pem));
    const report = await client.flush({ timeoutMs: 30_000 });
    expect(report).toMatchObject({ failed: 0, pending: 0, timedOut: false });
    for (const result of await Promise.all(sends)) expect(ok(result).status).toBe('accepted');
    unsubscribe();
    expect(delivered).toEqual(expect.arrayContaining(pems.map((p) => p.ID)));
    expect(client.stats()).toMatchObject({ pending: 0, inFlight: 0, closed: false });
  });

  it('RKAdmin.cleanDbs erases everything', async () => {
    expect(ok(await admin.cleanDbs())).toMatch(rich ? /^Erased \d+ PEMs, \d+ artifacts, \d+ tags and \d+ reports?$/ : /^OK$/);
    expect([ok(await query.getPemsCount()), ok(await query.getArtifactsCount()), ok(await query.getTagsCount())]).toEqual([0, 0, 0]);
    expect(ok(await query.queryGraph('MATCH (a:Artifact) RETURN count(a);'))).toEqual([[0]]);
  });
});

describe('the client facade with credentials', { timeout: 60_000 }, () => {
  let rk: LocalRK;
  let validator: SpecResponseValidator;

  beforeAll(async () => {
    rk = await startLocalRK({ storage: await store(), userTokens: ['tester'], pucTokens: ['pipeline'], adminTokens: ['root'], graphIntervalMs: 60_000 });
    validator = await SpecResponseValidator.create({ receiver: rk.receiverUrl, query: rk.queryUrl, 'graph-builder': rk.graphBuilderUrl });
  }, 120_000);

  afterAll(async () => rk?.stop());
  afterEach(() => expect(validator.violations()).toEqual([]));

  it('sends with a PUC credential, reads with a user credential, and only an admin may clean', async () => {
    const options = { fetch: validator.fetch, timeoutMs: 30_000 };
    const client = new RKClient(rk.receiverUrl, 'secure-pipeline', { ...options, pucAuth: 'pipeline' });
    try {
      expect(ok(await client.getInfo())).toMatchObject({ auth_required: true, pem_auth_required: false });
      const pem = client.preparePem('ingest');
      ok(await client.sendPem(pem));
      ok(await client.setTag('secure-pipeline', 'prod', pem));
    } finally {
      await client.close();
    }
    const anonymous = new RKQuery(rk.queryUrl, options);
    const denied = await anonymous.getPemsCount();
    expect(!denied.ok && denied.error instanceof RKHttpError && [denied.error.status, denied.error.code]).toEqual([401, 'unauthorized']);
    const reader = new RKQuery(rk.queryUrl, { ...options, userAuth: 'tester' });
    expect(ok(await reader.getPemsCount())).toBe(1);
    const user = new RKAdmin(rk.queryUrl, rk.graphBuilderUrl, { ...options, userAuth: 'tester' });
    const forbidden = await user.cleanDbs();
    expect(!forbidden.ok && forbidden.error instanceof RKHttpError && [forbidden.error.status, forbidden.error.code]).toEqual([403, 'forbidden']);
    expect(ok(await reader.getPemsCount())).toBe(1);
    ok(await user.checkConnections());
    const root = new RKAdmin(rk.queryUrl, rk.graphBuilderUrl, { ...options, pucAuth: 'root' });
    expect(ok(await root.cleanDbs())).toMatch(/^Erased 1 PEM,/);
    expect(ok(await reader.getPemsCount())).toBe(0);
  });
});
