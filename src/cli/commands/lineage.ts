import {
  RKLineage,
  type LineageEngine,
  type LineageImpact,
  type LineagePaths,
  toCytoscape,
  toDot,
  toMermaid,
  toProvJson,
  type DiffSide,
  type LineageEdge,
  type LineageNode,
  type LineageResult,
  type LineageStart,
  type WalkOptions,
} from '../../lineage/index.js';
import { RKError, RKInvalidInputError, type Result } from '../../public.js';
import { listFlag, stringFlag, type Command, type Context, type OptionSpec } from '../command.js';
import { CliError, EXIT, failWith, UsageError } from '../exit.js';
import { drawTree, humanTime, type Output, type TreeNode } from '../output.js';
import { wholeFlag } from '../paging.js';
import { startProgress } from '../progress.js';
import { isPemId } from '../targets.js';
import { writeOpenLineage } from './openlineage.js';
import { explainTrace } from './trace.js';

/**
 * `rk lineage`, `rk explain`, `rk state-at`, `rk diff`, `rk export`, `rk paths`, `rk impact`: the
 * lineage module's answers on the command line, from the engine `--engine` names: `memory` loads
 * every PEM into an in-memory index first (a progress indicator on a terminal when that takes
 * over a second), `server` asks the Query service hop by hop, `replica` reads a local copy.
 */

const TARGET_HELP =
  'A target is a PEM ID, an artifact Name, or a tag namespace/name (in that order when it is ambiguous); force one with pem:<id>, artifact:<name> or tag:<ns/name>.';

/**
 * Below this many PEMs the memory engine is the default: loading them takes about as long as the
 * server engine takes to answer one deep question (BENCHMARKS.md, "Lineage engines").
 */
export const MEMORY_ENGINE_LIMIT = 10_000;

const ENGINE_OPTIONS: Record<string, OptionSpec> = {
  engine: {
    type: 'string',
    value: '<memory|server|replica>',
    description: `where the walk runs (default: replica with --dir or RK_LINEAGE_DIR, else memory for stores under ${MEMORY_ENGINE_LIMIT} PEMs, server above)`,
  },
  dir: { type: 'string', value: '<dir>', description: "the replica engine's directory (or RK_LINEAGE_DIR)" },
};

const WALK_OPTIONS: Record<string, OptionSpec> = {
  ...ENGINE_OPTIONS,
  hops: { type: 'string', value: '<n>', description: 'how many hops to walk (default 10)' },
  at: { type: 'string', value: '<time>', description: 'resolve the tag or artifact as it was then (UTC "YYYY-MM-DD HH:MM:SS", ISO 8601, or "2h ago")' },
  'max-nodes': { type: 'string', value: '<n>', description: 'the most nodes in the answer (default 500)' },
};

/** `now`, `90s ago`, `15 min ago`, `2h ago`, `3d ago`, or what the lineage module takes (wire or ISO text). */
export function parseTime(text: string, flag: string): string | number {
  const trimmed = text.trim();
  if (trimmed === 'now') return Date.now();
  const relative = /^(\d+)\s*(s|sec|m|min|h|d)\s+ago$/.exec(trimmed);
  if (relative) {
    const unit = { s: 1, sec: 1, m: 60, min: 60, h: 3600, d: 86_400 }[relative[2] as 's'] * 1000;
    return Date.now() - Number(relative[1]) * unit;
  }
  const wire = /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d/.test(trimmed);
  if (!wire && Number.isNaN(Date.parse(trimmed))) {
    throw new UsageError(`${flag} ${JSON.stringify(text)} is not a time`, 'use UTC "2026-11-27 22:06:40", ISO 8601, "now" or "2h ago"');
  }
  return trimmed;
}

/** Loads every PEM (and the tags) into a lineage index, with progress on a terminal. */
export async function loadLineage(ctx: Context): Promise<RKLineage> {
  const lineage = new RKLineage(ctx.config.query());
  const progress = startProgress(ctx.out.stderr, 'Loading the lineage index...');
  ctx.verbose(`loading every PEM from ${ctx.config.url('query')} into the lineage index`);
  try {
    const loaded = await lineage.load({
      onProgress: (p) => progress.update(`Loading the lineage index: ${p.read}${p.total === null ? '' : ` of ${p.total}`} PEMs...`),
    });
    if (!loaded.ok) failWith(loaded.error, ctx.config.settingFor('query'));
    ctx.verbose(`lineage index: ${loaded.value.size} PEMs in ${loaded.value.durationMs} ms`);
  } finally {
    progress.stop();
  }
  return lineage;
}

/** The engine the flags ask for, with the loaded RKLineage when it is the memory engine. */
export async function openLineageEngine(ctx: Context): Promise<{ engine: LineageEngine; lineage: RKLineage | null }> {
  const named = stringFlag(ctx.values, 'engine');
  const dir = stringFlag(ctx.values, 'dir') ?? (ctx.env.RK_LINEAGE_DIR || undefined);
  if (named !== undefined && !['memory', 'server', 'replica'].includes(named)) throw new UsageError(`--engine must be memory, server or replica, got ${JSON.stringify(named)}`);
  let kind = named as 'memory' | 'server' | 'replica' | undefined;
  if (kind === undefined) {
    if (dir) kind = 'replica';
    else {
      const count = await ctx.config.query().getPemsCount();
      kind = count.ok && count.value >= MEMORY_ENGINE_LIMIT ? 'server' : 'memory';
      ctx.verbose(`lineage engine: ${kind} (${count.ok ? `${count.value} PEMs` : 'the PEM count could not be read'}; the memory engine is the default under ${MEMORY_ENGINE_LIMIT})`);
    }
  }
  if (kind === 'memory') {
    const lineage = await loadLineage(ctx);
    return { engine: engineOf(await lineage.openEngine(), ctx), lineage };
  }
  if (kind === 'replica' && !dir) throw new UsageError('--engine replica needs a directory', 'pass --dir <dir> or set RK_LINEAGE_DIR');
  const lineage = new RKLineage(ctx.config.query(), { engine: kind, ...(kind === 'replica' ? { replica: { dir: dir! } } : {}) });
  return { engine: engineOf(await lineage.openEngine(), ctx), lineage: null };
}

function engineOf(opened: Result<LineageEngine>, ctx: Context): LineageEngine {
  if (opened.ok) return opened.value;
  if (opened.error instanceof RKInvalidInputError) throw new CliError(EXIT.usage, opened.error.message);
  return failWith(opened.error, ctx.config.settingFor('query'));
}

/**
 * A target on the command line as a LineageStart, asked of the engine: a PEM ID, else an
 * artifact Name, else a tag `ns/name` (a prefix forces one).
 */
export async function resolveTarget(engine: LineageEngine, ctx: Context, text: string, at: string | number | undefined): Promise<LineageStart> {
  const prefixed = /^(pem|artifact|tag):(.*)$/s.exec(text);
  const kind = prefixed?.[1];
  const value = prefixed ? prefixed[2]! : text;
  const slash = value.indexOf('/');
  const tag: LineageStart | null = slash > 0 && slash < value.length - 1 ? { namespace: value.slice(0, slash), tag: value.slice(slash + 1), ...(at !== undefined ? { at } : {}) } : null;
  const candidates: LineageStart[] = [];
  if (kind === 'pem' || (kind === undefined && isPemId(value))) candidates.push({ pem: value.replace(/-/g, '').toLowerCase() });
  if (kind === 'artifact' || kind === undefined) candidates.push({ name: value, ...(at !== undefined ? { at } : {}) });
  if ((kind === 'tag' || kind === undefined) && tag) candidates.push(tag);
  let last: RKError | null = null;
  for (const candidate of candidates) {
    const probe = await engine.upstream(candidate, { maxHops: 0, maxNodes: 1 });
    if (probe.ok) return candidate;
    if (!(probe.error instanceof RKInvalidInputError)) failWith(probe.error, ctx.config.settingFor('query'));
    last = probe.error;
  }
  if (kind === 'tag' && tag && last) throw new CliError(EXIT.refused, last.message, '"rk tags" lists what there is');
  throw new CliError(EXIT.refused, `${JSON.stringify(text)} is not a PEM ID, an artifact or a tag that Record Keeper knows`, '"rk pems", "rk artifacts" and "rk tags" list what there is');
}

/** An engine's answer, or the CLI error for its failure (an unknown start is exit 1, bad input 2). */
function answer<T>(ctx: Context, result: Result<T>): T {
  if (result.ok) return result.value;
  const error = result.error;
  if (error instanceof RKInvalidInputError) {
    const missing = /not (a PEM|an artifact)|neither|pointed to no PEM|not in the index/.test(error.message);
    throw new CliError(missing ? EXIT.refused : EXIT.usage, error.message, missing ? '"rk pems", "rk artifacts" and "rk tags" list what there is' : undefined);
  }
  return failWith(error, ctx.config.settingFor('query'));
}

export function walkOptions(ctx: Context): WalkOptions {
  const hops = wholeFlag(ctx, 'hops', 0);
  const maxNodes = wholeFlag(ctx, 'max-nodes', 1);
  return { ...(hops !== undefined ? { maxHops: hops } : {}), ...(maxNodes !== undefined ? { maxNodes } : {}) };
}

/** Runs a lineage question; its invalid-input throw (an unknown start, say) becomes exit 1 or 2. */
export function ask<T>(question: () => T): T {
  try {
    return question();
  } catch (error) {
    if (error instanceof RKError) {
      // "Not in the index" is what was asked for not existing; anything else is the command line's fault.
      const missing = /not (a PEM|an artifact)|neither|pointed to no PEM|not in the index/.test(error.message);
      throw new CliError(missing ? EXIT.refused : EXIT.usage, error.message, missing ? '"rk pems", "rk artifacts" and "rk tags" list what there is' : undefined);
    }
    throw error;
  }
}

async function walk(ctx: Context, engine: LineageEngine): Promise<LineageResult> {
  const at = stringFlag(ctx.values, 'at');
  const start = await resolveTarget(engine, ctx, ctx.positionals[0]!, at === undefined ? undefined : parseTime(at, '--at'));
  const options = walkOptions(ctx);
  return answer(ctx, await (ctx.values.down ? engine.downstream(start, options) : engine.upstream(start, options)));
}

function pemLabel(out: Output, node: Extract<LineageNode, { kind: 'pem' }>): string {
  if (node.missing) return `${out.paint('red', 'missing PEM')} ${node.id}`;
  return `${out.paint('bold', node.type ?? '?')} ${out.paint('cyan', node.id)}  ${node.emitter ?? '?'}  ${out.paint('dim', humanTime(node.time))}`;
}

function nodeLabel(out: Output, node: LineageNode): string {
  if (node.kind === 'pem') return pemLabel(out, node);
  return `${out.paint('green', node.name)}${node.producer === null ? out.paint('dim', '  (no known producer)') : ''}`;
}

/** The walk as a tree from its start: upstream each PEM's inputs and predecessor, downstream its outputs and followers. */
export function lineageTree(out: Output, result: LineageResult): string[] {
  const byKey = new Map(result.nodes.map((node) => [node.key, node]));
  const up = result.direction === 'upstream';
  const children = new Map<string, LineageEdge[]>();
  for (const edge of result.edges) {
    const parent = up ? edge.to : edge.from;
    children.set(parent, [...(children.get(parent) ?? []), edge]);
  }
  const relation = (edge: LineageEdge): string => {
    if (edge.kind === 'predecessor') return up ? 'follows' : 'followed by';
    if (edge.kind === 'produced') return up ? 'produced by' : 'produces';
    return up ? 'uses' : 'used by';
  };
  const seen = new Set<string>();
  const build = (key: string, label: string): TreeNode => {
    const node = byKey.get(key);
    const text = `${label}${node ? nodeLabel(out, node) : key}${node?.stopped ? out.paint('yellow', '  (stopped here)') : ''}`;
    if (seen.has(key)) return { label: `${text}${out.paint('dim', '  (see above)')}` };
    seen.add(key);
    const edges = children.get(key) ?? [];
    return { label: text, children: edges.map((edge) => build(up ? edge.from : edge.to, `${out.paint('dim', relation(edge))} `)) };
  };
  return drawTree(build(result.start, ''));
}

function printNotes(out: Output, result: { gaps: LineageResult['gaps']; truncated: LineageResult['truncated'] }): void {
  for (const gap of result.gaps) {
    if (gap.kind === 'unbound-use') out.line(out.paint('dim', `note: ${gap.artifact}, used by ${gap.pem}, has no known producer (it came from outside Record Keeper)`));
    else if (gap.kind === 'missing-predecessor') out.line(out.paint('yellow', `gap: PEM ${gap.pem} follows ${gap.predecessor}, which Record Keeper does not hold`));
    else out.line(out.paint('yellow', `gap: following Predecessor from ${gap.pem} comes back to it`));
  }
  if (result.truncated) {
    const reason = result.truncated.reason;
    const more = reason === 'maxHops' ? 'raise --hops' : reason === 'maxNodes' ? 'raise --max-nodes' : reason === 'maxPaths' ? 'raise --max-paths' : reason === 'timeBudget' ? 'raise --time-budget' : 'run it again';
    out.line(out.paint('yellow', `truncated (${result.truncated.reason}): ${result.truncated.pending.length} PEM(s) not expanded; ${more} to see more`));
  }
}

export const lineageCommand: Command = {
  name: 'lineage',
  summary: 'where a PEM, an artifact or a tagged PEM came from (or, --down, what came of it), as a tree',
  usage: 'lineage <pem-id | artifact | ns/tag> [--down] [--hops <n>] [--at <time>]',
  description: TARGET_HELP,
  options: { down: { type: 'boolean', description: 'walk downstream: what used it, and what followed' }, ...WALK_OPTIONS },
  services: ['query'],
  positionals: { min: 1, max: 1 },
  examples: ['rk lineage churn-pipeline/production', 'rk lineage dataset/customers-v1 --down', 'rk lineage model/churn-v1 --at "2026-11-27 12:00:00" --json'],
  async run(ctx) {
    const { engine } = await openLineageEngine(ctx);
    const result = await walk(ctx, engine);
    if (ctx.out.json) {
      ctx.out.document(result);
      return;
    }
    for (const line of lineageTree(ctx.out, result)) ctx.out.line(line);
    printNotes(ctx.out, result);
  },
};

export const explainCommand: Command = {
  name: 'explain',
  summary: 'why it happened: the steps, the models and who trained them, the data sources, the gaps',
  usage: 'explain <pem-id | artifact | ns/tag> [--hops <n>] [--at <time>] | explain --trace <trace-id>',
  description: `${TARGET_HELP} With --trace, the PEMs of that OpenTelemetry trace and why the newest happened.`,
  options: { ...WALK_OPTIONS, trace: { type: 'string', value: '<trace-id>', description: 'the PEMs stamped with this trace (traceContext: true), and why the newest happened' } },
  services: ['query'],
  positionals: { min: 0, max: 1 },
  examples: ['rk explain churn-pipeline/production', 'rk explain deployment/churn-prod --json'],
  async run(ctx) {
    const trace = stringFlag(ctx.values, 'trace');
    if (trace !== undefined) return explainTrace(ctx, trace);
    if (!ctx.positionals.length) throw new UsageError('rk explain needs a target (a PEM ID, an artifact or ns/tag), or --trace <trace-id>');
    const { engine } = await openLineageEngine(ctx);
    const at = stringFlag(ctx.values, 'at');
    const target = await resolveTarget(engine, ctx, ctx.positionals[0]!, at === undefined ? undefined : parseTime(at, '--at'));
    const why = answer(ctx, await engine.explain(target, walkOptions(ctx)));
    const out = ctx.out;
    if (out.json) {
      const { lineage: walked, ...explanation } = why;
      out.document({ ...explanation, lineage: walked });
      return;
    }
    const start = why.lineage.nodes.find((node) => node.key === why.target);
    out.line(`Why ${start ? nodeLabel(out, start) : why.target}?`);
    out.line();
    out.line(out.paint('bold', 'Steps, oldest first:'));
    why.steps.forEach((step, i) => {
      const uses = step.uses.map((u) => u.name).join(', ') || '-';
      out.line(`  ${String(i + 1).padStart(2)}. ${out.paint('bold', step.type)} ${out.paint('cyan', step.pem)}  ${step.emitter}  ${out.paint('dim', humanTime(step.time))}`);
      out.line(`      uses ${uses}; produces ${step.produces.join(', ') || '-'}`);
    });
    out.line();
    out.line(out.paint('bold', 'Models:'));
    if (!why.models.length) out.line('  none found (a model is an artifact named like model/… or produced by a training step)');
    for (const model of why.models) {
      const trainedBy = model.trainedBy.pems.length ? `trained by ${model.trainedBy.emitters.join(', ')} (PEM ${model.trainedBy.pems.join(', ')})` : 'no training step found upstream';
      out.line(`  ${out.paint('green', model.name)}: produced by ${model.producer ?? 'no known PEM'}; ${trainedBy}`);
    }
    out.line();
    out.line(out.paint('bold', 'Data sources:'));
    if (!why.sources.length) out.line('  none found');
    for (const source of why.sources) {
      const reason = source.reason === 'no-producer' ? 'no known producer' : source.reason === 'source-name' ? 'named as a source' : 'read by an ingest step';
      out.line(`  ${out.paint('green', source.name)}: ${reason}; used by ${source.usedBy.join(', ') || '-'}`);
    }
    if (why.gaps.length || why.truncated) {
      out.line();
      printNotes(out, why);
    }
    if (why.assumptions.length) {
      out.line();
      out.line(out.paint('dim', 'This rests on:'));
      for (const assumption of why.assumptions) out.line(out.paint('dim', `  - ${assumption}`));
    }
  },
};

export const stateAtCommand: Command = {
  name: 'state-at',
  summary: 'where every tag pointed and which version of every artifact was current at a time',
  usage: 'state-at <time> [--namespace <ns>]... [--artifact <name>]...',
  description: 'The time is UTC "YYYY-MM-DD HH:MM:SS", ISO 8601, "now" or "2h ago".',
  options: {
    ...ENGINE_OPTIONS,
    namespace: { type: 'string', multiple: true, value: '<ns>', description: 'only tags in this namespace' },
    artifact: { type: 'string', multiple: true, value: '<name>', description: 'only this artifact' },
  },
  services: ['query'],
  positionals: { min: 1, max: 1 },
  examples: ['rk state-at "2026-11-27 12:00:00"', 'rk state-at "2h ago" --namespace churn-pipeline --json'],
  async run(ctx) {
    const time = parseTime(ctx.positionals[0]!, 'the time');
    const { engine } = await openLineageEngine(ctx);
    const namespaces = listFlag(ctx.values, 'namespace');
    const artifactNames = listFlag(ctx.values, 'artifact');
    const state = answer(ctx, await engine.stateAt(time, { ...(namespaces.length ? { namespaces } : {}), ...(artifactNames.length ? { artifacts: artifactNames } : {}) }));
    const out = ctx.out;
    if (out.json) {
      out.document(state);
      return;
    }
    out.line(`State at ${out.paint('bold', humanTime(state.at))}`);
    out.line();
    if (state.tags.length) {
      out.table([{ title: 'TAG', style: 'bold' }, { title: 'PEM', style: 'cyan' }, { title: 'SINCE (UTC)' }, { title: 'FROM' }], state.tags.map((t) => [`${t.namespace}/${t.tag}`, t.pem, t.since, t.basis]));
    } else out.line('No tags then.');
    out.line();
    if (state.artifacts.length) {
      out.table(
        [{ title: 'ARTIFACT', style: 'green' }, { title: 'PRODUCED BY', style: 'cyan' }, { title: 'TYPE' }, { title: 'EMITTER' }, { title: 'AT (UTC)' }],
        state.artifacts.map((a) => [a.name, a.producer, a.type, a.emitter, a.producedAt]),
      );
    } else out.line('No artifacts then.');
    if (state.assumptions.length) {
      out.line();
      for (const assumption of state.assumptions) out.line(out.paint('dim', `- ${assumption}`));
    }
  },
};

/** A side of a diff: `@<time>` for the state then, otherwise a target. */
async function diffSide(engine: LineageEngine, ctx: Context, text: string, at: string | undefined): Promise<DiffSide> {
  if (text.startsWith('@')) return { at: parseTime(text.slice(1), 'the time') };
  return resolveTarget(engine, ctx, text, at === undefined ? undefined : parseTime(at, '--at'));
}

export const diffCommand: Command = {
  name: 'diff',
  summary: 'what changed in the ancestry between two PEMs, tags, artifacts or times',
  usage: 'diff <a> <b> [--at-a <time>] [--at-b <time>]',
  description: `${TARGET_HELP} A side written @<time> is every artifact version current then. The same tag at two times: rk diff ns/tag ns/tag --at-a <t1> --at-b <t2>.`,
  options: {
    ...ENGINE_OPTIONS,
    'at-a': { type: 'string', value: '<time>', description: 'resolve a (a tag or an artifact) as it was then' },
    'at-b': { type: 'string', value: '<time>', description: 'resolve b as it was then' },
  },
  services: ['query'],
  positionals: { min: 2, max: 2 },
  examples: ['rk diff churn-pipeline/candidate churn-pipeline/production', 'rk diff churn-pipeline/production churn-pipeline/production --at-a "1d ago" --at-b now'],
  async run(ctx) {
    const { engine, lineage } = await openLineageEngine(ctx);
    const a = await diffSide(engine, ctx, ctx.positionals[0]!, stringFlag(ctx.values, 'at-a'));
    const b = await diffSide(engine, ctx, ctx.positionals[1]!, stringFlag(ctx.values, 'at-b'));
    const diff = answer(ctx, await engine.diffLineage(a, b));
    const out = ctx.out;
    if (out.json) {
      out.document(diff);
      return;
    }
    // A PEM by its Type and ID, as far as the index knows it.
    const named = (id: string | null) => {
      if (id === null) return 'no known producer';
      const known = lineage?.index.pem(id);
      return known ? `${known.type} ${id}` : id;
    };
    const versions = (ids: Array<string | null>) => (ids.length ? ids.map(named).join(', ') : 'none');
    const same = !diff.added.length && !diff.removed.length && !diff.rebound.length && !diff.pems.added.length && !diff.pems.removed.length;
    if (same) out.line('No difference in the ancestry.');
    for (const v of diff.added) out.line(out.paint('green', `+ ${v.name} (${v.producer ? `produced by ${named(v.producer)}` : 'no known producer'})`));
    for (const v of diff.removed) out.line(out.paint('red', `- ${v.name} (${v.producer ? `produced by ${named(v.producer)}` : 'no known producer'})`));
    for (const r of diff.rebound) out.line(out.paint('yellow', `~ ${r.name}: versions only in a: ${versions(r.from)}; only in b: ${versions(r.to)}`));
    if (diff.pems.added.length || diff.pems.removed.length) {
      out.line(out.paint('dim', `PEMs: ${diff.pems.added.length} only in b, ${diff.pems.removed.length} only in a`));
    }
    if (diff.truncated) out.line(out.paint('yellow', 'One of the walks was cut short: the diff covers only what was walked.'));
  },
};

const FORMATS = ['mermaid', 'dot', 'prov-json', 'cytoscape', 'json', 'html', 'openlineage'] as const;

export const exportCommand: Command = {
  name: 'export',
  summary: 'the lineage as Mermaid, Graphviz DOT, PROV-JSON, Cytoscape JSON, the walk as JSON, an HTML page or OpenLineage events',
  usage: 'export <pem-id | artifact | ns/tag> [--format mermaid|dot|prov-json|cytoscape|json|html|openlineage] [--down] [--hops <n>] [--at <time>]',
  description: `${TARGET_HELP} The default format is mermaid. The document goes to stdout: redirect it to a file.`,
  options: {
    format: { type: 'string', value: '<format>', description: 'mermaid (default), dot, prov-json, cytoscape, json, html (the interactive page of rk view, as one file) or openlineage (NDJSON RunEvents)' },
    down: { type: 'boolean', description: 'walk downstream' },
    ...WALK_OPTIONS,
  },
  services: ['query'],
  positionals: { min: 1, max: 1 },
  examples: ['rk export churn-pipeline/production --format mermaid > lineage.mmd', 'rk export model/churn-v1 --format dot | dot -Tsvg > lineage.svg', 'rk export churn-pipeline/production --format html > why.html'],
  async run(ctx) {
    const format = stringFlag(ctx.values, 'format') ?? 'mermaid';
    if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
    const { engine, lineage } = await openLineageEngine(ctx);
    const result = await walk(ctx, engine);
    const out = ctx.out;
    switch (format as (typeof FORMATS)[number]) {
      case 'mermaid':
        out.line(toMermaid(result).trimEnd());
        break;
      case 'dot':
        out.line(toDot(result).trimEnd());
        break;
      case 'prov-json':
        out.document(toProvJson(result));
        break;
      case 'cytoscape':
        out.document(toCytoscape(result));
        break;
      case 'json':
        out.document(result);
        break;
      case 'html': {
        // view.ts builds on this file's helpers; loading it here, when asked, keeps the imports one-way.
        const { exportHtml } = await import('./view.js');
        out.line((await exportHtml(ctx, lineage ?? (await loadLineage(ctx)))).trimEnd());
        break;
      }
      case 'openlineage':
        await writeOpenLineage(ctx, result);
        break;
    }
  },
};

export const pathsCommand: Command = {
  name: 'paths',
  summary: 'every time-correct causal path between two PEMs, artifacts or tags, with the PEMs that bind each hop',
  usage: 'paths <a> <b> [--at <time>] [--hops <n>] [--max-paths <n>]',
  description: `${TARGET_HELP} The paths run from the upstream one down to the other, whichever order they are given in.`,
  options: {
    ...WALK_OPTIONS,
    'max-paths': { type: 'string', value: '<n>', description: 'the most paths listed (default 100)' },
  },
  services: ['query'],
  positionals: { min: 2, max: 2 },
  examples: ['rk paths raw/customers.csv churn-pipeline/production', 'rk paths <ingest-pem-id> model/churn --json'],
  async run(ctx) {
    const { engine } = await openLineageEngine(ctx);
    const atText = stringFlag(ctx.values, 'at');
    const at = atText === undefined ? undefined : parseTime(atText, '--at');
    const a = await resolveTarget(engine, ctx, ctx.positionals[0]!, at);
    const b = await resolveTarget(engine, ctx, ctx.positionals[1]!, at);
    const maxPaths = wholeFlag(ctx, 'max-paths', 1);
    const found: LineagePaths = answer(ctx, await engine.paths(a, b, { ...walkOptions(ctx), ...(at !== undefined ? { at } : {}), ...(maxPaths !== undefined ? { maxPaths } : {}) }));
    const out = ctx.out;
    if (out.json) {
      out.document(found);
      return;
    }
    const byKey = new Map(found.nodes.map((node) => [node.key, node]));
    const label = (key: string) => {
      const node = byKey.get(key);
      return node ? nodeLabel(out, node) : key;
    };
    if (!found.paths.length) out.line(`No causal path between them within ${walkOptions(ctx).maxHops ?? 10} hops.`);
    else out.line(`${found.paths.length} path(s) from ${label(found.from)}${found.reversed ? ' (the second one given is upstream)' : ''}:`);
    found.paths.forEach((path, i) => {
      out.line();
      out.line(out.paint('bold', `Path ${i + 1}:`));
      for (const key of path.nodes) out.line(`  ${label(key)}`);
    });
    printNotes(out, { gaps: [], truncated: found.truncated });
  },
};

export const impactCommand: Command = {
  name: 'impact',
  summary: 'what a bad artifact version or PEM reached: every tagged head that descends from it, with a proving path',
  usage: 'impact <pem-id | artifact | ns/tag> [--all] [--at <time>] [--hops <n>]',
  description: `${TARGET_HELP} A tagged head is a PEM some tag points to (at --at, else now): a deployed model, say.`,
  options: {
    ...WALK_OPTIONS,
    all: { type: 'boolean', description: 'every PEM reached, tagged or not' },
  },
  services: ['query'],
  positionals: { min: 1, max: 1 },
  examples: ['rk impact raw/customers-2026-11-25.csv', 'rk impact <pem-id> --all --json'],
  async run(ctx) {
    const { engine } = await openLineageEngine(ctx);
    const atText = stringFlag(ctx.values, 'at');
    const at = atText === undefined ? undefined : parseTime(atText, '--at');
    const source = await resolveTarget(engine, ctx, ctx.positionals[0]!, at);
    const hops = wholeFlag(ctx, 'hops', 0);
    const maxNodes = wholeFlag(ctx, 'max-nodes', 1);
    const impact: LineageImpact = answer(
      ctx,
      await engine.impact(source, { tagged: !ctx.values.all, ...(at !== undefined ? { at } : {}), ...(hops !== undefined ? { maxHops: hops } : {}), ...(maxNodes !== undefined ? { maxNodes } : {}) }),
    );
    const out = ctx.out;
    if (out.json) {
      out.document(impact);
      return;
    }
    if (!impact.hits.length) out.line(ctx.values.all ? 'Nothing descends from it.' : 'No tagged PEM descends from it.');
    for (const hit of impact.hits) {
      const tags = hit.tags.map((t) => `${t.namespace}/${t.tag}`).join(', ');
      out.line(`${out.paint('cyan', hit.pem)}${tags ? `  ${out.paint('bold', tags)}` : ''}  ${out.paint('dim', `${hit.hop} hop(s)`)}`);
      out.line(out.paint('dim', `  via ${hit.path.join(' -> ')}`));
    }
    printNotes(out, { gaps: [], truncated: impact.truncated });
  },
};
