import type { PythonValue as PyValue } from 'recordkeeper-client/wire';
import { bindProducer, ChainReader, type TimedPem } from './lineage-binding.js';
import type { Queryable } from './storage.js';

/**
 * The Cypher this server answers. There is no Cypher engine here: a statement is tokenized and
 * must match one of the shapes below exactly (keywords in any case, any whitespace, an optional
 * final `;`), with string literals as the only variable parts. Literals are bound as SQL
 * parameters, so their content is data, never code. Anything else is refused with the list.
 */

export interface Statement {
  /** The shape, with `'…'` where a string literal goes. */
  shape: string;
  /** What it answers, for the refusal message and the README. */
  answers: string;
  run(db: Queryable, literals: string[]): Promise<PyValue[][]>;
}

export class UnsupportedQueryError extends Error {}

const KEYWORDS = new Set(['MATCH', 'RETURN', 'AS', 'CALL', 'COUNT']);

type Token = { kind: 'word' | 'punct'; text: string } | { kind: 'string'; value: string };

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (/[A-Za-z_]/.test(ch)) {
      const start = i;
      while (i < text.length && /\w/.test(text[i]!)) i++;
      tokens.push({ kind: 'word', text: text.slice(start, i) });
    } else if (ch === "'" || ch === '"') {
      const { value, end } = readString(text, i);
      tokens.push({ kind: 'string', value });
      i = end;
    } else if (ch === '-' && text[i + 1] === '>') {
      tokens.push({ kind: 'punct', text: '->' });
      i += 2;
    } else if ('()[]{}:,.-;'.includes(ch)) {
      tokens.push({ kind: 'punct', text: ch });
      i++;
    } else {
      throw new UnsupportedQueryError(`unexpected character ${JSON.stringify(ch)} at offset ${i}`);
    }
  }
  return tokens;
}

const ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' };

function readString(text: string, start: number): { value: string; end: number } {
  const quote = text[start];
  let value = '';
  let i = start + 1;
  for (;;) {
    const ch = text[i];
    if (ch === undefined) throw new UnsupportedQueryError(`the string literal at offset ${start} is not closed`);
    if (ch === quote) return { value, end: i + 1 };
    if (ch === '\\') {
      const next = text[i + 1];
      if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
        value += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
        i += 6;
        continue;
      }
      const escaped = next === undefined ? undefined : ESCAPES[next];
      if (escaped === undefined) throw new UnsupportedQueryError(`unknown escape \\${next ?? ''} at offset ${i}`);
      value += escaped;
      i += 2;
      continue;
    }
    value += ch;
    i++;
  }
}

/** Tokens as one comparable text: keywords upper-cased, literals as `'…'`. */
function canonical(tokens: Token[]): { text: string; literals: string[] } {
  const literals: string[] = [];
  const parts = tokens.map((t) => {
    if (t.kind === 'string') {
      literals.push(t.value);
      return "'…'";
    }
    return t.kind === 'word' && KEYWORDS.has(t.text.toUpperCase()) ? t.text.toUpperCase() : t.text;
  });
  return { text: parts.join(' '), literals };
}

/** Finds the statement `query` is an instance of, with its literals. */
export function parseStatement(query: string): { statement: Statement; literals: string[] } {
  let tokens = tokenize(query);
  const last = tokens[tokens.length - 1];
  if (last?.kind === 'punct' && last.text === ';') tokens = tokens.slice(0, -1);
  const { text, literals } = canonical(tokens);
  const statement = SHAPES.get(text);
  if (!statement) throw new UnsupportedQueryError('it is not one of the supported statements');
  return { statement, literals };
}

/** The shapes, one per line; with `answers` also what each returns (for documentation). */
export function supportedStatementsText(withAnswers = false): string {
  return STATEMENTS.map((s) => (withAnswers ? `${s.shape}\n    ${s.answers}` : s.shape)).join('\n');
}

interface NodeRow {
  key: string;
  data: Record<string, unknown>;
}

const literal = "'…'";

function relStatements(rel: 'USES' | 'PRODUCES'): Statement[] {
  const verb = rel === 'USES' ? 'uses' : 'produces';
  return [
    {
      shape: `MATCH (p:PEM {rk_id: ${literal}})-[:${rel}]->(a:Artifact) RETURN a.rk_id AS rk_id`,
      answers: `the Names of the artifacts the PEM with this ID ${verb}: [[name], ...]`,
      async run(db, [id]) {
        const rows = await db.query<{ dst: string }>(
          `SELECT dst FROM rk_graph_edges WHERE rel = $1 AND src = $2 ORDER BY dst COLLATE "C"`,
          [rel, id],
        );
        return rows.map((r) => [r.dst]);
      },
    },
    {
      shape: `MATCH (p:PEM)-[:${rel}]->(a:Artifact {rk_id: ${literal}}) RETURN p.rk_id AS rk_id`,
      answers: `the IDs of the PEMs that ${verb === 'uses' ? 'use' : 'produce'} the artifact with this Name: [[id], ...]`,
      async run(db, [name]) {
        const rows = await db.query<{ src: string }>(
          `SELECT e.src FROM rk_graph_edges e JOIN rk_graph_nodes n ON n.label = 'PEM' AND n.key = e.src
           WHERE e.rel = $1 AND e.dst = $2 ORDER BY n.seq`,
          [rel, name],
        );
        return rows.map((r) => [r.src]);
      },
    },
  ];
}

function lineageStatement(direction: 'upstream' | 'downstream'): Statement {
  return {
    shape: `CALL rk.lineage.${direction}(${literal}, ${literal})`,
    answers:
      `the ${direction} lineage of a node, first argument 'PEM' or 'Artifact', second its ID or Name: ` +
      '[[depth, pem_id, type, emitter, timestamp_client, [used names], [produced names]], ...], nearest first',
    run: (db, [label, key]) => lineage(db, direction, label ?? '', key ?? ''),
  };
}

const STATEMENTS: Statement[] = [
  {
    shape: 'MATCH (a:Artifact) RETURN a.rk_id AS rk_id, a.properties as properties, a.created_at as created_at',
    answers: 'every artifact in the graph: [[name, properties as JSON text, created_at], ...]',
    async run(db) {
      const rows = await db.query<NodeRow>(`SELECT key, data FROM rk_graph_nodes WHERE label = 'Artifact' ORDER BY seq`);
      return rows.map((r) => [
        r.key,
        pythonJsonDumps((r.data.properties ?? {}) as Record<string, string>),
        (r.data.created_at as string | undefined) ?? null,
      ]);
    },
  },
  {
    shape: 'MATCH (a:Artifact) RETURN count(a)',
    answers: 'how many artifacts the graph holds: [[n]]',
    async run(db) {
      const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM rk_graph_nodes WHERE label = 'Artifact'`);
      return [[row?.n ?? 0]];
    },
  },
  {
    shape: 'MATCH (p:PEM) RETURN count(p)',
    answers: 'how many PEMs the graph holds: [[n]]',
    async run(db) {
      const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM rk_graph_nodes WHERE label = 'PEM'`);
      return [[row?.n ?? 0]];
    },
  },
  {
    shape: 'MATCH (p:PEM) RETURN p.rk_id AS rk_id, p.type AS type, p.emitter AS emitter, p.timestamp_client AS timestamp_client',
    answers: 'every PEM in the graph: [[id, type, emitter, timestamp_client], ...]',
    async run(db) {
      const rows = await db.query<NodeRow>(`SELECT key, data FROM rk_graph_nodes WHERE label = 'PEM' ORDER BY seq`);
      return rows.map((r) => [r.key, str(r.data.type), str(r.data.emitter), str(r.data.timestamp_client)]);
    },
  },
  ...relStatements('USES'),
  ...relStatements('PRODUCES'),
  lineageStatement('upstream'),
  lineageStatement('downstream'),
  // Neo4j's read-only schema probes, so a client can check the graph's labels and relationships before asking Cypher of it.
  {
    shape: 'CALL db.labels()',
    answers: "the node labels of the graph: [['PEM'], ['Artifact']]",
    run: async () => [['PEM'], ['Artifact']],
  },
  {
    shape: 'CALL db.relationshipTypes()',
    answers: "the relationship types of the graph: [['PREDECESSOR'], ['USES'], ['PRODUCES']]",
    run: async () => [['PREDECESSOR'], ['USES'], ['PRODUCES']],
  },
];

/** Each statement by its shape's canonical text (made once, not on every query). */
const SHAPES = new Map(STATEMENTS.map((s) => [canonical(tokenize(s.shape)).text, s]));

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** `json.dumps` of a flat string map, as a Python service writes properties into its graph. */
function pythonJsonDumps(properties: Record<string, string>): string {
  return `{${Object.entries(properties)
    .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
    .join(', ')}}`;
}

/**
 * Breadth-first walk of the graph with time-correct binding (lineage-binding.ts). Upstream of a
 * PEM: the PEM it follows and, for each artifact it uses, the producer that use binds to (the
 * latest at or before it, never one that came after). Downstream: the PEMs that follow it and the
 * PEMs whose use of what it produced binds to it. From an artifact: its latest version (the
 * latest producer), whose producer is at depth 1 upstream; downstream, the users bound to that
 * version (to no producer, for an artifact none produced) are at depth 1. Each PEM appears once,
 * at its smallest depth; a starting PEM has depth 0.
 */
async function lineage(db: Queryable, direction: 'upstream' | 'downstream', label: string, key: string): Promise<PyValue[][]> {
  if (label !== 'PEM' && label !== 'Artifact') {
    throw new UnsupportedQueryError(`the first argument of rk.lineage.${direction} must be 'PEM' or 'Artifact', got ${JSON.stringify(label)}`);
  }
  const [start] = await db.query<{ key: string }>(`SELECT key FROM rk_graph_nodes WHERE label = $1 AND key = $2`, [label, key]);
  if (!start) return [];
  const up = direction === 'upstream';
  const chains = new ChainReader(db);
  let frontier: string[];
  let depth: number;
  if (label === 'PEM') {
    frontier = [key];
    depth = 0;
  } else {
    const latest: TimedPem = { id: '', time: '\uffff' };
    const producer = await bindProducer(latest, (await producersOf(db, [key])).get(key) ?? [], chains, key);
    frontier = up ? (producer ? [producer] : []) : await boundUsers(db, key, producer, chains);
    depth = 1;
  }
  const seen = new Set<string>();
  const rows: PyValue[][] = [];
  while (frontier.length) {
    frontier = [...new Set(frontier)].filter((id) => !seen.has(id));
    if (!frontier.length) break;
    frontier.forEach((id) => seen.add(id));
    rows.push(...(await describePems(db, frontier, depth)));
    frontier = up ? await upstreamStep(db, frontier, chains) : await downstreamStep(db, frontier, chains);
    depth++;
  }
  return rows;
}

async function upstreamStep(db: Queryable, ids: string[], chains: ChainReader): Promise<string[]> {
  const next = (
    await db.query<{ id: string }>(`SELECT dst AS id FROM rk_graph_edges WHERE rel = 'PREDECESSOR' AND src = ANY($1::text[]) ORDER BY dst`, [ids])
  ).map((r) => r.id);
  const uses = await db.query<{ src: string; dst: string }>(`SELECT src, dst FROM rk_graph_edges WHERE rel = 'USES' AND src = ANY($1::text[])`, [ids]);
  const producers = await producersOf(db, [...new Set(uses.map((u) => u.dst))]);
  const times = await timesOf(db, ids);
  for (const use of uses) {
    const bound = await bindProducer({ id: use.src, time: times.get(use.src) ?? '' }, producers.get(use.dst) ?? [], chains, use.dst);
    if (bound) next.push(bound);
  }
  return next;
}

async function downstreamStep(db: Queryable, ids: string[], chains: ChainReader): Promise<string[]> {
  const next = (
    await db.query<{ id: string }>(`SELECT src AS id FROM rk_graph_edges WHERE rel = 'PREDECESSOR' AND dst = ANY($1::text[]) ORDER BY src`, [ids])
  ).map((r) => r.id);
  const produced = await db.query<{ src: string; dst: string }>(`SELECT DISTINCT src, dst FROM rk_graph_edges WHERE rel = 'PRODUCES' AND src = ANY($1::text[])`, [ids]);
  for (const edge of produced) next.push(...(await boundUsers(db, edge.dst, edge.src, chains)));
  return next;
}

/** The PEMs whose use of `name` binds to `producer` (null: to no producer). */
async function boundUsers(db: Queryable, name: string, producer: string | null, chains: ChainReader): Promise<string[]> {
  const users = await db.query<{ id: string; time: string | null }>(
    `SELECT e.src AS id, n.data->>'timestamp_client' AS time FROM rk_graph_edges e
     JOIN rk_graph_nodes n ON n.label = 'PEM' AND n.key = e.src
     WHERE e.rel = 'USES' AND e.dst = $1 ORDER BY n.seq`,
    [name],
  );
  const producers = (await producersOf(db, [name])).get(name) ?? [];
  const bound: string[] = [];
  for (const user of users) {
    if ((await bindProducer({ id: user.id, time: user.time ?? '' }, producers, chains, name)) === producer) bound.push(user.id);
  }
  return bound;
}

/** By artifact Name: its producers with their TimestampClient. */
async function producersOf(db: Queryable, names: string[]): Promise<Map<string, TimedPem[]>> {
  const rows = await db.query<{ name: string; id: string; time: string | null }>(
    `SELECT e.dst AS name, e.src AS id, n.data->>'timestamp_client' AS time FROM rk_graph_edges e
     JOIN rk_graph_nodes n ON n.label = 'PEM' AND n.key = e.src
     WHERE e.rel = 'PRODUCES' AND e.dst = ANY($1::text[])`,
    [names],
  );
  const byName = new Map<string, TimedPem[]>();
  for (const row of rows) {
    const list = byName.get(row.name) ?? [];
    list.push({ id: row.id, time: row.time ?? '' });
    byName.set(row.name, list);
  }
  return byName;
}

async function timesOf(db: Queryable, ids: string[]): Promise<Map<string, string>> {
  const rows = await db.query<{ key: string; time: string | null }>(
    `SELECT key, data->>'timestamp_client' AS time FROM rk_graph_nodes WHERE label = 'PEM' AND key = ANY($1::text[])`,
    [ids],
  );
  return new Map(rows.map((r) => [r.key, r.time ?? '']));
}

/** Rows for PEMs at one depth, in arrival order; a PEM referred to but never stored has None fields. */
async function describePems(db: Queryable, ids: string[], depth: number): Promise<PyValue[][]> {
  const nodes = await db.query<NodeRow & { seq: number }>(
    `SELECT key, data, seq FROM rk_graph_nodes WHERE label = 'PEM' AND key = ANY($1::text[])`,
    [ids],
  );
  const edges = await db.query<{ rel: string; src: string; dst: string }>(
    `SELECT rel, src, dst FROM rk_graph_edges WHERE rel IN ('USES', 'PRODUCES') AND src = ANY($1::text[]) ORDER BY dst COLLATE "C"`,
    [ids],
  );
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const ordered = [...ids].sort((a, b) => (byKey.get(a)?.seq ?? Infinity) - (byKey.get(b)?.seq ?? Infinity) || (a < b ? -1 : 1));
  return ordered.map((id) => {
    const data = byKey.get(id)?.data ?? {};
    const names = (rel: string) => edges.filter((e) => e.src === id && e.rel === rel).map((e) => e.dst);
    return [depth, id, str(data.type), str(data.emitter), str(data.timestamp_client), names('USES'), names('PRODUCES')];
  });
}
