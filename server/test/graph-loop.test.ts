import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePem, startHarness, type Harness } from './helpers/harness.js';

/** The Graph Builder's background loop projects new PEMs without being asked. */
describe('the Graph Builder loop', { timeout: 60_000 }, () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ graphIntervalMs: 20 });
  }, 120_000);
  afterAll(async () => h?.stop());

  it('catches up by itself, and stop() ends it', async () => {
    const pems = [makePem(), makePem(), makePem()];
    for (const pem of pems) await h.call('receiver', 'POST', '/pem', { body: pem });
    // Polled, never timed: the test only bounds how often it asks.
    let info = (await h.call('graph-builder', 'GET', '/info')).json;
    for (let i = 0; info.neo4j_pems_count < 3 && i < 1000; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      info = (await h.call('graph-builder', 'GET', '/info')).json;
    }
    expect(info).toMatchObject({ pg_pems_count: 3, neo4j_pems_count: 3, pems_sync_pct: '100.0', loop_iteration_interval: 0 });
    expect(h.validator.violations()).toEqual([]);
  });
});
