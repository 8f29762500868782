/**
 * The replica's embedded database chosen by measurement: the same schema, the same copy of a
 * pipeline-shaped store and the same questions on PGlite (the replica's store, ReplicaStore) and
 * on SQLite (`node:sqlite`, built into Node 22.5+, not Node 20). Both stores are LineageSources
 * answered by the same ServerEngine loop the replica engine uses, so only the database differs:
 * load rate, size on disk, question p50/p99 (wall and CPU), peak RSS. One database per process
 * (its peak RSS is its own); the answers of both are compared and must be equal.
 *
 *   node server/dist/server/bench/replica-db.js --db pglite|sqlite [--size 20000] [--samples 20] [--dir <d>]
 *
 * The store is lineage.ts's shape (P pipelines of ingest -> train -> evaluate -> deploy rounds,
 * retraining, fan-in and fan-out), generated here rather than seeded into a local RK: this
 * compares the databases, not the sync. The generator is a copy of lineage.ts's `synthetic`
 * (that file runs its benchmark on import); keep the two the same.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bytesUnder } from './disk-size.js';
import { parseArgs } from 'node:util';
import { ReplicaStore, ServerEngine, type LineageEngine, type PemListOptions, type Result, type StoredPem, type TagRecord } from 'recordkeeper-client';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: 'pglite' },
    size: { type: 'string', default: '20000' },
    samples: { type: 'string', default: '20' },
    dir: { type: 'string' },
  },
});
const SIZE = Number(args.size);
const SAMPLES = Number(args.samples);
const ROUND = 4;
const ROUNDS_PER_PIPELINE = 25;
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const PAGE = 5000;

const wire = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
const hex = (n: number, salt: number) => (salt.toString(16).padStart(8, '0') + n.toString(16).padStart(24, '0')).slice(0, 32);
const pipelines = Math.max(1, Math.round(SIZE / (ROUND * ROUNDS_PER_PIPELINE)));
const salt = 0xbe000000 + SIZE;

function synthetic(i: number): StoredPem {
  const step = Math.floor(i / pipelines);
  const p = i % pipelines;
  const round = Math.floor(step / ROUND);
  const kind = step % ROUND;
  const name = `pipeline-${p}`;
  const links = (names: string[]) => names.map((Name) => ({ Name }));
  const base = { ID: hex(i, salt), Predecessor: step > 0 ? hex(i - pipelines, salt) : null, Emitter: name, TimestampClient: wire(T0 + i * 1000), TimestampReceived: wire(T0 + i * 10), Tag: 'latest', TagNamespace: name, Properties: {} };
  let pem: Record<string, unknown>;
  if (kind === 0) pem = { ...base, Type: 'ingest', UsesArtifacts: links([`raw/${name}/export-${round}.csv`]), ProducesArtifacts: links([`data/${name}`]) };
  else if (kind === 1) {
    const uses = [`data/${name}`, 'features/shared'];
    if (round > 0) uses.push(`model/${name}`);
    if (round % 5 === 4) uses.push(`data/pipeline-${(p + 1) % pipelines}`);
    pem = { ...base, Type: round > 0 ? 'retrain' : 'train', Emitter: `trainer-${p % 7}`, UsesArtifacts: links(uses), ProducesArtifacts: links([`model/${name}`]) };
  } else if (kind === 2) pem = { ...base, Type: 'evaluate', UsesArtifacts: links([`model/${name}`, `data/${name}`]), ProducesArtifacts: links([`report/${name}`]) };
  else pem = { ...base, Type: 'deploy', Tag: 'production', UsesArtifacts: links([`model/${name}`]), ProducesArtifacts: links([`service/${name}`]) };
  return pem as unknown as StoredPem;
}

function tagsOf(count: number): TagRecord[] {
  const tags = new Map<string, TagRecord>();
  for (let i = 0; i < count; i++) {
    const pem = synthetic(i);
    tags.set(`${pem.TagNamespace}\u0000${pem.Tag}`, { NamespaceID: pem.TagNamespace!, Tag: pem.Tag!, EventID: pem.ID, UpdatedAt: pem.TimestampReceived! });
  }
  return [...tags.values()];
}

/** The store under test: a LineageSource that can load pages. */
interface Store {
  addPage(pems: StoredPem[]): Promise<void>;
  finish(tags: TagRecord[]): Promise<void>;
  getPems(options?: PemListOptions): Promise<Result<StoredPem[]>>;
  getTags(): Promise<Result<TagRecord[]>>;
  close(): Promise<void>;
}

async function pglite(dir: string): Promise<Store> {
  const opened = await ReplicaStore.open(dir);
  if (!opened.ok) throw opened.error;
  const store = opened.value;
  return {
    addPage: async (pems) => void (await store.addPage(pems as never, {})),
    finish: async (tags) => {
      await store.setTags(tags);
      await store.analyze();
    },
    getPems: store.getPems,
    getTags: store.getTags,
    close: () => store.close(),
  };
}

/** The replica's schema and reads in SQLite's dialect (artifact Names as JSON text on the row). */
async function sqlite(dir: string): Promise<Store> {
  const module = 'node:sqlite';
  const { DatabaseSync } = (await import(module)) as { DatabaseSync: new (file: string) => SqliteDatabase };
  const db = new DatabaseSync(path.join(dir, 'replica.sqlite'));
  db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
    CREATE TABLE pems (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, emitter TEXT NOT NULL, time_client TEXT NOT NULL, received TEXT, predecessor TEXT, tag TEXT NOT NULL DEFAULT '', namespace TEXT NOT NULL DEFAULT '', uses TEXT NOT NULL, produces TEXT NOT NULL);
    CREATE INDEX pems_predecessor ON pems (predecessor) WHERE predecessor IS NOT NULL;
    CREATE INDEX pems_tag ON pems (namespace, tag) WHERE tag <> '';
    CREATE INDEX pems_received ON pems (received, seq);
    CREATE TABLE links (artifact TEXT NOT NULL, produces INTEGER NOT NULL, pem TEXT NOT NULL, PRIMARY KEY (artifact, produces, pem)) WITHOUT ROWID;
    CREATE TABLE tags (namespace TEXT NOT NULL, tag TEXT NOT NULL, event_id TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (namespace, tag));`);
  const insertPem = db.prepare(`INSERT INTO pems (id, type, emitter, time_client, received, predecessor, tag, namespace, uses, produces) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`);
  const insertLink = db.prepare(`INSERT INTO links (artifact, produces, pem) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`);
  const FILTERS: Record<string, string> = {
    ID: 'p.id = ?',
    Predecessor: 'p.predecessor = ?',
    Tag: 'p.tag = ?',
    TagNamespace: 'p.namespace = ?',
    UsesArtifact: 'p.id IN (SELECT pem FROM links WHERE artifact = ? AND produces = 0)',
    ProducesArtifact: 'p.id IN (SELECT pem FROM links WHERE artifact = ? AND produces = 1)',
  };
  const statements = new Map<string, SqliteStatement>();
  const names = (links: unknown) => JSON.stringify(((links as Array<{ Name: string }>) ?? []).map((link) => link.Name));
  return {
    addPage: async (pems) => {
      db.exec('BEGIN');
      for (const pem of pems) {
        const uses = names(pem.UsesArtifacts);
        const produces = names(pem.ProducesArtifacts);
        const added = insertPem.run(pem.ID, pem.Type, pem.Emitter, pem.TimestampClient, pem.TimestampReceived ?? null, pem.Predecessor || null, pem.Tag ?? '', pem.TagNamespace ?? '', uses, produces);
        if (!added.changes) continue;
        for (const name of JSON.parse(uses) as string[]) insertLink.run(name, 0, pem.ID);
        for (const name of JSON.parse(produces) as string[]) insertLink.run(name, 1, pem.ID);
      }
      db.exec('COMMIT');
    },
    finish: async (tags) => {
      const insert = db.prepare('INSERT INTO tags VALUES (?, ?, ?, ?)');
      db.exec('BEGIN');
      for (const tag of tags) insert.run(tag.NamespaceID, tag.Tag, tag.EventID, tag.UpdatedAt);
      db.exec('COMMIT; ANALYZE');
    },
    getPems: async (options = {}) => {
      const fields = Object.keys(options.filters ?? {}).filter((field) => (options.filters as Record<string, unknown>)[field] !== undefined);
      const key = `${fields.join(',')}|${options.pageSize !== undefined}`;
      let statement = statements.get(key);
      if (!statement) {
        const where = fields.map((field) => FILTERS[field]!);
        statement = db.prepare(`SELECT p.id, p.type, p.emitter, p.time_client, p.received, p.predecessor, p.tag, p.namespace, p.uses, p.produces FROM pems p${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY p.seq${options.pageSize !== undefined ? ' LIMIT ? OFFSET ?' : ''}`);
        statements.set(key, statement);
      }
      const params: unknown[] = fields.map((field) => String((options.filters as Record<string, unknown>)[field]));
      if (options.pageSize !== undefined) params.push(options.pageSize, (options.pageIndex ?? 0) * options.pageSize);
      const rows = statement.all(...params) as Array<Record<string, string | null>>;
      return { ok: true, value: rows.map((row) => toPem(row, JSON.parse(row.uses!) as string[], JSON.parse(row.produces!) as string[])) };
    },
    getTags: async () => ({ ok: true, value: (db.prepare('SELECT * FROM tags ORDER BY namespace, tag').all() as Array<Record<string, string>>).map((row) => ({ NamespaceID: row.namespace!, Tag: row.tag!, EventID: row.event_id!, UpdatedAt: row.updated_at! })) }),
    close: async () => db.close(),
  };
}

interface SqliteStatement {
  run(...params: unknown[]): { changes: number | bigint };
  all(...params: unknown[]): unknown[];
}
interface SqliteDatabase {
  exec(sql: string): void;
  prepare(sql: string): SqliteStatement;
  close(): void;
}

function toPem(row: Record<string, string | null>, uses: string[], produces: string[]): StoredPem {
  const pem: Record<string, unknown> = { ID: row.id, Type: row.type, Emitter: row.emitter, TimestampClient: row.time_client, Predecessor: row.predecessor, Tag: row.tag, TagNamespace: row.namespace, Properties: {}, UsesArtifacts: uses.map((Name) => ({ Name })), ProducesArtifacts: produces.map((Name) => ({ Name })) };
  if (row.received !== null) pem.TimestampReceived = row.received;
  return pem as unknown as StoredPem;
}

const quantiles = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
  return { p50: at(0.5), p99: at(0.99) };
};

const dir = args.dir ?? mkdtempSync(path.join(tmpdir(), 'rk-replica-db-'));
try {
  const openStarted = performance.now();
  const store = args.db === 'sqlite' ? await sqlite(dir) : await pglite(dir);
  const openMs = performance.now() - openStarted;
  const loadStarted = performance.now();
  for (let from = 0; from < SIZE; from += PAGE) await store.addPage(Array.from({ length: Math.min(PAGE, SIZE - from) }, (_, k) => synthetic(from + k)));
  await store.finish(tagsOf(SIZE));
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  const engine = ServerEngine.over(store, { concurrency: 100_000 });
  if (!engine.ok) throw engine.error;
  const lineage: LineageEngine = engine.value;
  const deploys: string[] = [];
  const sources: Array<[string, string]> = [];
  for (let i = SIZE - 1; i >= 0 && deploys.length < SAMPLES; i--) {
    const pem = synthetic(i);
    if (pem.Type !== 'deploy') continue;
    deploys.push(pem.ID);
    const ingest = i - 3 * pipelines - 2 * ROUND * pipelines;
    if (ingest >= 0) sources.push([(synthetic(ingest).UsesArtifacts as unknown as Array<{ Name: string }>)[0]!.Name, pem.ID]);
  }
  const figures: Record<string, { p50: number; p99: number; cpuP50: number; answerHash: number }> = {};
  const time = async (name: string, count: number, ask: (i: number) => Promise<Result<unknown>>) => {
    const wall: number[] = [];
    const cpu: number[] = [];
    let hash = 0;
    for (let i = 0; i < count; i++) {
      const c = process.cpuUsage();
      const t = performance.now();
      const answer = await ask(i);
      wall.push(performance.now() - t);
      const used = process.cpuUsage(c);
      cpu.push((used.user + used.system) / 1000);
      if (!answer.ok) throw answer.error;
      for (const ch of JSON.stringify(answer.value)) hash = (hash * 31 + ch.charCodeAt(0)) | 0;
    }
    const { p50, p99 } = quantiles(wall);
    figures[name] = { p50, p99, cpuP50: quantiles(cpu).p50, answerHash: hash };
  };
  for (const hops of [5, 20]) {
    await time(`explain ${hops} hops`, deploys.length, (i) => lineage.explain({ pem: deploys[i]! }, { maxHops: hops, maxNodes: 100_000 }));
    await time(`upstream ${hops} hops`, deploys.length, (i) => lineage.upstream({ pem: deploys[i]! }, { maxHops: hops, maxNodes: 100_000 }));
  }
  await time('paths', sources.length, (i) => lineage.paths({ name: sources[i]![0] }, { pem: sources[i]![1] }, { maxHops: 12 }));
  await time('impact', sources.length, (i) => lineage.impact({ name: sources[i]![0] }, { maxHops: 8 }));
  await store.close();
  const bytes = bytesUnder(dir);
  console.log(
    JSON.stringify({ db: args.db, node: process.version, size: SIZE, openMs, loadSeconds, pemsPerSecond: SIZE / loadSeconds, diskMiB: bytes / 1048576, bytesPerPem: bytes / SIZE, maxRssMiB: process.resourceUsage().maxRSS / 1024, figures }),
  );
} finally {
  if (!args.dir) rmSync(dir, { recursive: true, force: true });
}
