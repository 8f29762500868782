import type { Queryable } from './storage.js';

/**
 * `POST /lineage_reads` (ours): the reads a lineage question needs, in one request, so the
 * client's server engine asks once where it would ask once per PEM and hop. The client runs its
 * own rules over what comes back (src/lineage/server-engine.ts); this file only decides what to
 * read, and reports exactly what it read in full, which is all the client relies on.
 *
 * A read is one of: PEMs by ID; the producers or the users of an artifact Name; the PEMs that
 * follow a PEM; the carriers of a tag. Each brings at most `limit` PEMs (the first by arrival
 * order; the key is then reported in `capped`), as the client's own paged listing would.
 *
 * With `walk`, the reads go on hop by hop from the PEMs the listed reads found. What a hop reads
 * is what the client's walk will ask of it: upstream, each PEM's Predecessor and every producer of
 * what it uses, plus the Predecessor chain back to the producing second that binding follows;
 * downstream, its followers, the users and producers of what it produces, and the same chains of
 * those users. Which PEMs it goes on from is a guess at the answer: upstream, the producers at the
 * latest second at or before the use (binding.ts picks one of them); downstream, the users from
 * the producer's second to the artifact's next one. A wrong guess costs the client a round, never
 * a wrong answer. `maxPems` and `budgetMs` end the walk between hops.
 */

export interface LineageTagKey {
  namespace: string;
  tag: string;
}

export interface LineageReadRequest {
  ids?: string[];
  producers?: string[];
  users?: string[];
  children?: string[];
  tags?: LineageTagKey[];
  walk?: { direction: 'upstream' | 'downstream'; hops: number };
  limit: number;
  maxPems?: number;
  budgetMs?: number;
}

export interface LineagePem {
  ID: string;
  Type: string;
  Predecessor: string | null;
  Emitter: string;
  TimestampClient: string;
  TimestampReceived: string;
  Tag: string;
  TagNamespace: string;
  UsesArtifacts: string[];
  ProducesArtifacts: string[];
}

export interface LineageReadKeys {
  ids: string[];
  producers: string[];
  users: string[];
  children: string[];
  tags: LineageTagKey[];
}

export interface LineageReads {
  pems: LineagePem[];
  read: LineageReadKeys;
  capped: LineageReadKeys;
}

const DEFAULT_MAX_PEMS = 50_000;
/** How far back a Predecessor chain is read for one binding (the client stops at 10 000; longer ones cost it rounds). */
const CHAIN_LEVELS = 64;

interface PemRow {
  id: string;
  type: string;
  predecessor: string | null;
  emitter: string;
  timestamp_client: string;
  timestamp_received: string;
  tag: string;
  tag_namespace: string;
}

type ListKind = 'producers' | 'users' | 'children' | 'tags';

/** Runs one request's reads against the tables (the same rows `/pems` lists). */
export async function readLineage(db: Queryable, request: LineageReadRequest): Promise<LineageReads> {
  const reader = new Reader(db, request.limit);
  const started = Date.now();
  const found = new Set<string>();
  const collect = (ids: Iterable<string>) => {
    for (const id of ids) if (reader.pems.has(id)) found.add(id);
  };
  collect(await reader.ids(request.ids ?? []));
  collect(await reader.list('producers', request.producers ?? []));
  collect(await reader.list('users', request.users ?? []));
  collect(await reader.list('children', request.children ?? []));
  await reader.list('tags', (request.tags ?? []).map((t) => `${t.namespace}\u0000${t.tag}`));
  const walk = request.walk;
  if (walk) {
    const maxPems = request.maxPems ?? DEFAULT_MAX_PEMS;
    const budget = request.budgetMs ?? Infinity;
    let frontier = [...found];
    const seen = new Set(frontier);
    for (let hop = 0; hop <= walk.hops && frontier.length; hop++) {
      if (reader.pems.size >= maxPems || Date.now() - started > budget) break;
      const next = walk.direction === 'upstream' ? await reader.upstreamHop(frontier) : await reader.downstreamHop(frontier);
      frontier = hop < walk.hops ? next.filter((id) => !seen.has(id) && reader.pems.has(id)) : [];
      frontier.forEach((id) => seen.add(id));
    }
  }
  return reader.reply();
}

class Reader {
  readonly pems = new Map<string, LineagePem>();
  readonly #readIds = new Set<string>();
  readonly #read: Record<ListKind, Map<string, string[]>> = { producers: new Map(), users: new Map(), children: new Map(), tags: new Map() };
  readonly #capped: Record<ListKind, Set<string>> = { producers: new Set(), users: new Set(), children: new Set(), tags: new Set() };

  constructor(
    private readonly db: Queryable,
    private readonly limit: number,
  ) {}

  /** Reads the PEMs by ID (each once); returns the IDs asked for. */
  async ids(ids: Iterable<string>): Promise<string[]> {
    const asked = [...new Set(ids)];
    const missing = asked.filter((id) => !this.#readIds.has(id));
    if (missing.length) {
      const rows = await this.db.query<PemRow>(
        `SELECT id, type, predecessor, emitter, timestamp_client, timestamp_received, tag, tag_namespace FROM rk_pems WHERE id = ANY($1::text[])`,
        [missing],
      );
      const links = rows.length
        ? await this.db.query<{ pem_id: string; role: string; artifact_name: string }>(
            `SELECT pem_id, role, artifact_name FROM rk_pem_artifacts WHERE pem_id = ANY($1::text[]) ORDER BY pem_id, role, position`,
            [rows.map((r) => r.id)],
          )
        : [];
      for (const row of rows) {
        this.pems.set(row.id, {
          ID: row.id,
          Type: row.type,
          Predecessor: row.predecessor,
          Emitter: row.emitter,
          TimestampClient: row.timestamp_client,
          TimestampReceived: row.timestamp_received,
          Tag: row.tag,
          TagNamespace: row.tag_namespace,
          UsesArtifacts: [],
          ProducesArtifacts: [],
        });
      }
      for (const link of links) {
        const pem = this.pems.get(link.pem_id)!;
        (link.role === 'uses' ? pem.UsesArtifacts : pem.ProducesArtifacts).push(link.artifact_name);
      }
      missing.forEach((id) => this.#readIds.add(id));
    }
    return asked;
  }

  /** Reads each key's list in full (up to `limit`, by arrival order) and its PEMs; returns the IDs found. */
  async list(kind: ListKind, keys: Iterable<string>): Promise<string[]> {
    const read = this.#read[kind];
    const fresh = [...new Set(keys)].filter((key) => !read.has(key));
    if (fresh.length) {
      const params = kind === 'tags' ? [fresh.map((k) => k.split('\u0000')[0]), fresh.map((k) => k.split('\u0000')[1]), this.limit + 1] : [fresh, this.limit + 1];
      const rows = await this.db.query<{ key: string; tag?: string; id: string }>(LIST_SQL[kind], params);
      const byKey = new Map<string, string[]>(fresh.map((key) => [key, []]));
      for (const row of rows) byKey.get(kind === 'tags' ? `${row.key}\u0000${row.tag}` : row.key)?.push(row.id);
      for (const [key, ids] of byKey) {
        if (ids.length > this.limit) {
          ids.length = this.limit;
          this.#capped[kind].add(key);
        }
      }
      await this.ids([...byKey.values()].flat());
      for (const [key, ids] of byKey) read.set(key, ids);
    }
    const out: string[] = [];
    for (const key of keys) out.push(...(read.get(key) ?? []));
    return out;
  }

  /** One hop upstream from these (read) PEMs; returns the guessed next hop. */
  async upstreamHop(frontier: string[]): Promise<string[]> {
    const pems = frontier.map((id) => this.pems.get(id)!).filter(Boolean);
    const predecessors = pems.map((p) => p.Predecessor).filter((id): id is string => id !== null);
    await this.ids(predecessors);
    await this.list('producers', pems.flatMap((p) => p.UsesArtifacts));
    const next = [...predecessors];
    const chains: Array<[string, string]> = [];
    for (const user of pems) {
      for (const name of user.UsesArtifacts) {
        const second = this.#bindingSecond(name, user.TimestampClient, user.ID);
        if (second === null) continue;
        for (const id of this.#read.producers.get(name) ?? []) {
          const producer = this.pems.get(id);
          if (producer && producer.ID !== user.ID && producer.TimestampClient === second) next.push(producer.ID);
        }
        chains.push([user.ID, second]);
      }
    }
    await this.#chains(chains);
    return next;
  }

  /** One hop downstream from these (read) PEMs; returns the guessed next hop. */
  async downstreamHop(frontier: string[]): Promise<string[]> {
    const pems = frontier.map((id) => this.pems.get(id)!).filter(Boolean);
    const next = await this.list('children', pems.map((p) => p.ID));
    const produced = pems.flatMap((p) => p.ProducesArtifacts);
    await this.list('users', produced);
    await this.list('producers', produced);
    const chains: Array<[string, string]> = [];
    for (const producer of pems) {
      for (const name of new Set(producer.ProducesArtifacts)) {
        const from = producer.TimestampClient;
        let until = '\uffff';
        for (const id of this.#read.producers.get(name) ?? []) {
          const time = this.pems.get(id)?.TimestampClient;
          if (time !== undefined && time > from && time < until) until = time;
        }
        for (const id of this.#read.users.get(name) ?? []) {
          const user = this.pems.get(id);
          if (!user || user.TimestampClient < from || user.TimestampClient > until) continue;
          if (user.ID !== producer.ID) next.push(user.ID);
          const second = this.#bindingSecond(name, user.TimestampClient, user.ID);
          if (second !== null) chains.push([user.ID, second]);
        }
      }
    }
    await this.#chains(chains);
    return next;
  }

  /** The latest second at or before `time` at which another PEM produced `name` (from the producers read), or null. */
  #bindingSecond(name: string, time: string, user: string): string | null {
    let best: string | null = null;
    for (const id of this.#read.producers.get(name) ?? []) {
      const producer = this.pems.get(id);
      if (!producer || producer.ID === user || producer.TimestampClient > time) continue;
      if (best === null || producer.TimestampClient > best) best = producer.TimestampClient;
    }
    return best;
  }

  /** Reads each user's Predecessor chain back to (and including) the first PEM stamped before its binding second. */
  async #chains(starts: Array<[string, string]>): Promise<void> {
    let pending = starts.map(([id, second]) => [this.pems.get(id)?.Predecessor ?? null, second] as const).filter((p): p is readonly [string, string] => p[0] !== null);
    const walked = new Set<string>();
    for (let level = 0; level < CHAIN_LEVELS && pending.length; level++) {
      await this.ids(pending.map(([id]) => id));
      const next: Array<readonly [string, string]> = [];
      for (const [id, second] of pending) {
        const pem = this.pems.get(id);
        const key = `${id}\u0000${second}`;
        if (!pem || walked.has(key)) continue;
        walked.add(key);
        if (pem.TimestampClient >= second && pem.Predecessor !== null) next.push([pem.Predecessor, second]);
      }
      pending = next;
    }
  }

  reply(): LineageReads {
    const keys = (pick: (kind: ListKind) => Iterable<string>): LineageReadKeys => ({
      ids: [],
      producers: [...pick('producers')],
      users: [...pick('users')],
      children: [...pick('children')],
      tags: [...pick('tags')].map((key) => {
        const [namespace, tag] = key.split('\u0000') as [string, string];
        return { namespace, tag };
      }),
    });
    const read = keys((kind) => this.#read[kind].keys());
    read.ids = [...this.#readIds];
    return { pems: [...this.pems.values()], read, capped: keys((kind) => this.#capped[kind]) };
  }
}

// One statement per kind of list, each key's first `limit + 1` matches by arrival order ($2 or $3).
const LIST_SQL: Record<ListKind, string> = {
  producers: byArtifact('produces'),
  users: byArtifact('uses'),
  children: `SELECT k.key, x.id FROM unnest($1::text[]) AS k(key) CROSS JOIN LATERAL (
      SELECT id FROM rk_pems WHERE predecessor COLLATE "C" = k.key ORDER BY seq LIMIT $2) AS x`,
  tags: `SELECT k.ns AS key, k.tag, x.id FROM unnest($1::text[], $2::text[]) AS k(ns, tag) CROSS JOIN LATERAL (
      SELECT id FROM rk_pems WHERE tag COLLATE "C" = k.tag AND tag_namespace COLLATE "C" = k.ns ORDER BY seq LIMIT $3) AS x`,
};

function byArtifact(role: 'uses' | 'produces'): string {
  return `SELECT k.key, x.id FROM unnest($1::text[]) AS k(key) CROSS JOIN LATERAL (
      SELECT p.id FROM rk_pems p WHERE p.id IN (SELECT pem_id FROM rk_pem_artifacts WHERE artifact_name COLLATE "C" = k.key AND role = '${role}')
      ORDER BY p.seq LIMIT $2) AS x`;
}
