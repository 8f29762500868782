import type { Queryable } from './storage.js';
import type { PemRow as RecordsPemRow } from './records.js';

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
  NamespaceID: string;
  Tag: string;
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

/** A PEM's row without its Properties, which the walk does not read. */
type PemRow = Omit<RecordsPemRow, 'seq' | 'properties'>;

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
  await reader.list('tags', (request.tags ?? []).map((t) => `${t.NamespaceID}\u0000${t.Tag}`));
  const walk = request.walk;
  if (walk) {
    const maxPems = request.maxPems ?? DEFAULT_MAX_PEMS;
    const budget = request.budgetMs ?? Infinity;
    const up = walk.direction === 'upstream';
    // Each pass: the hops of what is read so far (breadth first over it), then one statement for
    // every line (chain or tree) not read yet and one for every artifact list not read yet, from
    // all the PEMs within the hops at once. Passes end when nothing within the hops is unread.
    const asked = new Set<string>(); // a line is asked for once (one that stays unread is left to the client)
    for (;;) {
      if (reader.pems.size >= maxPems || Date.now() - started > budget) break;
      const hops = reader.hopsFrom(found, up, walk.hops);
      const lines: Array<readonly [string, number]> = [];
      const names = new Set<string>();
      for (const [id, hop] of hops) {
        const pem = reader.pems.get(id)!;
        if (!asked.has(id) && (up ? pem.Predecessor !== null && !reader.hasRead(pem.Predecessor) : !reader.childrenRead(id))) {
          asked.add(id);
          lines.push([id, walk.hops - hop + (up ? 2 : 1)]);
        }
        if (up) for (const name of pem.UsesArtifacts) if (!reader.listed('producers', name)) names.add(name);
        if (!up && hop < walk.hops) for (const name of pem.ProducesArtifacts) if (!reader.listed('users', name) || !reader.listed('producers', name)) names.add(name);
      }
      if (!lines.length && !names.size) {
        await reader.bindingChains(hops, up);
        break;
      }
      if (lines.length) await reader.lines(up ? 'chain' : 'tree', lines, maxPems);
      await reader.list('producers', names);
      if (!up) await reader.list('users', names);
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
      this.#absorb(await this.db.query<FullRow>(`SELECT p.id AS key, ${FULL_COLUMNS} FROM rk_pems p ${WITH_LINKS} WHERE p.id = ANY($1::text[]) ORDER BY p.id, a.role, a.position`, [missing]));
      missing.forEach((id) => this.#readIds.add(id));
    }
    return asked;
  }

  /** Takes in rows of PEMs with one artifact link each (null columns: a PEM not stored), each PEM once. */
  #absorb(rows: Array<FullRow & { tag2?: string }>): void {
    // The key a new PEM was first met under: its links are taken from that group of rows only.
    const linked = new Map<string, string>();
    for (const row of rows) {
      const group = `${row.key}\u0000${row.tag2 ?? ''}`;
      if (row.id === null) continue;
      let pem = this.pems.get(row.id);
      if (!pem) {
        pem = {
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
        };
        this.pems.set(row.id, pem);
        linked.set(row.id, group);
      }
      // A PEM already taken in keeps its lists; rows repeat per link and per key it was read for.
      if (linked.get(row.id) === group && row.artifact_name !== null) (row.role === 'uses' ? pem.UsesArtifacts : pem.ProducesArtifacts).push(row.artifact_name);
    }
  }

  /** Reads each key's list in full (up to `limit`, by arrival order) and its PEMs; returns the IDs found. */
  async list(kind: ListKind, keys: Iterable<string>): Promise<string[]> {
    const read = this.#read[kind];
    const fresh = [...new Set(keys)].filter((key) => !read.has(key));
    if (fresh.length) {
      const params = kind === 'tags' ? [fresh.map((k) => k.split('\u0000')[0]), fresh.map((k) => k.split('\u0000')[1]), this.limit + 1] : [fresh, this.limit + 1];
      const rows = await this.db.query<FullRow & { tag2?: string }>(LIST_SQL[kind], params);
      this.#absorb(rows);
      const byKey = new Map<string, string[]>(fresh.map((key) => [key, []]));
      for (const row of rows) {
        const ids = byKey.get(kind === 'tags' ? `${row.key}\u0000${row.tag2}` : row.key)!;
        if (ids[ids.length - 1] !== row.id) ids.push(row.id!);
      }
      for (const [key, ids] of byKey) {
        if (ids.length > this.limit) {
          ids.length = this.limit;
          this.#capped[kind].add(key);
        }
        for (const id of ids) this.#readIds.add(id);
      }
      for (const [key, ids] of byKey) read.set(key, ids);
    }
    const out: string[] = [];
    for (const key of keys) out.push(...(read.get(key) ?? []));
    return out;
  }

  /**
   * Reads every PEM on the Predecessor chains (`chain`) or follower trees (`tree`) of the starts,
   * each start going `depth` links; returns each PEM with the most depth it had left. Followers
   * are marked read for every PEM that went on (depth left), when they number at most `limit`.
   */
  async lines(kind: 'chain' | 'tree', starts: ReadonlyArray<readonly [string, number]>, maxPems: number): Promise<Map<string, number>> {
    const rows = await this.db.query<FullRow & { depth: number }>(kind === 'chain' ? CHAIN_SQL : TREE_SQL, [starts.map((s) => s[0]), starts.map((s) => s[1]), maxPems]);
    this.#absorb(rows);
    const reached = new Map(rows.map((row) => [row.key, row.depth]));
    for (const id of reached.keys()) this.#readIds.add(id);
    if (kind === 'tree') {
      const children = new Map<string, string[]>();
      for (const id of reached.keys()) {
        const parent = this.pems.get(id)?.Predecessor;
        if (parent && (reached.get(parent) ?? 0) > 0) children.set(parent, [...(children.get(parent) ?? []), id]);
      }
      for (const [id, depth] of reached) {
        const list = children.get(id) ?? [];
        // Read in full only below the statement's cap and the per-list limit; the rest is left to a plain read.
        if (depth > 0 && reached.size < maxPems && list.length <= this.limit && !this.#read.children.has(id)) this.#read.children.set(id, list);
      }
    }
    return reached;
  }

  hasRead(id: string): boolean {
    return this.#readIds.has(id);
  }

  childrenRead(id: string): boolean {
    return this.#read.children.has(id);
  }

  listed(kind: ListKind, key: string): boolean {
    return this.#read[kind].has(key);
  }

  /**
   * The hop of each read PEM within `maxHops` of the starts, breadth first over what is read:
   * upstream a PEM's Predecessor and the producers its uses likely bind to (those at the latest
   * second at or before the use); downstream its followers and the users likely bound to its
   * versions (from its second to the artifact's next one).
   */
  hopsFrom(starts: Iterable<string>, up: boolean, maxHops: number): Map<string, number> {
    const hops = new Map<string, number>();
    let frontier = [...starts].filter((id) => this.pems.has(id));
    frontier.forEach((id) => hops.set(id, 0));
    for (let hop = 0; hop < maxHops && frontier.length; hop++) {
      const next: string[] = [];
      const visit = (id: string) => {
        if (!hops.has(id) && this.pems.has(id)) {
          hops.set(id, hop + 1);
          next.push(id);
        }
      };
      for (const id of frontier) {
        const pem = this.pems.get(id)!;
        if (up) {
          if (pem.Predecessor !== null) visit(pem.Predecessor);
          for (const name of pem.UsesArtifacts) for (const producer of this.#likelyProducers(name, pem)) visit(producer);
        } else {
          for (const child of this.#read.children.get(id) ?? []) visit(child);
          for (const name of new Set(pem.ProducesArtifacts)) for (const user of this.#likelyUsers(name, pem)) visit(user);
        }
      }
      frontier = next;
    }
    return hops;
  }

  /** The producers of `name` at the latest second at or before `user`'s (binding.ts picks among them). */
  #likelyProducers(name: string, user: LineagePem): string[] {
    const second = this.#bindingSecond(name, user.TimestampClient, user.ID);
    if (second === null) return [];
    return (this.#read.producers.get(name) ?? []).filter((id) => id !== user.ID && this.pems.get(id)?.TimestampClient === second);
  }

  /** The users of `name` from `producer`'s second to the next second `name` was produced at. */
  #likelyUsers(name: string, producer: LineagePem): string[] {
    const from = producer.TimestampClient;
    let until = '\uffff';
    for (const id of this.#read.producers.get(name) ?? []) {
      const time = this.pems.get(id)?.TimestampClient;
      if (time !== undefined && time > from && time < until) until = time;
    }
    return (this.#read.users.get(name) ?? []).filter((id) => {
      const time = this.pems.get(id)?.TimestampClient;
      return id !== producer.ID && time !== undefined && time >= from && time <= until;
    });
  }

  /** Reads the Predecessor chains binding follows for the uses within the hops (upstream: the PEMs' own; downstream: their likely users'). */
  async bindingChains(hops: Map<string, number>, up: boolean): Promise<void> {
    const chains: Array<[string, string]> = [];
    // Binding walks the user's chain and each candidate producer's (to see whether it follows the user).
    const add = (user: LineagePem, name: string) => {
      const second = this.#bindingSecond(name, user.TimestampClient, user.ID);
      if (second === null) return;
      chains.push([user.ID, second]);
      for (const producer of this.#likelyProducers(name, user)) chains.push([producer, second]);
    };
    for (const id of hops.keys()) {
      const pem = this.pems.get(id)!;
      if (up) for (const name of pem.UsesArtifacts) add(pem, name);
      else for (const name of new Set(pem.ProducesArtifacts)) for (const user of this.#likelyUsers(name, pem)) add(this.pems.get(user)!, name);
    }
    await this.#chains(chains);
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
        return { NamespaceID: namespace, Tag: tag };
      }),
    });
    const read = keys((kind) => this.#read[kind].keys());
    read.ids = [...this.#readIds];
    return { pems: [...this.pems.values()], read, capped: keys((kind) => this.#capped[kind]) };
  }
}

/** A PEM row with one of its artifact links (`key`: what it was read for; null columns: not stored, or no link). */
type FullRow = PemRow & { key: string; id: string | null; role: string | null; artifact_name: string | null };
const FULL_COLUMNS = `p.id, p.type, p.predecessor, p.emitter, p.timestamp_client, p.timestamp_received, p.tag, p.tag_namespace, a.role, a.artifact_name`;
const WITH_LINKS = `LEFT JOIN rk_pem_artifacts a ON a.pem_id = p.id`;

// Each start with the links it may go ($1 ids, $2 depths): the most depth left at each PEM reached
// (at most $3 of them), with its row and links.
const CHAIN_SQL = `WITH RECURSIVE line(id, depth) AS (
    SELECT s.id, s.depth FROM unnest($1::text[], $2::int[]) AS s(id, depth)
    UNION
    SELECT p.predecessor, l.depth - 1 FROM line l JOIN rk_pems p ON p.id = l.id WHERE l.depth > 0 AND p.predecessor IS NOT NULL),
  reached AS (SELECT id, max(depth)::int AS depth FROM line GROUP BY id LIMIT $3)
  SELECT r.id AS key, r.depth, ${FULL_COLUMNS} FROM reached r LEFT JOIN rk_pems p ON p.id = r.id ${WITH_LINKS} ORDER BY r.id, a.role, a.position`;
const TREE_SQL = `WITH RECURSIVE line(id, depth) AS (
    SELECT s.id, s.depth FROM unnest($1::text[], $2::int[]) AS s(id, depth)
    UNION
    SELECT p.id, l.depth - 1 FROM line l JOIN rk_pems p ON p.predecessor COLLATE "C" = l.id WHERE l.depth > 0),
  reached AS (SELECT id, max(depth)::int AS depth FROM line GROUP BY id LIMIT $3)
  SELECT r.id AS key, r.depth, ${FULL_COLUMNS} FROM reached r LEFT JOIN rk_pems p ON p.id = r.id ${WITH_LINKS} ORDER BY r.id, a.role, a.position`;

// One statement per kind of list: each key's first `limit + 1` matches by arrival order ($2 or $3), with their rows and links.
const LIST_SQL: Record<ListKind, string> = {
  producers: byArtifact('produces'),
  users: byArtifact('uses'),
  children: withRows(`SELECT k.key, x.id, x.seq FROM unnest($1::text[]) AS k(key) CROSS JOIN LATERAL (
      SELECT id, seq FROM rk_pems WHERE predecessor COLLATE "C" = k.key ORDER BY seq LIMIT $2) AS x`),
  tags: withRows(`SELECT k.ns AS key, k.tag AS tag2, x.id, x.seq FROM unnest($1::text[], $2::text[]) AS k(ns, tag) CROSS JOIN LATERAL (
      SELECT id, seq FROM rk_pems WHERE tag COLLATE "C" = k.tag AND tag_namespace COLLATE "C" = k.ns ORDER BY seq LIMIT $3) AS x`, ', m.tag2'),
};

function byArtifact(role: 'uses' | 'produces'): string {
  return withRows(`SELECT k.key, x.id, x.seq FROM unnest($1::text[]) AS k(key) CROSS JOIN LATERAL (
      SELECT p.id, p.seq FROM rk_pems p WHERE p.id IN (SELECT pem_id FROM rk_pem_artifacts WHERE artifact_name COLLATE "C" = k.key AND role = '${role}')
      ORDER BY p.seq LIMIT $2) AS x`);
}

function withRows(matches: string, extra = ''): string {
  return `SELECT m.key${extra}, ${FULL_COLUMNS} FROM (${matches}) AS m JOIN rk_pems p ON p.id = m.id ${WITH_LINKS} ORDER BY m.key${extra}, m.seq, a.role, a.position`;
}
