import type { RKLineage, LineageResult, LineageStart, LineageNode } from '../lineage/index.js';
import type { CallOptions, PemPayload, RKClientLike, Result, StoredPem } from '../public.js';

/**
 * The questions people ask Record Keeper, as MCP tools: plain data (name, description, JSON Schema
 * of the input) and one function that answers a call. Nothing here knows the MCP SDK, so the
 * answers are tested without it; `mcp-server.ts` puts them on the wire. Answers are compact JSON
 * with the IDs needed for the next question (PEM IDs, artifact Names, tag namespace/name).
 */

export interface McpToolDefinition {
  name: string;
  description: string;
  inputSchema: { type: 'object'; properties: Record<string, unknown>; required?: string[] };
}

/** What the tools read from (and, with `allowSend`, send to). */
export interface McpToolContext {
  /** The index the lineage questions are answered from; refreshed before each question. */
  lineage: RKLineage;
  /** Reads one PEM whole (an RKQuery). */
  query: { getPem(id: string, call?: CallOptions): Promise<Result<StoredPem>> };
  /** Sends PEMs when the server was started with `allowSend`. */
  client?: RKClientLike | undefined;
  allowSend?: boolean | undefined;
}

/** The result of one call: the text (compact JSON) and whether it is an error. */
export interface McpToolAnswer {
  text: string;
  isError: boolean;
}

const AT = { type: 'string', description: 'Optional point in time (UTC "2026-12-01 10:00:00" or ISO 8601): answer as of then. Default now.' };
const TARGET_PROPS = {
  target: { type: 'string', description: 'A PEM ID (32 hex digits or a UUID), an artifact Name, or a tag as "namespace/tag". Prefix with pem:, artifact: or tag: to force one.' },
  namespace: { type: 'string', description: 'Tag namespace, with "tag", instead of target (for namespaces that contain "/").' },
  tag: { type: 'string', description: 'Tag name, with "namespace".' },
  at: AT,
};

export const MCP_READ_TOOLS: readonly McpToolDefinition[] = [
  {
    name: 'explain',
    description: 'Why did this happen: the upstream steps (oldest first) that led to a PEM, artifact or tag, the models and who trained them, the data sources, and the gaps where lineage is unknown.',
    inputSchema: { type: 'object', properties: { ...TARGET_PROPS, maxHops: { type: 'integer', minimum: 0, description: 'How far to walk (default 10).' } } },
  },
  {
    name: 'lineage',
    description: 'The lineage graph of a PEM, artifact or tag: upstream (what it came from) or downstream (what it fed), as nodes and edges by hop. A truncated answer gives a cursor.',
    inputSchema: {
      type: 'object',
      properties: {
        ...TARGET_PROPS,
        direction: { type: 'string', enum: ['upstream', 'downstream'], description: 'Default upstream.' },
        maxHops: { type: 'integer', minimum: 0, description: 'Default 10.' },
        maxNodes: { type: 'integer', minimum: 1, description: 'Default 200.' },
      },
    },
  },
  {
    name: 'state_at',
    description: 'The state of the platform at a time: where each tag pointed and which version (producing PEM) of each artifact was current.',
    inputSchema: {
      type: 'object',
      properties: {
        at: { ...AT, description: 'The time (UTC "2026-12-01 10:00:00" or ISO 8601). Default now.' },
        namespaces: { type: 'array', items: { type: 'string' }, description: 'Only tags in these namespaces (globs with *).' },
        artifacts: { type: 'array', items: { type: 'string' }, description: 'Only these artifact Names (globs with *).' },
      },
    },
  },
  {
    name: 'tag_history',
    description: 'Every known move of a tag (namespace/tag), oldest first: which PEM it pointed to since when, and what each move rests on.',
    inputSchema: { type: 'object', properties: { namespace: { type: 'string' }, tag: { type: 'string' }, at: { ...AT, description: 'Only moves up to this time.' } }, required: ['namespace', 'tag'] },
  },
  {
    name: 'get_pem',
    description: 'One PEM whole: type, emitter, time, predecessor, properties, tag, the artifacts it used and produced.',
    inputSchema: { type: 'object', properties: { id: { type: 'string', description: 'The PEM ID (32 hex digits or a UUID).' }, at: { ...AT, description: 'Refuse a PEM that did not exist yet at this time.' } }, required: ['id'] },
  },
  {
    name: 'search_pems',
    description: 'PEMs by type, emitter and time range, newest first, with their IDs and artifacts.',
    inputSchema: {
      type: 'object',
      properties: {
        type: { type: 'string', description: 'Exact PEM Type.' },
        emitter: { type: 'string', description: 'Exact Emitter.' },
        artifact: { type: 'string', description: 'Only PEMs that used or produced this artifact Name.' },
        from: { type: 'string', description: 'Not before this time.' },
        to: { type: 'string', description: 'Not after this time.' },
        at: { ...AT, description: 'As of this time (same as "to").' },
        limit: { type: 'integer', minimum: 1, maximum: 500, description: 'Default 50.' },
      },
    },
  },
];

export const MCP_SEND_TOOL: McpToolDefinition = {
  name: 'send_pem',
  description: 'Send one PEM (wire JSON: ID, Type, Predecessor, Emitter, TimestampClient, Properties, Version "2.0.0", Tag, TagNamespace, UsesArtifacts, ProducesArtifacts) to the Receiver.',
  inputSchema: { type: 'object', properties: { pem: { type: 'object', description: 'The PEM as wire JSON.' } }, required: ['pem'] },
};

/** The tools this context offers: the reads, and send_pem only when sending is allowed. */
export function mcpTools(context: Pick<McpToolContext, 'allowSend'>): McpToolDefinition[] {
  return context.allowSend ? [...MCP_READ_TOOLS, MCP_SEND_TOOL] : [...MCP_READ_TOOLS];
}

class ToolError extends Error {}

/** Answers one tool call; never throws (a bad call is an answer with `isError`). */
export async function callMcpTool(context: McpToolContext, name: string, args: Record<string, unknown> = {}): Promise<McpToolAnswer> {
  try {
    const value = await answer(context, name, args);
    return { text: JSON.stringify(value), isError: false };
  } catch (error) {
    return { text: JSON.stringify({ error: error instanceof Error ? error.message : String(error) }), isError: true };
  }
}

async function answer(context: McpToolContext, name: string, args: Record<string, unknown>): Promise<unknown> {
  const { lineage } = context;
  const refresh = async () => {
    const refreshed = await lineage.refresh();
    if (!refreshed.ok) throw new ToolError(refreshed.error.message);
  };
  switch (name) {
    case 'explain': {
      await refresh();
      const explanation = lineage.explain(startOf(context, args), { ...hops(args) });
      return {
        target: explanation.target,
        steps: explanation.steps.map((s) => ({ pem: s.pem, type: s.type, emitter: s.emitter, time: s.time, uses: s.uses.map((u) => ({ name: u.name, producer: u.producer })), produces: s.produces })),
        models: explanation.models,
        sources: explanation.sources,
        gaps: explanation.gaps,
        truncated: explanation.truncated,
        assumptions: explanation.assumptions,
      };
    }
    case 'lineage': {
      await refresh();
      const options = { ...hops(args), maxNodes: integer(args, 'maxNodes') ?? 200 };
      const start = startOf(context, args);
      const result = args['direction'] === 'downstream' ? lineage.downstream(start, options) : lineage.upstream(start, options);
      return compactWalk(result);
    }
    case 'state_at': {
      await refresh();
      const state = lineage.stateAt(text(args, 'at') ?? Date.now(), {
        ...(strings(args, 'namespaces') ? { namespaces: strings(args, 'namespaces')! } : {}),
        ...(strings(args, 'artifacts') ? { artifacts: strings(args, 'artifacts')! } : {}),
      });
      return state;
    }
    case 'tag_history': {
      await refresh();
      const namespace = required(args, 'namespace');
      const tag = required(args, 'tag');
      const until = seconds(args, 'at');
      return { namespace, tag, moves: lineage.tagHistory(namespace, tag).filter((move) => until === undefined || seconds({ t: move.at }, 't')! <= until) };
    }
    case 'get_pem': {
      const id = pemId(required(args, 'id'));
      const read = await context.query.getPem(id);
      if (!read.ok) throw new ToolError(read.error.message);
      const at = seconds(args, 'at');
      if (at !== undefined && seconds({ t: read.value.TimestampClient }, 't')! > at) {
        throw new ToolError(`PEM ${id} happened at ${read.value.TimestampClient}, after ${String(args['at'])}: it did not exist yet then`);
      }
      return read.value;
    }
    case 'search_pems': {
      await refresh();
      const limit = Math.min(integer(args, 'limit') ?? 50, 500);
      const from = seconds(args, 'from');
      const to = Math.min(seconds(args, 'to') ?? Infinity, seconds(args, 'at') ?? Infinity);
      const type = text(args, 'type');
      const emitter = text(args, 'emitter');
      const artifact = text(args, 'artifact');
      const found = [];
      for (const id of lineage.index.pemIds()) {
        const pem = lineage.index.pem(id)!;
        if (type !== undefined && pem.type !== type) continue;
        if (emitter !== undefined && pem.emitter !== emitter) continue;
        if (artifact !== undefined && !pem.uses.includes(artifact) && !pem.produces.includes(artifact)) continue;
        const t = seconds({ t: pem.time }, 't')!;
        if ((from !== undefined && t < from) || t > to) continue;
        found.push(pem);
      }
      found.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
      return { total: found.length, pems: found.slice(0, limit).map(({ received: _r, ...pem }) => pem) };
    }
    case 'send_pem': {
      if (!context.allowSend || !context.client) throw new ToolError('this server is read-only: start it with rk mcp --allow-send to send PEMs');
      const pem = args['pem'];
      if (typeof pem !== 'object' || pem === null) throw new ToolError('pem must be the PEM as a JSON object');
      const sent = await context.client.sendPem(pem as PemPayload);
      if (!sent.ok) throw new ToolError(sent.error.message);
      return sent.value;
    }
    default:
      throw new ToolError(`no tool named ${JSON.stringify(name)}; the tools are ${mcpTools(context).map((t) => t.name).join(', ')}`);
  }
}

/** Nodes and edges without repeats: what a model needs to ask the next question. */
function compactWalk(result: LineageResult): unknown {
  const node = (n: LineageNode) =>
    n.kind === 'pem'
      ? { pem: n.id, hop: n.hop, type: n.type, emitter: n.emitter, time: n.time, uses: n.uses, produces: n.produces, ...(n.missing ? { missing: true } : {}) }
      : { artifact: n.name, producer: n.producer, hop: n.hop };
  return { direction: result.direction, start: result.start, nodes: result.nodes.map(node), edges: result.edges.map((e) => [e.kind, e.from, e.to]), gaps: result.gaps, truncated: result.truncated, cursor: result.cursor };
}

function startOf(context: McpToolContext, args: Record<string, unknown>): LineageStart {
  const at = text(args, 'at');
  const when = at === undefined ? {} : { at };
  const namespace = text(args, 'namespace');
  const tag = text(args, 'tag');
  if (namespace !== undefined || tag !== undefined) {
    if (namespace === undefined || tag === undefined) throw new ToolError('give both namespace and tag (or a target)');
    return { namespace, tag, ...when };
  }
  const target = text(args, 'target');
  if (target === undefined) throw new ToolError('give a target (PEM ID, artifact Name or namespace/tag), or namespace and tag');
  const prefixed = /^(pem|artifact|tag):(.*)$/s.exec(target);
  const value = prefixed ? prefixed[2]! : target;
  const kind = prefixed?.[1];
  const index = context.lineage.index;
  const id = value.replaceAll('-', '').toLowerCase();
  if (kind === 'pem' || (kind === undefined && /^[0-9a-f]{32}$/.test(id) && index.has(id))) return { pem: id };
  if (kind === 'artifact' || (kind === undefined && index.hasArtifact(value))) return { name: value, ...when };
  const slash = value.lastIndexOf('/');
  if (slash <= 0 || slash === value.length - 1) throw new ToolError(`${JSON.stringify(target)} is not a PEM ID, an artifact Name or a namespace/tag that Record Keeper knows; search_pems lists PEMs`);
  return { namespace: value.slice(0, slash), tag: value.slice(slash + 1), ...when };
}

function hops(args: Record<string, unknown>): { maxHops?: number } {
  const maxHops = integer(args, 'maxHops');
  return maxHops === undefined ? {} : { maxHops };
}

function text(args: Record<string, unknown>, key: string): string | undefined {
  const value = args[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new ToolError(`${key} must be a string`);
  return value;
}

function required(args: Record<string, unknown>, key: string): string {
  const value = text(args, key);
  if (value === undefined) throw new ToolError(`${key} is required`);
  return value;
}

function strings(args: Record<string, unknown>, key: string): string[] | undefined {
  const value = args[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new ToolError(`${key} must be an array of strings`);
  return value as string[];
}

function integer(args: Record<string, unknown>, key: string): number | undefined {
  const value = args[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new ToolError(`${key} must be a whole number`);
  return value;
}

function seconds(args: Record<string, unknown>, key: string): number | undefined {
  const value = text(args, key);
  if (value === undefined) return undefined;
  const wire = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)/.exec(value);
  const ms = wire && !/(Z|[+-]\d\d:?\d\d)$/.test(value) ? Date.UTC(+wire[1]!, +wire[2]! - 1, +wire[3]!, +wire[4]!, +wire[5]!, +wire[6]!) : Date.parse(value);
  if (Number.isNaN(ms)) throw new ToolError(`${key} must be a time (UTC "2026-12-01 10:00:00" or ISO 8601), got ${JSON.stringify(value)}`);
  return Math.floor(ms / 1000);
}

function pemId(value: string): string {
  const id = value.replaceAll('-', '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(id)) throw new ToolError(`${JSON.stringify(value)} is not a PEM ID (32 hex digits)`);
  return id;
}
