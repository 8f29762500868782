/**
 * The server engine's side of `POST /lineage_reads` (ours, `openapi/query.yaml`): the request body
 * made from one round's needs, and the reply read back as the keys it read in full. Only
 * server-engine.ts imports this file.
 */

import { LINEAGE_READS_MAX_ITEMS, type LineageReadRequest, type LineageReads } from '../public.js';

export type { LineageReadRequest, LineageReads };

/** A tag as the request and reply name it. */
type LineageTagKey = LineageReads['read']['tags'][number];

/** One round's needs: a set for each list of the request. */
type RoundNeeds = { [list in keyof LineageReads['read']]: Set<string> };

/** The request bodies for one round: one, unless a list is longer than the spec allows in one. */
export function readsBody(needs: RoundNeeds, limit: number, walk: LineageReadRequest['walk'], budgetMs: number): LineageReadRequest[] {
  const lists = {
    ids: [...needs.ids],
    producers: [...needs.producers],
    users: [...needs.users],
    children: [...needs.children],
    tags: [...needs.tags].map((key) => {
      const [namespace, tag] = key.split('\u0000') as [string, string];
      return { NamespaceID: namespace, Tag: tag };
    }),
  };
  const longest = Math.max(...Object.values(lists).map((list) => list.length));
  const bodies: LineageReadRequest[] = [];
  for (let from = 0; from === 0 || from < longest; from += LINEAGE_READS_MAX_ITEMS) {
    const body: LineageReadRequest = { limit, budgetMs };
    for (const [key, list] of Object.entries(lists) as Array<[keyof typeof lists, unknown[]]>) {
      const part = list.slice(from, from + LINEAGE_READS_MAX_ITEMS);
      if (part.length) (body as unknown as Record<string, unknown[]>)[key] = part;
    }
    if (walk && from === 0) body.walk = walk;
    bodies.push(body);
  }
  return bodies;
}

/** What a reply read in full, tags keyed as the scratch index keys them, and whether a list was cut at the limit. */
export function readsFor(reply: LineageReads): { ids: string[]; producers: string[]; users: string[]; children: string[]; tags: string[]; capped: boolean } {
  const { read, capped } = reply;
  const key = (t: LineageTagKey) => `${t.NamespaceID}\u0000${t.Tag}`;
  const wasCapped = capped.producers.length + capped.users.length + capped.children.length + capped.tags.length > 0;
  return { ids: read.ids, producers: read.producers, users: read.users, children: read.children, tags: read.tags.map(key), capped: wasCapped };
}
