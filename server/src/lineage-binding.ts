import type { Queryable } from './storage.js';

/**
 * Time-correct binding for the `rk.lineage.*` statements: the client's rule, word for word
 * (src/lineage/binding.ts), so both give the same answer.
 *
 * A use of artifact X by PEM U (TimestampClient t) looks at the seconds at which X was produced,
 * latest first, from t down. At each second s the candidates are the PEMs that produced X stamped
 * s, other than U and other than those that follow U. Within a second, P *follows* Q when Q is
 * reached from P by Predecessor links through PEMs all stamped at or after s (a Predecessor
 * stamped before s, or one not stored, ends the chain).
 *   1. A candidate U follows (one on U's own chain) wins: the nearest one.
 *   2. Otherwise the latest in chain order: of the producers at s that no other producer at s
 *      follows, the candidate with the greatest ID.
 *   3. With no candidate at s, the next earlier second is tried; with none at all the use is
 *      unbound.
 * Timestamps are wire text (`YYYY-MM-DD HH:MM:SS`), which sorts as time.
 */

export interface TimedPem {
  id: string;
  /** TimestampClient, wire text; `'\uffff'` stands for "after everything" (an artifact's latest version). */
  time: string;
}

const CHAIN_LIMIT = 10_000;

interface ChainLink {
  /** null: referred to but not stored. */
  time: string | null;
  predecessor: string | null;
}

/** Reads and caches each PEM's time and Predecessor (in batches), and the latest producers per second, for one statement. */
export class ChainReader {
  readonly #links = new Map<string, ChainLink>();
  readonly #latest = new Map<string, string[]>();

  constructor(private readonly db: Queryable) {}

  /** Reads the links of the IDs not read yet, in one query. */
  async prefetch(ids: Iterable<string>): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.#links.has(id));
    if (!missing.length) return;
    const rows = await this.db.query<{ id: string; time: string | null; predecessor: string | null }>(
      `SELECT k.id, n.data->>'timestamp_client' AS time, e.dst AS predecessor
       FROM unnest($1::text[]) AS k(id)
       LEFT JOIN rk_graph_nodes n ON n.label = 'PEM' AND n.key = k.id
       LEFT JOIN rk_graph_edges e ON e.rel = 'PREDECESSOR' AND e.src = k.id`,
      [missing],
    );
    for (const row of rows) if (!this.#links.has(row.id)) this.#links.set(row.id, { time: row.time, predecessor: row.predecessor });
    for (const id of missing) if (!this.#links.has(id)) this.#links.set(id, { time: null, predecessor: null });
  }

  async link(id: string): Promise<ChainLink> {
    if (!this.#links.has(id)) await this.prefetch([id]);
    return this.#links.get(id)!;
  }

  /** Whether `ancestor` is reached by following `id`'s Predecessor chain (not `id` itself). */
  async isAncestor(ancestor: string, id: string): Promise<boolean> {
    let current = (await this.link(id)).predecessor;
    for (let steps = 0; current !== null && steps < CHAIN_LIMIT; steps++) {
      if (current === ancestor) return true;
      if (current === id) return false;
      current = (await this.link(current)).predecessor;
    }
    return false;
  }

  /** The producers at second `s` (`group`) that no other producer at `s` follows, greatest ID first. */
  async latestAt(name: string, s: string, group: readonly string[]): Promise<string[]> {
    const key = `${name}\u0000${s}`;
    const cached = this.#latest.get(key);
    if (cached) return cached;
    await this.prefetch(group);
    const members = new Set(group);
    const followed = new Set<string>();
    for (const member of members) {
      const seen = new Set([member]);
      let current = (await this.link(member)).predecessor;
      for (let steps = 0; current !== null && steps < CHAIN_LIMIT && !seen.has(current); steps++) {
        const link = await this.link(current);
        if (link.time === null || link.time < s) break;
        if (members.has(current)) {
          followed.add(current);
          break;
        }
        seen.add(current);
        current = link.predecessor;
      }
    }
    const latest = [...members].filter((id) => !followed.has(id)).sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
    this.#latest.set(key, latest);
    return latest;
  }
}

/** The ID of the producer `user`'s use of `name` binds to, or null. `producers` in any order. */
export async function bindProducer(user: TimedPem, producers: readonly TimedPem[], chains: ChainReader, name: string): Promise<string | null> {
  const bySecond = new Map<string, string[]>();
  for (const p of producers) {
    if (p.time > user.time) continue;
    const list = bySecond.get(p.time) ?? [];
    if (!list.includes(p.id)) list.push(p.id);
    bySecond.set(p.time, list);
  }
  const seconds = [...bySecond.keys()].sort().reverse();
  for (const s of seconds) {
    const group = bySecond.get(s)!;
    // What reaches the user depends on the second (the chain ends below it): one memo per second.
    const follows = new Map<string, boolean>();
    if (user.id) {
      const ancestor = await nearestAncestorIn(user.id, new Set(group), s, chains);
      if (ancestor !== null) return ancestor;
    }
    const latest = group.length === 1 ? group : await chains.latestAt(name, s, group);
    for (const id of latest) {
      if (id === user.id) continue;
      if (user.id && (await followsUser(id, user.id, s, chains, follows))) continue;
      return id;
    }
  }
  return null;
}

async function nearestAncestorIn(user: string, group: Set<string>, s: string, chains: ChainReader): Promise<string | null> {
  let current = (await chains.link(user)).predecessor;
  for (let steps = 0; current !== null && current !== user && steps < CHAIN_LIMIT; steps++) {
    const link = await chains.link(current);
    if (link.time === null || link.time < s) return null;
    if (link.time === s && group.has(current)) return current;
    current = link.predecessor;
  }
  return null;
}

/** Whether `id` follows `user` within second `s`; `memo` keeps what one binding learnt. */
async function followsUser(id: string, user: string, s: string, chains: ChainReader, memo: Map<string, boolean>): Promise<boolean> {
  const path: string[] = [];
  let current = (await chains.link(id)).predecessor;
  let answer = false;
  for (let steps = 0; steps < CHAIN_LIMIT; steps++) {
    if (current === null || current === id) break;
    if (current === user) {
      answer = true;
      break;
    }
    const known = memo.get(current);
    if (known !== undefined) {
      answer = known;
      break;
    }
    const link = await chains.link(current);
    if (link.time === null || link.time < s) break;
    path.push(current);
    memo.set(current, false);
    current = link.predecessor;
  }
  for (const step of path) memo.set(step, answer);
  memo.set(id, answer);
  return answer;
}
