import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Pem, RKAdmin, RKClient, RKLineage, RKQuery, parsePemSeconds, type LoadProgress, type Result } from './e2e-support.js';
import { startLocalRK, type LocalRK } from '../../server/src/index.js';
import { SpecResponseValidator } from '../../server/test/helpers/spec-validator.js';

/**
 * RKLineage against the local Record Keeper: PEMs sent with RKClient, read back page by page
 * through RKQuery, and the client's walks compared with the server's own `rk.lineage.*` answers
 * (both bind time-correctly, so both must list the same PEMs at the same hops).
 */
const REPLY_MODES = ['rich'] as const; // 'reference' joins when startLocalRK supports it

function ok<T>(result: Result<T>): T {
  if (!result.ok) throw result.error;
  return result.value;
}

/** Options for a reply mode; 'rich' is the server's default. */
function replyOption(mode: string): object {
  return mode === 'rich' ? {} : { replies: mode };
}

const T0 = Date.UTC(2026, 10, 27, 10, 0, 0);
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString().slice(0, 19).replace('T', ' ');

describe.each(REPLY_MODES)('RKLineage against the local RK (%s replies)', { timeout: 60_000 }, (mode) => {
  let rk: LocalRK;
  let validator: SpecResponseValidator;
  let client: RKClient;
  let query: RKQuery;
  let admin: RKAdmin;
  let lineage: RKLineage;
  const emitter = `lineage-${mode}-${Date.now().toString(36)}`;
  const ids: Record<string, string> = {};

  /** A PEM with a chosen TimestampClient (seconds after T0). */
  function pem(name: string, type: string, t: number, options: { pred?: string; uses?: string[]; produces?: string[]; tag?: string } = {}): Pem {
    const prepared = client.preparePem(type, { predecessor: options.pred ? ids[options.pred] : undefined, tagName: options.tag ?? 'latest' });
    for (const use of options.uses ?? []) prepared.usesArtifact(client.prepareArtifact(`${emitter}/${use}`));
    for (const out of options.produces ?? []) prepared.producesArtifact(client.prepareArtifact(`${emitter}/${out}`));
    const timed = Pem.from({ ...prepared.toJSON(), TimestampClient: at(t) });
    ids[name] = timed.ID;
    return timed;
  }

  beforeAll(async () => {
    rk = await startLocalRK({ memory: true, graphIntervalMs: 60_000, ...replyOption(mode) });
    validator = await SpecResponseValidator.create({ receiver: rk.receiverUrl, query: rk.queryUrl, 'graph-builder': rk.graphBuilderUrl });
    const options = { fetch: validator.fetch, timeoutMs: 30_000 };
    client = new RKClient(rk.receiverUrl, emitter, options);
    query = new RKQuery(rk.queryUrl, options);
    admin = new RKAdmin(rk.queryUrl, rk.graphBuilderUrl, options);
    const pems = [
      pem('ingest1', 'ingest', 0, { uses: ['raw/a'], produces: ['data'] }),
      pem('train1', 'train', 10, { pred: 'ingest1', uses: ['data'], produces: ['model'] }),
      pem('deploy1', 'deploy', 20, { pred: 'train1', uses: ['model'], produces: ['service'], tag: 'production' }),
      pem('ingest2', 'ingest', 30, { uses: ['raw/b'], produces: ['data'] }),
      pem('train2', 'train', 40, { pred: 'ingest2', uses: ['data'], produces: ['model'] }),
      pem('deploy2', 'deploy', 50, { pred: 'train2', uses: ['model'], produces: ['service'], tag: 'production' }),
    ];
    for (const p of pems) ok(await client.sendPem(p));
    lineage = new RKLineage(query, { pageSize: 4 });
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await rk?.stop();
  });

  afterEach(() => {
    expect(validator.violations()).toEqual([]);
  });

  /** Whether this reply mode's PEMs carry TimestampReceived (ours; the reference client never reads it). */
  let received = true;

  it('loads every PEM page by page with progress', async () => {
    received = 'TimestampReceived' in ok(await query.getPem(ids.ingest1!));
    const progress: LoadProgress[] = [];
    const report = ok(await lineage.load({ onProgress: (p) => progress.push(p) }));
    expect(report).toMatchObject({ phase: 'load', strategy: received ? 'received' : 'full-rescan', read: 6, added: 6, size: 6, skipped: [] });
    expect(report.pages).toBeGreaterThanOrEqual(2);
    expect(progress.at(-1)).toMatchObject({ read: 6, total: 6 });
    if (received) expect(parsePemSeconds(report.watermark!)).toBeGreaterThan(0);
  });

  it('explains the deployed model: steps, the model and its training, the data source', () => {
    const why = lineage.explain({ namespace: emitter, tag: 'production' });
    expect(why.steps.map((s) => s.pem)).toEqual([ids.ingest2, ids.train2, ids.deploy2]);
    expect(why.models).toEqual([{ name: `${emitter}/model`, producer: ids.train2, hop: 1, trainedBy: { pems: [ids.train2], emitters: [emitter] } }]);
    expect(why.sources.map((s) => [s.name, s.reason])).toEqual([[`${emitter}/raw/b`, 'no-producer']]);
  });

  it('stateAt before the last deploy: the tag on the first deploy, the model already retrained', () => {
    const state = lineage.stateAt(at(45), { namespaces: emitter });
    expect(state.tags.find((t) => t.tag === 'production')).toMatchObject({ pem: ids.deploy1 });
    expect(state.artifacts.find((a) => a.name === `${emitter}/model`)).toMatchObject({ producer: ids.train2 });
  });

  it('agrees with the server\'s rk.lineage.upstream and downstream, PEM for PEM and hop for hop', async () => {
    ok(await admin.graphFlush({ timeoutMs: 60_000 }));
    for (const [name, id] of Object.entries(ids)) {
      for (const direction of ['upstream', 'downstream'] as const) {
        const rows = ok(await query.queryGraph(`CALL rk.lineage.${direction}('PEM', '${id}')`));
        const server = Object.fromEntries(rows.map((row) => [row[1] as string, row[0] as number]));
        const walk = direction === 'upstream' ? lineage.upstream(id) : lineage.downstream(id);
        const mine = Object.fromEntries(walk.nodes.flatMap((n) => (n.kind === 'pem' ? [[n.id, n.hop]] : [])));
        expect(mine, `${direction} of ${name}`).toEqual(server);
      }
    }
    // From an artifact the server counts its producer at depth 1, the client at hop 0 (with the artifact).
    const rows = ok(await query.queryGraph(`CALL rk.lineage.upstream('Artifact', '${emitter}/model')`));
    const walk = lineage.upstream(`${emitter}/model`);
    expect(rows.map((r) => [r[1], (r[0] as number) - 1])).toEqual(walk.nodes.flatMap((n) => (n.kind === 'pem' ? [[n.id, n.hop]] : [])));
  });

  it('refresh finds a late PEM with an old client clock, and a setTag rollback through /tags', async () => {
    const audit = pem('audit', 'audit', 25, { pred: 'deploy1', uses: ['model'] });
    ok(await client.sendPem(audit));
    ok(await client.setTag(emitter, 'production', ids.deploy1!));
    const report = ok(await lineage.refresh());
    expect(report).toMatchObject({ phase: 'refresh', added: 1, size: 7 });
    if (received) expect(report.pages).toBe(1);
    // Sent after the retrain, stamped before it: its use binds to the first model.
    expect(lineage.explain(audit.ID).models.map((m) => m.producer)).toEqual([ids.train1]);
    expect(lineage.resolveTag(emitter, 'production')).toMatchObject({ pem: ids.deploy1, basis: 'tags' });
    expect(lineage.tagHistory(emitter, 'production').map((m) => [m.pem, m.basis])).toEqual([
      [ids.deploy1, 'pem'],
      [ids.deploy2, 'pem'],
      [ids.deploy1, 'tags'],
    ]);
    const diff = lineage.diffLineage(ids.deploy1!, ids.deploy2!);
    expect(diff.rebound.map((r) => r.name)).toEqual([`${emitter}/data`, `${emitter}/model`]);
  });
});
