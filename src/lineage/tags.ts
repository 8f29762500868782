import { RKInvalidInputError } from '../public.js';
import type { LineageIndex } from './lineage-index.js';
import { formatSeconds, toSeconds, type TimeInput } from './time.js';

/**
 * Tag history, built from what the client can know:
 * - every PEM carries `Tag` and `TagNamespace`; storing it moves that tag to it (what the local RK
 *   does, and what the Receiver's contract says). The move counts at the PEM's TimestampClient, the
 *   same clock that binds artifacts, so one state-at-T answer uses one clock. (The Receiver really
 *   moves it on arrival: a PEM that arrived after a later-stamped one carrying the same tag is marked
 *   `arrivedOutOfOrder`, because there the Receiver's tag and this history differ.) Basis `pem`.
 * - `setTag` moves are not in any PEM. `/tags` tells only where each tag points *now* and since
 *   when (`UpdatedAt`): basis `tags`. Earlier setTag moves are lost unless this client recorded them
 *   (`recordTagMove` with the TagRecord setTag resolved with): basis `recorded`.
 * Every move that rests on an assumption says which in `assumption`.
 */

export type TagMoveBasis = 'pem' | 'tags' | 'recorded';

/** One move of a tag to a PEM, with when it happened and what it is known from. */
export interface TagMove {
  namespace: string;
  tag: string;
  pem: string;
  /** When the tag moved, UTC wire text. */
  at: string;
  basis: TagMoveBasis;
  /** What this move rests on, when it is not a fact the client saw; null otherwise. */
  assumption: string | null;
}

/** Where a tag pointed (at a time), since when, and the assumptions behind the answer. */
export interface TagResolution {
  pem: string;
  /** Since when the tag pointed there. */
  since: string;
  basis: TagMoveBasis;
  /** The assumptions this answer rests on (empty when none). */
  assumptions: string[];
}

/** The assumptions lineage answers can rest on, as the sentences they report. */
export const ASSUMPTIONS = {
  pemMovesTag: 'a PEM carrying Tag/TagNamespace moved that tag at its TimestampClient',
  arrivedOutOfOrder: 'this PEM reached the Receiver after a later-stamped PEM carrying the same tag: on its arrival the Receiver moved the tag back to it, while this history moves the tag at its TimestampClient',
  tagsCurrentOnly: '/tags shows where the tag points now and since when; setTag moves before that are unknown unless recorded',
  tagsNotRead: '/tags was not read: setTag moves are unknown (load with tags, or recordTagMove after setTag)',
  clientClocks: "artifact versions are bound by TimestampClient, so they trust the emitters' clocks",
} as const;

const BASIS_ORDER: Record<TagMoveBasis, number> = { pem: 0, recorded: 1, tags: 2 };

interface Move {
  slotOrId: number | string;
  at: number;
  basis: TagMoveBasis;
  assumption: string | null;
}

function moves(index: LineageIndex, namespace: string, tag: string): Move[] {
  const list: Move[] = [];
  const carriers = [...index.tagCarriers(namespace, tag)].sort((a, b) => index.timeOf(a) - index.timeOf(b) || index.receivedOf(a) - index.receivedOf(b) || (index.idOf(a) < index.idOf(b) ? -1 : 1));
  // The late carrier: the Receiver got it after a later-stamped one and moved the tag back to it
  // on arrival, so from then the Receiver's tag and this history differ. The mark goes on the late
  // PEM itself, not on the moves it undid.
  let minReceivedAfter = Infinity;
  const outOfOrder = new Set<number>();
  for (let i = carriers.length - 1; i >= 0; i--) {
    const slot = carriers[i]!;
    const received = index.receivedOf(slot);
    if (received > minReceivedAfter) outOfOrder.add(slot);
    if (received < minReceivedAfter) minReceivedAfter = received;
  }
  for (const slot of carriers) {
    list.push({ slotOrId: slot, at: index.timeOf(slot), basis: 'pem', assumption: outOfOrder.has(slot) ? ASSUMPTIONS.arrivedOutOfOrder : ASSUMPTIONS.pemMovesTag });
  }
  for (const move of index.knownTagMoves(namespace, tag)) {
    list.push({ slotOrId: move.pem, at: move.at, basis: move.basis, assumption: move.basis === 'tags' ? ASSUMPTIONS.tagsCurrentOnly : null });
  }
  list.sort((a, b) => a.at - b.at || BASIS_ORDER[a.basis] - BASIS_ORDER[b.basis]);
  // A move that only repeats where the tag already points (e.g. /tags confirming the last PEM) adds nothing.
  const out: Move[] = [];
  for (const move of list) {
    const last = out[out.length - 1];
    if (last && idOf(index, last) === idOf(index, move)) continue;
    out.push(move);
  }
  return out;
}

function idOf(index: LineageIndex, move: Move): string {
  return typeof move.slotOrId === 'number' ? index.idOf(move.slotOrId) : move.slotOrId;
}

function checkTag(operation: string, namespace: unknown, tag: unknown): void {
  if (typeof namespace !== 'string' || namespace === '') throw new RKInvalidInputError(operation, 'namespace', `must be a non-empty string, got ${JSON.stringify(namespace)}`);
  if (typeof tag !== 'string' || tag === '') throw new RKInvalidInputError(operation, 'tag', `must be a non-empty string, got ${JSON.stringify(tag)}`);
}

/** Every known move of a tag, oldest first. */
export function tagHistory(index: LineageIndex, namespace: string, tag: string): TagMove[] {
  checkTag('Reading tag history', namespace, tag);
  return moves(index, namespace, tag).map((move) => ({
    namespace,
    tag,
    pem: idOf(index, move),
    at: formatSeconds(move.at) ?? '',
    basis: move.basis,
    assumption: move.assumption,
  }));
}

/** Where the tag pointed at `at` (now when left out), or null when it pointed nowhere yet. */
export function resolveTag(index: LineageIndex, namespace: string, tag: string, options: { at?: TimeInput } = {}): TagResolution | null {
  const operation = 'Resolving tag';
  checkTag(operation, namespace, tag);
  const at = options.at === undefined ? Infinity : toSeconds(operation, 'at', options.at);
  const move = moveAt(moves(index, namespace, tag), at);
  if (!move) return null;
  const assumptions = move.assumption ? [move.assumption] : [];
  if (!index.tagsRead && move.basis === 'pem') assumptions.push(ASSUMPTIONS.tagsNotRead);
  return { pem: idOf(index, move), since: formatSeconds(move.at) ?? '', basis: move.basis, assumptions };
}

/** The slot of the PEM the tag pointed to at `at` seconds, or -1 (also for a PEM never seen). */
export function resolveTagSlot(index: LineageIndex, namespace: string, tag: string, at: number): number {
  const move = moveAt(moves(index, namespace, tag), at);
  if (!move) return -1;
  return typeof move.slotOrId === 'number' ? move.slotOrId : index.slotOf(move.slotOrId);
}

function moveAt(list: Move[], at: number): Move | undefined {
  let found: Move | undefined;
  for (const move of list) {
    if (move.at > at) break;
    found = move;
  }
  return found;
}
