import type { Queryable } from './storage.js';

/**
 * Time-correct binding for the `rk.lineage.*` statements, the same rule as the client's
 * (src/lineage/binding.ts), so both give the same answer:
 *
 * A use of artifact X by PEM U binds to the latest PEM that produced X with TimestampClient at or
 * before U's, U excluded. Among producers with that latest time: one that follows U on the
 * Predecessor chain is excluded (it came after U); one on U's own chain wins; one that is a chain
 * ancestor of another candidate loses to it; then the greatest ID wins. If none is left at that
 * time, the next earlier time is tried. Timestamps are wire text (`YYYY-MM-DD HH:MM:SS`), which
 * sorts as time.
 */

export interface TimedPem {
  id: string;
  /** TimestampClient, wire text; `'\uffff'` stands for "after everything" (an artifact's latest version). */
  time: string;
}

const CHAIN_LIMIT = 10_000;

/** Reads and caches Predecessor edges of the graph, for tie-breaking along chains. */
export class ChainReader {
  readonly #predecessor = new Map<string, string | null>();

  constructor(private readonly db: Queryable) {}

  async predecessorOf(id: string): Promise<string | null> {
    if (!this.#predecessor.has(id)) {
      const [row] = await this.db.query<{ dst: string }>(`SELECT dst FROM rk_graph_edges WHERE rel = 'PREDECESSOR' AND src = $1`, [id]);
      this.#predecessor.set(id, row?.dst ?? null);
    }
    return this.#predecessor.get(id) ?? null;
  }

  /** Whether `ancestor` is reached by following `id`'s Predecessor chain (not `id` itself). */
  async isAncestor(ancestor: string, id: string): Promise<boolean> {
    let current = await this.predecessorOf(id);
    for (let steps = 0; current !== null && steps < CHAIN_LIMIT; steps++) {
      if (current === ancestor) return true;
      if (current === id) return false;
      current = await this.predecessorOf(current);
    }
    return false;
  }
}

/** The ID of the producer `user`'s use binds to, or null. `producers` in any order. */
export async function bindProducer(user: TimedPem, producers: readonly TimedPem[], chains: ChainReader): Promise<string | null> {
  const times = [...new Set(producers.map((p) => p.time).filter((t) => t <= user.time))].sort().reverse();
  for (const time of times) {
    let candidates = producers.filter((p) => p.time === time && p.id !== user.id).map((p) => p.id);
    candidates = [...new Set(candidates)];
    if (time === user.time) candidates = await filterAsync(candidates, async (id) => !(await chains.isAncestor(user.id, id)));
    if (candidates.length === 0) continue;
    if (candidates.length === 1) return candidates[0]!;
    const onChain = await filterAsync(candidates, (id) => chains.isAncestor(id, user.id));
    if (onChain.length) candidates = onChain;
    const pool = candidates;
    const latest = await filterAsync(pool, async (id) => !(await someAsync(pool, (other) => (other === id ? Promise.resolve(false) : chains.isAncestor(id, other)))));
    if (latest.length) candidates = latest;
    return candidates.reduce((best, id) => (id > best ? id : best));
  }
  return null;
}

async function filterAsync<T>(list: readonly T[], test: (item: T) => Promise<boolean>): Promise<T[]> {
  const keep: T[] = [];
  for (const item of list) if (await test(item)) keep.push(item);
  return keep;
}

async function someAsync<T>(list: readonly T[], test: (item: T) => Promise<boolean>): Promise<boolean> {
  for (const item of list) if (await test(item)) return true;
  return false;
}
