import type { LineageIndex } from './lineage-index.js';

/**
 * Time-correct binding: which PEM produced the version of an artifact that a PEM used. The rule,
 * written once (the local RK's `rk.lineage.*` statements follow it too:
 * server/src/lineage-binding.ts):
 *
 * A use of artifact X by PEM U (TimestampClient t) looks at the seconds at which X was produced,
 * latest first, from t down. At each second s the candidates are the PEMs that produced X stamped
 * s, other than U and other than those that follow U. Within a second, P *follows* Q when Q is
 * reached from P by Predecessor links through PEMs all stamped at or after s (a Predecessor
 * stamped before s, or one not stored, ends the chain). This holds at every second, so a PEM
 * whose Predecessor is U never binds U's use, whatever its clock says.
 *   1. A candidate U follows (one on U's own chain) wins over the others: the nearest one.
 *   2. Otherwise the latest in chain order: of the producers at s that no other producer at s
 *      follows, the candidate with the greatest ID (preparePem's IDs are UUIDv7, which sort by
 *      creation time).
 *   3. With no candidate at s, the next earlier second is tried; with none at all the use is
 *      unbound (a gap, or a data source), never dropped.
 * An artifact's version current at a time (no user) is rule 2 at the latest second at or before it.
 *
 * Cost: a binary search for the second, then chain steps within that one second: to U's nearest
 * candidate ancestor, and along the chain of each latest producer looking for U (remembered for
 * the rest of the binding). The latest producers of each (artifact, second) are computed once per
 * index version, in one pass over their same-second chains. So a use in a chain of n PEMs stamped
 * in one second costs O(log n) plus its distance to the previous producer, not O(n^2).
 */

/** How far a chain is followed in one binding (cycles end sooner: a PEM seen twice ends it). */
const CHAIN_LIMIT = 10_000;

/** The producer slot that `user`'s use of `artifact` binds to, or -1. */
export function bindUse(index: LineageIndex, user: number, artifact: number): number {
  return bindAt(index, artifact, index.timeOf(user), user);
}

/**
 * The producer of the version of `artifact` current at `seconds` (-1 when none yet); with
 * `user`, as that PEM's use sees it.
 */
export function bindAt(index: LineageIndex, artifact: number, seconds: number, user = -1): number {
  const producers = index.producersOf(artifact);
  let end = upperBound(index, producers, seconds);
  while (end > 0) {
    // What reaches the user depends on the second (the chain ends below it): one memo per second.
    let follows: Map<number, boolean> | null = null;
    const s = index.timeOf(producers[end - 1]!);
    const start = lowerBound(index, producers, s); // a burst is one long group: never walk it
    if (user >= 0) {
      const ancestor = nearestAncestorIn(index, user, artifact, s);
      if (ancestor >= 0) return ancestor;
    }
    const latest = start === end - 1 ? [producers[start]!] : latestAt(index, artifact, producers, start, end);
    for (const slot of latest) {
      if (slot === user) continue;
      if (user >= 0) {
        follows ??= new Map();
        if (followsUser(index, slot, user, s, follows)) continue;
      }
      return slot;
    }
    end = start;
  }
  return -1;
}

/** The nearest PEM on `user`'s chain within second `s` that produced `artifact` at `s`, or -1. */
function nearestAncestorIn(index: LineageIndex, user: number, artifact: number, s: number): number {
  let current = index.predecessorOf(user);
  for (let steps = 0; current >= 0 && current !== user && steps < CHAIN_LIMIT; steps++) {
    if (!index.isLoaded(current)) return -1;
    const time = index.timeOf(current);
    if (time < s) return -1;
    if (time === s && produces(index, current, artifact)) return current;
    current = index.predecessorOf(current);
  }
  return -1;
}

function produces(index: LineageIndex, slot: number, artifact: number): boolean {
  for (let i = 0; i < index.producesCount(slot); i++) if (index.produceAt(slot, i) === artifact) return true;
  return false;
}

/**
 * Whether `slot` follows `user` within second `s`. `memo` remembers, for this one binding, every
 * PEM already known to reach `user` or not, so a chain is walked once however many ask.
 */
function followsUser(index: LineageIndex, slot: number, user: number, s: number, memo: Map<number, boolean>): boolean {
  const path: number[] = [];
  let current = index.predecessorOf(slot);
  let answer = false;
  for (let steps = 0; steps < CHAIN_LIMIT; steps++) {
    if (current < 0 || current === slot) break;
    if (current === user) {
      answer = true;
      break;
    }
    const known = memo.get(current);
    if (known !== undefined) {
      answer = known;
      break;
    }
    if (!index.isLoaded(current) || index.timeOf(current) < s) break;
    path.push(current);
    memo.set(current, false); // a cycle back here ends the walk
    current = index.predecessorOf(current);
  }
  for (const step of path) memo.set(step, answer);
  memo.set(slot, answer);
  return answer;
}

/**
 * The producers at one second (positions start..end of the artifact's producers) that no other
 * producer at that second follows, greatest ID first. Cached per index version.
 */
function latestAt(index: LineageIndex, artifact: number, producers: readonly number[], start: number, end: number): readonly number[] {
  const cache = index.bindingCache<readonly number[]>();
  const key = `${artifact}:${start}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const s = index.timeOf(producers[start]!);
  const members = new Set<number>();
  for (let i = start; i < end; i++) members.add(producers[i]!);
  const followed = new Set<number>();
  for (const member of members) {
    // Up the chain to the first other member: that one (and, through its own walk, everyone above it) is followed.
    let current = index.predecessorOf(member);
    const seen = new Set<number>([member]);
    for (let steps = 0; current >= 0 && steps < CHAIN_LIMIT && !seen.has(current); steps++) {
      if (!index.isLoaded(current) || index.timeOf(current) < s) break;
      if (members.has(current)) {
        followed.add(current);
        break;
      }
      seen.add(current);
      current = index.predecessorOf(current);
    }
  }
  const latest = [...members].filter((slot) => !followed.has(slot)).sort((a, b) => (index.idOf(a) < index.idOf(b) ? 1 : -1));
  cache.set(key, latest);
  return latest;
}

/** The first position in `slots` (sorted by time) whose time is after `seconds`. */
export function upperBound(index: LineageIndex, slots: readonly number[], seconds: number): number {
  let lo = 0;
  let hi = slots.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (index.timeOf(slots[mid]!) <= seconds) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first position in `slots` whose time is at or after `seconds`. */
export function lowerBound(index: LineageIndex, slots: readonly number[], seconds: number): number {
  let lo = 0;
  let hi = slots.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (index.timeOf(slots[mid]!) < seconds) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether `ancestor` is reached by following `slot`'s Predecessor chain (not `slot` itself). */
export function isChainAncestor(index: LineageIndex, ancestor: number, slot: number): boolean {
  let current = index.predecessorOf(slot);
  for (let steps = 0; current >= 0 && steps < CHAIN_LIMIT; steps++) {
    if (current === ancestor) return true;
    if (current === slot) return false; // a cycle back to the start
    current = index.predecessorOf(current);
  }
  return false;
}
