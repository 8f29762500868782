import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RKClient, RKQuery, systemClock, type Logger } from '../../src/index.js';
import { startLocalRK, type LocalRK } from '../../server/src/index.js';
import { fileStore } from '../../server/test/helpers/harness.js';
import { startScriptableReceiver, type ScriptableReceiver } from '../helpers/scriptable-receiver.js';
import { VirtualClock } from '../helpers/virtual-clock.js';

/**
 * Where dedupe matters, the real thing decides: the fault-injecting proxy answers the scripted
 * faults and forwards the rest to the local Record Keeper, and what is stored is read back through
 * the Query service.
 */

const silent: Logger = { warn: () => {} };

/** One PGlite store for both reply modes' servers, emptied for each. */
const store = fileStore();

// Our JSON acknowledgements, and the reference forms (`Ack getting <Type>` text) a real Receiver may give.
describe.each(['rich', 'reference'] as const)('delivery against the local Record Keeper (%s replies)', { timeout: 60_000 }, (replies) => {
  let rk: LocalRK;
  let proxy: ScriptableReceiver;
  let query: RKQuery;
  const clock = new VirtualClock({ auto: true, start: Date.now() });
  const emitter = `delivery-${Date.now().toString(36)}`;

  beforeAll(async () => {
    rk = await startLocalRK({ storage: await store(), graphIntervalMs: 60_000, replies });
    proxy = await startScriptableReceiver({ upstream: rk.receiverUrl, now: () => clock.now() });
    query = new RKQuery(rk.queryUrl, { timeoutMs: 30_000 });
  }, 120_000);

  afterAll(async () => {
    await proxy?.close();
    await rk?.stop();
  });

  async function storedCount(ID: string): Promise<number> {
    const count = await query.getPemsCount({ ID });
    if (!count.ok) throw count.error;
    return count.value;
  }

  it('503 three times, then the server: one PEM stored, with the client’s content', async () => {
    const client = new RKClient(proxy.url, emitter, { clock, random: () => 1, logger: silent });
    proxy.script({ status: 503 }, { status: 503 }, { status: 503 });
    const pem = client.preparePem('ingest', { properties: { case: '503x3' } });
    expect(await client.sendPem(pem)).toMatchObject({ ok: true, value: { ID: pem.ID, status: 'accepted' } });
    expect(await storedCount(pem.ID)).toBe(1);
    const stored = await query.getPem(pem.ID);
    expect(stored.ok && stored.value.Properties).toEqual({ case: '503x3' });
    await client.close();
  });

  it('commit, then reset: the server stored it on the first attempt and answers the second "duplicate"; one PEM, delivered', async () => {
    const client = new RKClient(proxy.url, emitter, { clock, random: () => 1, logger: silent });
    proxy.script({ reset: 'after-commit' });
    const pem = client.preparePem('ingest', { properties: { case: 'commit-reset' } });
    const before = proxy.pemRequests().length;
    expect(await client.sendPem(pem)).toMatchObject({ ok: true, value: { ID: pem.ID, status: 'accepted' } });
    expect(proxy.pemRequests().length - before).toBe(2);
    expect(proxy.acceptedCount.get(pem.ID)).toBe(1);
    expect(await storedCount(pem.ID)).toBe(1);
    await client.close();
  });

  it('an outage with an outbox: 50 PEMs persisted, then each stored once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rk-local-outbox-'));
    try {
      await proxy.refuse();
      const client = new RKClient(proxy.url, emitter, {
        clock: systemClock,
        logger: silent,
        outbox: { dir, pollIntervalMs: 10, maxBackoffMs: 50 },
      });
      const pems = Array.from({ length: 50 }, (_, i) => client.preparePem('ingest', { properties: { case: 'outage', i } }));
      const results = await Promise.all(pems.map((pem) => client.sendPem(pem)));
      expect(results.every((r) => r.ok && r.value.status === 'persisted')).toBe(true);
      await proxy.accept();
      expect(await client.close({ timeoutMs: 30_000 })).toMatchObject({ pending: 0, timedOut: false, delivered: 50 });
      for (const pem of pems) expect(await storedCount(pem.ID)).toBe(1);
      expect(readdirSync(dir).filter((n) => n.endsWith('.pem'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
