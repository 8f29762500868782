import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asFailure, Pem, RKAdmin, RKClient, RKLineage, RKQuery, RKRejectedError, ReplicaEngine, ServerEngine, type LineageEngine, type PemListOptions, type Result, type StoredPem } from '../../src/index.js';
import { startLocalRK, type LocalRK } from '../../server/src/index.js';
import { randomHistory } from './random-history.js';

/**
 * The server engine against the memory engine on the local RK, in both reply modes: random
 * pipeline-shaped histories sent through the Receiver, then the same questions asked of both
 * engines, whose answers must be identical (nodes, hops, edges, gaps, truncation, cursors). Once
 * through the `/pems` artifact filters, once as against an RK without them (Cypher over `/query`
 * after probing the graph's labels and relationship types).
 *
 * Rich replies get three histories (seeds 7000-7002); reference replies get the first of them
 * only. The modes differ in the wording of acks and errors, never in read replies (see
 * server/src/replies.ts), so every engine path and every kind of question still meets the
 * reference wording through the writes and reads of one history; the other two seeds add history
 * shapes, which do not depend on the reply mode and are covered in rich mode.
 */

function ok<T>(result: Result<T>): T {
  if (!result.ok) throw result.error;
  return result.value;
}

/** An RKQuery as an RK without the UsesArtifact/ProducesArtifact filters answers it (a 400, which the client reports as RKRejectedError). */
function withoutArtifactFilters(query: RKQuery) {
  return {
    getPems: (options: PemListOptions = {}, call?: Parameters<RKQuery['getPems']>[1]) =>
      options.filters && ('UsesArtifact' in options.filters || 'ProducesArtifact' in options.filters)
        ? Promise.resolve({ ok: false as const, error: asFailure(new RKRejectedError('Listing PEMs', 400, 'Bad Request', { error: 'Unknown filter field' }, new Headers())) })
        : query.getPems(options, call),
    getTags: query.getTags.bind(query),
    queryGraph: query.queryGraph.bind(query),
  };
}

describe.each(['rich', 'reference'] as const)('the server engine gives the memory engine\'s answers on the local RK (%s replies)', { timeout: 240_000 }, (mode) => {
  let rk: LocalRK;
  let query: RKQuery;
  let memory: LineageEngine;
  const histories: StoredPem[][] = [];

  beforeAll(async () => {
    rk = await startLocalRK({ memory: true, graphIntervalMs: 60_000, ...(mode === 'rich' ? {} : { replies: mode }) });
    const emitter = `differential-${mode}`;
    const client = new RKClient(rk.receiverUrl, emitter, { timeoutMs: 30_000 });
    query = new RKQuery(rk.queryUrl, { timeoutMs: 30_000 });
    const historyCount = mode === 'rich' ? 3 : 1;
    for (let h = 0; h < historyCount; h++) {
      const history = randomHistory(7000 + h, { size: 36, prefix: `h${h}/` }).map((pem) => ({ ...pem, Emitter: emitter }));
      for (const pem of history) {
        const sent = Pem.from({
          ID: pem.ID,
          Type: pem.Type,
          Predecessor: pem.Predecessor,
          Emitter: emitter,
          TimestampClient: pem.TimestampClient,
          Properties: {},
          Version: Pem.from(client.preparePem('x').toJSON()).Version,
          Tag: pem.Tag,
          TagNamespace: pem.TagNamespace,
          UsesArtifacts: pem.UsesArtifacts.map((Name) => ({ Name, Properties: {}, CreatedAt: null })),
          ProducesArtifacts: pem.ProducesArtifacts.map((Name) => ({ Name, Properties: {}, CreatedAt: null })),
        } as never);
        ok(await client.sendPem(sent));
      }
      histories.push(history);
    }
    await client.close();
    // The Cypher reads see the graph projection: bring it up to date.
    ok(await new RKAdmin(rk.queryUrl, rk.graphBuilderUrl, { timeoutMs: 60_000 }).graphFlush({ timeoutMs: 60_000 }));
    const lineage = new RKLineage(query);
    ok(await lineage.load());
    memory = ok(await lineage.openEngine());
  }, 240_000);

  afterAll(async () => {
    await rk?.stop();
  });

  // Three sampled PEMs (i % 12 === 5 of 36) with five questions each, and five per history.
  const QUESTIONS_PER_HISTORY = 3 * 5 + 5;

  async function same(engine: LineageEngine, label: string, ask: (engine: LineageEngine) => Promise<Result<unknown>>): Promise<void> {
    const expected = ok(await ask(memory));
    const actual = ok(await ask(engine));
    expect(actual, label).toEqual(expected);
  }

  async function compareAll(engine: LineageEngine): Promise<number> {
    let questions = 0;
    for (const [h, history] of histories.entries()) {
      const sample = history.filter((_, i) => i % 12 === 5);
      for (const pem of sample) {
        await same(engine, `h${h} upstream ${pem.ID}`, (e) => e.upstream(pem.ID));
        await same(engine, `h${h} downstream ${pem.ID}`, (e) => e.downstream(pem.ID));
        await same(engine, `h${h} downstream page ${pem.ID}`, (e) => e.downstream(pem.ID, { maxNodes: 6, maxHops: 3 }));
        await same(engine, `h${h} explain ${pem.ID}`, (e) => e.explain(pem.ID, { maxHops: 5 }));
        await same(engine, `h${h} impact ${pem.ID}`, (e) => e.impact(pem.ID, { maxHops: 6 }));
        questions += 5;
      }
      const first = history[2]!;
      const last = history[history.length - 1]!;
      await same(engine, `h${h} paths`, (e) => e.paths(first.ID, last.ID, { maxHops: 8 }));
      await same(engine, `h${h} artifact upstream`, (e) => e.upstream({ name: `h${h}/model/m` }, { maxHops: 4 }));
      await same(engine, `h${h} tag`, (e) => e.resolveTag(`h${h}/ml`, 'production'));
      await same(engine, `h${h} tag start`, (e) => e.upstream({ namespace: `h${h}/ml`, tag: 'production' }, { maxHops: 3 }));
      await same(engine, `h${h} diff`, (e) => e.diffLineage(first.ID, last.ID, { maxHops: 6 }));
      questions += 5;
      // A truncated page resumed: the cursor works on either engine.
      const page = ok(await engine.upstream(last.ID, { maxNodes: 5 }));
      if (page.cursor) await same(engine, `h${h} resume`, (e) => e.resume(page.cursor!, { maxNodes: 5 }));
    }
    return questions;
  }

  // Rich replies list lineage-reads in /info; reference replies answer /info as the real RK does,
  // so there the engine is told to use them.
  const withReads = () => ServerEngine.over(query, mode === 'rich' ? {} : { lineageReads: true });

  it('through POST /lineage_reads, which the local RK offers', async () => {
    const engine = ok(withReads());
    expect(await compareAll(engine)).toBe(QUESTIONS_PER_HISTORY * histories.length);
    expect(engine.lastAnswer.lineageReads).toBe(true);
  });

  it('asks /info whether lineage reads are offered: only rich replies list them', async () => {
    const engine = ok(ServerEngine.over(query));
    const target = histories[0]![histories[0]!.length - 1]!.ID;
    await same(engine, `explain ${target}`, (e) => e.explain(target, { maxHops: 5 }));
    expect(engine.lastAnswer.lineageReads).toBe(mode === 'rich');
  });

  it('lineage reads answer a deep explain in a few requests where the REST reads need many', async () => {
    const reads = ok(withReads());
    const rest = ok(ServerEngine.over(query, { lineageReads: false }));
    for (const history of histories) {
      const target = history[history.length - 1]!.ID;
      await same(reads, `explain 20 hops ${target}`, (e) => e.explain(target, { maxHops: 20 }));
      const withReads = reads.lastAnswer.requests;
      ok(await rest.explain(target, { maxHops: 20 }));
      const withRest = rest.lastAnswer.requests;
      expect(reads.lastAnswer.lineageReads).toBe(true);
      expect(withReads, `requests with lineage reads (${withReads}) against REST (${withRest})`).toBeLessThanOrEqual(Math.max(3, withRest / 4));
    }
  });

  it('through the /pems artifact filters, as against a real RK (lineage reads off)', async () => {
    const engine = ok(ServerEngine.over(query, { lineageReads: false }));
    expect(await compareAll(engine)).toBe(QUESTIONS_PER_HISTORY * histories.length);
    expect(engine.lastAnswer.lineageReads).toBe(false);
  });

  it('through Cypher on a probed graph schema, as against an RK without those filters', async () => {
    const engine = ok(ServerEngine.over(withoutArtifactFilters(query)));
    expect(await compareAll(engine)).toBe(QUESTIONS_PER_HISTORY * histories.length);
  });

  it('the replica engine, synced from this RK into a copy on disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rk-replica-'));
    const engine = ok(await ReplicaEngine.open({ dir, source: query }));
    try {
      expect(await compareAll(engine)).toBe(QUESTIONS_PER_HISTORY * histories.length);
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a tight time budget answers with what it read, marked partial', async () => {
    const engine = ok(ServerEngine.over(query));
    const start = histories[0]![histories[0]!.length - 1]!.ID;
    const answer = ok(await engine.upstream(start, { maxHops: 20, timeBudgetMs: 1 }));
    expect(answer.partial).toBe(true);
    expect(answer.truncated?.reason).toBe('timeBudget');
    expect(answer.nodes[0]).toMatchObject({ id: start, hop: 0 });
  });

  it('an RK with neither the filters nor a graph says so instead of answering wrongly', async () => {
    const bare = withoutArtifactFilters(query);
    const engine = ok(ServerEngine.over({ getPems: bare.getPems }));
    const answer = await engine.upstream(histories[0]![10]!.ID);
    expect(answer.ok).toBe(false);
    if (!answer.ok) expect(answer.error.message).toMatch(/cannot list PEMs by the artifacts.*memory engine/);
  });
});
