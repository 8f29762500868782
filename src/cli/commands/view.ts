import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { delimiter, join } from 'node:path';
import {
  pageHtml,
  toHtml,
  toPageData,
  type Explanation,
  type LineagePageData,
  type LineageResult,
  type RKLineage,
} from '../../lineage/index.js';
import type { StoredPem } from '../../public.js';
import { stringFlag, type Command, type Context } from '../command.js';
import { CliError, EXIT, UsageError } from '../exit.js';
import { wholeFlag } from '../paging.js';
import { ask, loadLineage, parseTime, resolveTarget, walkOptions } from './lineage.js';

/**
 * `rk view <target>`: the lineage page (toHtml's, with the time slider) served on loopback, with
 * one thing a file cannot do: "one hop further" asks this page server, which refreshes the index
 * from Record Keeper and walks one hop from the PEM. It runs until Ctrl-C (SIGINT) or SIGTERM.
 * `rk export --format html` writes the same page to stdout, without the live walk.
 */

/** The most PEMs whose Properties are read (getPem, one call each) for one page. */
const MAX_PROPERTY_READS = 200;
const READS_IN_FLIGHT = 8;

/**
 * Getting what the page shows: the explanation (upstream) or the downstream walk of the target.
 * The page needs the in-memory index (its time slider replays stateAt), so it always asks the
 * memory engine, whatever --engine says for the other commands.
 */
async function answerFor(ctx: Context, lineage: RKLineage): Promise<Explanation | LineageResult> {
  const at = stringFlag(ctx.values, 'at');
  const engine = await lineage.openEngine();
  if (!engine.ok) throw new CliError(EXIT.usage, engine.error.message);
  const start = await resolveTarget(engine.value, ctx, ctx.positionals[0]!, at === undefined ? undefined : parseTime(at, '--at'));
  const options = walkOptions(ctx);
  return ask(() => (ctx.values.down ? lineage.downstream(start, options) : lineage.explain(start, options)));
}

/** The PEMs of an answer as getPem reads them (Properties are not in the index); a PEM that fails to read is shown without them. */
async function readPems(ctx: Context, ids: string[]): Promise<Map<string, StoredPem>> {
  const query = ctx.config.query();
  const pems = new Map<string, StoredPem>();
  const queue = ids.slice(0, MAX_PROPERTY_READS);
  const worker = async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      const read = await query.getPem(id);
      if (read.ok) pems.set(id, read.value);
      else ctx.verbose(`reading PEM ${id} for its properties: ${read.error.message}`);
    }
  };
  await Promise.all(Array.from({ length: READS_IN_FLIGHT }, worker));
  return pems;
}

function pemIdsOf(answer: Explanation | LineageResult): string[] {
  const result = 'lineage' in answer ? answer.lineage : answer;
  return result.nodes.flatMap((node) => (node.kind === 'pem' && !node.missing ? [node.id] : []));
}

/** `rk export --format html`: the page as one file, with the time slider and the PEMs' Properties. */
export async function exportHtml(ctx: Context, lineage: RKLineage): Promise<string> {
  const answer = await answerFor(ctx, lineage);
  return toHtml(answer, { index: lineage.index, pems: await readPems(ctx, pemIdsOf(answer)) });
}

/** Where a browser opener is on this machine, if any. */
function opener(env: NodeJS.ProcessEnv): string | undefined {
  const names = process.platform === 'darwin' ? ['open'] : process.platform === 'win32' ? [] : ['xdg-open', 'sensible-browser', 'x-www-browser'];
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    for (const name of names) if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

export const viewCommand: Command = {
  name: 'view',
  summary: 'the lineage as an interactive page with a time slider, served on loopback until Ctrl-C',
  usage: 'view <pem-id | artifact | ns/tag> [--down] [--hops <n>] [--at <time>] [--port <n>] [--open]',
  description:
    'A target is a PEM ID, an artifact Name, or a tag namespace/name. Upstream (the default) the page shows the explain answer beside the graph; --down shows what came of it. The page is served on 127.0.0.1 only; its "one hop" buttons ask Record Keeper through this process. rk export --format html writes the same page to a file.',
  options: {
    down: { type: 'boolean', description: 'walk downstream: what used it, and what followed' },
    hops: { type: 'string', value: '<n>', description: 'how many hops to walk (default 10)' },
    at: { type: 'string', value: '<time>', description: 'resolve the tag or artifact as it was then' },
    'max-nodes': { type: 'string', value: '<n>', description: 'the most nodes in the answer (default 500)' },
    port: { type: 'string', value: '<n>', description: 'the loopback port (default: a free one)' },
    open: { type: 'boolean', description: 'open the page in a browser, when this machine has one' },
  },
  services: ['query'],
  positionals: { min: 1, max: 1 },
  examples: ['rk view churn-pipeline/production', 'rk view dataset/customers --down --open', 'rk view churn-pipeline/production --port 8040'],
  async run(ctx) {
    const port = wholeFlag(ctx, 'port', 0) ?? 0;
    if (port > 65_535) throw new UsageError(`--port must be at most 65535, got ${port}`);
    const lineage = await loadLineage(ctx);
    const answer = await answerFor(ctx, lineage);
    const data = toPageData(answer, { index: lineage.index, pems: await readPems(ctx, pemIdsOf(answer)) }, true);
    const html = await pageHtml(data);

    let origin = '';
    const server = createServer((req, res) => {
      handle(ctx, lineage, html, origin, req, res).catch((error: unknown) => reply(res, 500, { error: error instanceof Error ? error.message : String(error) }));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(new CliError(EXIT.refused, `cannot serve the page on 127.0.0.1:${port}: ${error.code ?? error.message}`, error.code === 'EADDRINUSE' ? 'choose another --port, or leave it out for a free one' : undefined)),
      );
      server.listen(port, '127.0.0.1', resolve);
    });
    const address = server.address();
    origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
    const url = `${origin}/`;
    if (ctx.out.json) ctx.out.document({ url, nodes: data.nodes.length, edges: data.edges.length });
    else {
      ctx.out.line(`Lineage page: ${url}`);
      ctx.out.note(`${data.nodes.length} nodes, ${data.edges.length} edges${data.timeline ? `, ${data.timeline.stops.length} times on the slider` : ''}. Ctrl-C stops it.`);
    }
    if (ctx.values.open) {
      const open = opener(ctx.env);
      if (open) spawn(open, [url], { stdio: 'ignore', detached: true }).on('error', () => ctx.out.warn(`could not start ${open}; open ${url} yourself`)).unref();
      else ctx.out.warn(`no browser opener (xdg-open) on this machine; open ${url} yourself`);
    }

    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    ctx.out.note('Stopped the lineage page.');
  },
};

async function handle(ctx: Context, lineage: RKLineage, html: string, origin: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // Only pages of this origin: another site's page, or a DNS name rebound to 127.0.0.1, gets nothing.
  if (req.headers.host !== origin.slice('http://'.length)) return reply(res, 403, { error: `this page server answers only ${origin}` });
  const url = new URL(req.url ?? '/', origin);
  if (req.method !== 'GET') return reply(res, 405, { error: 'only GET' });
  if (url.pathname === '/') {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(html);
    return;
  }
  if (url.pathname !== '/api/hop') return reply(res, 404, { error: `no ${url.pathname} here` });
  const pem = url.searchParams.get('pem') ?? '';
  const direction = url.searchParams.get('direction');
  if (!/^[0-9a-f]{32}$/.test(pem) || (direction !== 'upstream' && direction !== 'downstream')) {
    return reply(res, 400, { error: 'give pem=<32 hex digits> and direction=upstream or downstream' });
  }
  // What RK received since the page was drawn counts too.
  const refreshed = await lineage.refresh();
  if (!refreshed.ok) return reply(res, 502, { error: `Record Keeper did not answer the refresh: ${refreshed.error.message}` });
  if (!lineage.index.has(pem)) return reply(res, 404, { error: `PEM ${pem} is not in Record Keeper` });
  const walked = direction === 'upstream' ? lineage.upstream({ pem }, { maxHops: 1 }) : lineage.downstream({ pem }, { maxHops: 1 });
  const part: LineagePageData = toPageData(walked, { pems: await readPems(ctx, pemIdsOf(walked)) });
  reply(res, 200, { nodes: part.nodes, edges: part.edges });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(JSON.stringify(body));
}
