import type { LineageIndex } from './lineage-index.js';

/**
 * Time-correct binding: which PEM produced the version of an artifact that a PEM used.
 *
 * A use of artifact X by PEM U (TimestampClient t) binds to the latest PEM that produced X with
 * TimestampClient at or before t, U itself excluded. Among producers with that same latest time:
 *   1. a producer that follows U on the Predecessor chain came after U and is not a candidate;
 *   2. a producer on U's own Predecessor chain (an ancestor of U) wins over one that is not;
 *   3. a producer that is a Predecessor-chain ancestor of another candidate loses to it (the later wins);
 *   4. then the greatest ID wins (IDs from preparePem are UUIDv7, so they sort by creation time).
 * If every producer at that time is excluded, the next earlier time is tried. A use that binds to
 * nothing is an unbound use (a gap, or a data source), never dropped. The local server's
 * `rk.lineage.*` statements apply the same rule (server/src/lineage-binding.ts).
 */

/** How far a Predecessor chain is followed when breaking ties (cycles are cut by the bound). */
const CHAIN_LIMIT = 10_000;

/** The producer slot that `user`'s use of `artifact` binds to, or -1. */
export function bindUse(index: LineageIndex, user: number, artifact: number): number {
  return bindAt(index, artifact, index.timeOf(user), user);
}

/**
 * The producer of the version of `artifact` current at `seconds` (-1 when none yet); with
 * `user`, as seen by that PEM (itself and its chain successors excluded).
 */
export function bindAt(index: LineageIndex, artifact: number, seconds: number, user = -1): number {
  const producers = index.producersOf(artifact);
  let end = upperBound(index, producers, seconds);
  while (end > 0) {
    const t = index.timeOf(producers[end - 1]!);
    let start = end - 1;
    while (start > 0 && index.timeOf(producers[start - 1]!) === t) start--;
    if (start === end - 1) {
      const only = producers[start]!;
      if (only !== user && !(user >= 0 && t === seconds && isChainAncestor(index, user, only))) return only;
    } else {
      const chosen = breakTie(index, producers.slice(start, end), t === seconds ? user : -1, user);
      if (chosen >= 0) return chosen;
    }
    end = start;
  }
  return -1;
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

function breakTie(index: LineageIndex, tied: number[], sameTimeUser: number, user: number): number {
  let candidates = tied.filter((slot) => slot !== user && !(sameTimeUser >= 0 && isChainAncestor(index, sameTimeUser, slot)));
  if (candidates.length <= 1) return candidates[0] ?? -1;
  if (user >= 0) {
    const onChain = candidates.filter((slot) => isChainAncestor(index, slot, user));
    if (onChain.length) candidates = onChain;
  }
  const latest = candidates.filter((slot) => !candidates.some((other) => other !== slot && isChainAncestor(index, slot, other)));
  if (latest.length) candidates = latest;
  let best = candidates[0]!;
  for (const slot of candidates) if (index.idOf(slot) > index.idOf(best)) best = slot;
  return best;
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
