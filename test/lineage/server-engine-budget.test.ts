import { describe, expect, it } from 'vitest';
import { LineageIndex, MemoryEngine, ServerEngine, type PemListOptions, type Result, type StoredPem } from '../../src/index.js';
import { stored } from './fixtures.js';

/**
 * The server engine's time budget holds inside a round, not only between rounds: an `impact`
 * whose third round needs hundreds of reads stops starting them once the budget is spent. Time
 * is a clock the fake Query service moves by 1 ms per request, so the test counts requests and
 * never waits on the wall clock.
 */

function ok<T>(result: Result<T>): T {
  if (!result.ok) throw result.error;
  return result.value;
}

const hex = (n: number) => n.toString(16).padStart(32, '0');
const USERS = 120;

/** A source PEM producing `x`, used by 120 PEMs that each produce their own artifact and carry a tag. */
function history(): StoredPem[] {
  const pems = [stored(hex(1), { type: 'ingest', t: 0, produces: ['x'] })];
  for (let i = 0; i < USERS; i++) pems.push(stored(hex(100 + i), { type: 'deploy', t: 1 + i, uses: ['x'], produces: [`service-${i}`], tag: 'production', ns: `svc-${i}` }));
  return pems;
}

/** A Query service over the PEMs with the filters the server engine uses, one clock tick per request. */
function slowSource(pems: StoredPem[], clock: { now: number; requests: number }) {
  const matches = (pem: StoredPem, filters: Record<string, unknown>) =>
    Object.entries(filters).every(([key, value]) => {
      if (key === 'ID') return pem.ID === value;
      if (key === 'Predecessor') return pem.Predecessor === value;
      if (key === 'UsesArtifact') return pem.UsesArtifacts.includes(value as string);
      if (key === 'ProducesArtifact') return pem.ProducesArtifacts.includes(value as string);
      if (key === 'Tag') return pem.Tag === value;
      if (key === 'TagNamespace') return pem.TagNamespace === value;
      throw new Error(`unexpected filter ${key}`);
    });
  return {
    async getPems(options: PemListOptions = {}): Promise<Result<StoredPem[]>> {
      clock.now += 1;
      clock.requests++;
      await Promise.resolve();
      const all = pems.filter((pem) => matches(pem, (options.filters ?? {}) as Record<string, unknown>));
      const size = options.pageSize ?? all.length;
      const from = (options.pageIndex ?? 0) * size;
      return { ok: true, value: all.slice(from, from + size) };
    },
    async getTags() {
      clock.now += 1;
      clock.requests++;
      return { ok: true as const, value: [] };
    },
  };
}

describe('the server engine honours its time budget inside a round', () => {
  it('impact stops starting reads once the budget is spent, and says the answer is partial', async () => {
    const pems = history();
    const unbounded = { now: 0, requests: 0 };
    const full = await ok(ServerEngine.over(slowSource(pems, unbounded), { clock: () => unbounded.now, timeBudgetMs: 1_000_000 })).impact(hex(1), { maxHops: 4 });
    expect(full.ok && full.value.hits.length).toBe(USERS);
    // The whole answer takes hundreds of reads, most of them in the third round (each user's followers and products).
    expect(unbounded.requests).toBeGreaterThan(3 * USERS);

    const clock = { now: 0, requests: 0 };
    const engine = ok(ServerEngine.over(slowSource(pems, clock), { clock: () => clock.now, timeBudgetMs: 40, concurrency: 4 }));
    const cut = await engine.impact(hex(1), { maxHops: 4 });
    if (!cut.ok) throw cut.error;
    expect(cut.value.truncated?.reason).toBe('timeBudget');
    // Reads stop at the budget (plus the ones already in flight), far short of the whole round.
    expect(clock.requests).toBeLessThanOrEqual(40 + 4 + 1);
    expect(engine.lastAnswer.requests).toBe(clock.requests);
    // What it does answer is right as far as it goes: every hit is one the memory engine finds.
    const index = new LineageIndex();
    index.addAll(pems);
    const memory = await new MemoryEngine(index).impact(hex(1), { maxHops: 4 });
    const expected = new Map(memory.ok ? memory.value.hits.map((hit) => [hit.pem, hit]) : []);
    for (const hit of cut.value.hits) expect(hit).toEqual(expected.get(hit.pem));
  });
});
