import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describeEvent, fromOpenLineage, OpenLineageRuns, toOpenLineage, type OpenLineagePemSource } from '../../bridges/index.js';
import { startOpenLineageBridge } from '../../bridges/openlineage-bridge.js';
import type { LineageResult } from '../../lineage/index.js';
import type { RKClient } from '../../public.js';
import { stringFlag, type Command, type Context } from '../command.js';
import { CliError, EXIT, failWith, UsageError } from '../exit.js';
import { wholeFlag } from '../paging.js';

/**
 * OpenLineage on the command line: `rk export --format openlineage` (the walk's PEMs as NDJSON
 * RunEvents), `rk import openlineage` (a file of events into RK) and `rk bridge openlineage`
 * (an OpenLineage HTTP endpoint that forwards into RK through a durable outbox).
 */

/** `rk export <target> --format openlineage`: each PEM of the walk read whole (Properties, Tag), then one RunEvent per line. */
export async function writeOpenLineage(ctx: Context, result: LineageResult): Promise<void> {
  const query = ctx.config.query();
  const ids = result.nodes.filter((node) => node.kind === 'pem' && !node.missing).map((node) => (node.kind === 'pem' ? node.id : ''));
  const pems: OpenLineagePemSource[] = new Array(ids.length);
  let next = 0;
  // A few reads in flight: the Query service answers each PEM on its own.
  await Promise.all(
    Array.from({ length: Math.min(8, ids.length) }, async () => {
      while (next < ids.length) {
        const i = next++;
        const read = await query.getPem(ids[i]!);
        if (!read.ok) failWith(read.error, ctx.config.settingFor('query'));
        pems[i] = read.value;
      }
    }),
  );
  for (const event of toOpenLineage(pems)) ctx.out.record(event);
}

/** The events of a file: NDJSON (one event or array per line), or one JSON array or object. */
function eventsOf(text: string, source: string): { line: number; event: unknown }[] {
  const trimmed = text.trim();
  if (trimmed === '') throw new UsageError(`${source} is empty: no OpenLineage event to import`);
  try {
    const whole = JSON.parse(trimmed) as unknown;
    return (Array.isArray(whole) ? whole : [whole]).map((event, i) => ({ line: Array.isArray(whole) ? i + 1 : 1, event }));
  } catch {
    // Not one document: NDJSON.
  }
  return text.split('\n').flatMap((raw, i) => {
    if (raw.trim() === '') return [];
    try {
      const value = JSON.parse(raw) as unknown;
      return (Array.isArray(value) ? value : [value]).map((event) => ({ line: i + 1, event }));
    } catch (error) {
      return [{ line: i + 1, event: new SyntaxError(`not JSON (${error instanceof Error ? error.message : String(error)})`) }];
    }
  });
}

export const importOpenLineage: Command = {
  name: 'import openlineage',
  summary: 'send OpenLineage RunEvents (NDJSON or a JSON array) to RK as PEMs',
  usage: 'import openlineage <file | -> [--dry-run]',
  description:
    'Each COMPLETE or FAIL event becomes one PEM whose ID comes from the run ID, so importing the same file again stores nothing twice; START, RUNNING and OTHER events fold into their run\'s final event; ABORT, DatasetEvent and JobEvent are skipped. ' +
    'An event that cannot map is reported on stderr with its line and the reason, and the others still go; the exit code is then 1. Mapping: guides/openlineage.md.',
  options: { 'dry-run': { type: 'boolean', description: 'print the PEMs as NDJSON and send nothing' } },
  services: ['receiver'],
  positionals: { min: 1, max: 1 },
  examples: ['rk import openlineage events.ndjson', 'rk export model/churn --format openlineage | rk import openlineage -'],
  async run(ctx) {
    const file = ctx.positionals[0]!;
    let text: string;
    if (file === '-') {
      if (ctx.stdin.isTTY) throw new UsageError('rk import openlineage - reads events from stdin, and stdin is a terminal', 'pipe NDJSON in, or give a file');
      const chunks: Buffer[] = [];
      for await (const chunk of ctx.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
      text = Buffer.concat(chunks).toString('utf8');
    } else {
      text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new UsageError(`cannot read ${file}: ${error.code ?? error.message}`);
      });
    }
    const events = eventsOf(text, file === '-' ? 'stdin' : file);
    const dryRun = ctx.values['dry-run'] === true;
    const client = dryRun ? null : ctx.config.client();
    let sizeLimit: number | undefined;
    if (client) {
      const info = await client.getInfo();
      if (!info.ok) failWith(info.error, ctx.config.settingFor('receiver'));
      sizeLimit = info.value.pem_size_limit;
    }
    const runs = new OpenLineageRuns();
    const counts = { sent: 0, duplicates: 0, folded: 0, skipped: 0, refused: 0 };
    const refuse = (line: number, event: unknown, reason: string) => {
      counts.refused++;
      ctx.out.error(`line ${line}: ${describeEvent(event)}: ${reason}`);
    };
    for (const { line, event } of events) {
      if (event instanceof SyntaxError) {
        refuse(line, undefined, event.message);
        continue;
      }
      const mapped = fromOpenLineage(event, { runs, sizeLimit });
      if (!mapped.ok) {
        refuse(line, event, mapped.error.message);
        continue;
      }
      const value = mapped.value;
      if (value.kind === 'folded') counts.folded++;
      else if (value.kind === 'skipped') {
        counts.skipped++;
        ctx.verbose(`line ${line}: skipped: ${value.reason}`);
      } else if (!client) ctx.out.record(value.pem);
      else {
        const sent = await (client as RKClient).sendPem(value.pem);
        if (!sent.ok) {
          if (sent.error.kind === 'connection' || sent.error.kind === 'timeout') failWith(sent.error, ctx.config.settingFor('receiver'));
          refuse(line, event, sent.error.message);
          continue;
        }
        const duplicate = sent.value.status === 'duplicate';
        if (duplicate) counts.duplicates++;
        else counts.sent++;
        if (ctx.out.json) ctx.out.record({ line, runId: value.runId, ID: value.pem.ID, Type: value.pem.Type, status: sent.value.status });
        else ctx.out.line(`line ${line}: ${value.pem.Type} PEM ${ctx.out.paint('bold', value.pem.ID)} (run ${value.runId}): ${duplicate ? ctx.out.paint('yellow', 'duplicate') : ctx.out.paint('green', sent.value.status)}`);
      }
    }
    const verb = dryRun ? 'mapped' : 'sent';
    ctx.out.note(
      `${events.length} event${events.length === 1 ? '' : 's'}: ${counts.sent} PEM${counts.sent === 1 ? '' : 's'} ${verb}${dryRun ? '' : `, ${counts.duplicates} already stored`}, ` +
        `${counts.folded} folded into their run, ${counts.skipped} skipped, ${counts.refused} refused`,
    );
    if (counts.refused) throw new CliError(EXIT.refused, `${counts.refused} event${counts.refused === 1 ? '' : 's'} could not be imported (see above); the others were`);
  },
};

export const bridgeOpenLineage: Command = {
  name: 'bridge openlineage',
  summary: 'an OpenLineage HTTP endpoint that records every event in RK through a durable outbox',
  usage: 'bridge openlineage [--listen <host:port>] [--outbox <dir>] [--max-body <bytes>] [--max-pending <n>]',
  description:
    'Point an OpenLineage http transport (Airflow, Spark, dbt, Flink) at the printed URL: POST /api/v1/lineage (one event, or an array) and POST /api/v1/lineage/batch are accepted, gzip too. ' +
    'It answers 201 once the PEMs are in the outbox, 400 with the reason for a malformed event, 413 over --max-body, 503 with Retry-After when the outbox or the bridge is full. ' +
    'The outbox delivers to the Receiver, also after a restart. With RK_OPENLINEAGE_API_KEY set, requests need Authorization: Bearer <key>. Runs until Ctrl+C, then finishes what it took.',
  options: {
    listen: { type: 'string', value: '<host:port>', description: 'where to listen (default 127.0.0.1:5000; port 0 picks a free one)' },
    outbox: { type: 'string', value: '<dir>', description: 'the durable outbox folder (default ./rk-openlineage-outbox)' },
    'max-body': { type: 'string', value: '<bytes>', description: 'largest request body, decompressed (default 8388608)' },
    'max-pending': { type: 'string', value: '<n>', description: 'events on their way to the outbox at once (default 1000)' },
  },
  services: ['receiver'],
  positionals: { min: 0, max: 0 },
  examples: ['rk bridge openlineage --listen 0.0.0.0:5000', 'OPENLINEAGE_URL=http://127.0.0.1:5000 airflow scheduler   # in another shell'],
  async run(ctx) {
    const listen = stringFlag(ctx.values, 'listen') ?? '127.0.0.1:5000';
    const match = /^(.*):(\d+)$/.exec(listen);
    if (!match || Number(match[2]) > 65535) throw new UsageError(`--listen must be <host:port>, e.g. 127.0.0.1:5000, got ${JSON.stringify(listen)}`);
    const host = match[1]!.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
    const dir = resolve(stringFlag(ctx.values, 'outbox') ?? 'rk-openlineage-outbox');
    const apiKey = ctx.env['RK_OPENLINEAGE_API_KEY'] || undefined;
    if (apiKey) ctx.out.hide([apiKey]);
    const client = ctx.config.client({ outbox: { dir } });
    const info = await client.getInfo();
    if (!info.ok) ctx.out.warn(`the Receiver did not answer (${info.error.message}); events wait in the outbox until it does`);
    let bridge;
    try {
      bridge = await startOpenLineageBridge({
        client,
        host,
        port: Number(match[2]),
        maxBodyBytes: wholeFlag(ctx, 'max-body', 1),
        maxPending: wholeFlag(ctx, 'max-pending', 1),
        sizeLimit: info.ok ? info.value.pem_size_limit : undefined,
        apiKey,
        logger: { warn: (message) => ctx.out.warn(message) },
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new CliError(EXIT.refused, `could not listen on ${listen}: ${message}`, /EADDRINUSE/.test(message) ? 'the port is taken: pass --listen <host>:<another port>, or port 0 for a free one' : undefined);
    }
    if (ctx.out.json) ctx.out.record({ url: bridge.url, endpoint: `${bridge.url}/api/v1/lineage`, outbox: dir });
    else {
      ctx.out.line(`OpenLineage bridge on ${bridge.url} (POST /api/v1/lineage, /api/v1/lineage/batch), outbox ${dir}`);
      ctx.out.line(ctx.out.paint('dim', `Producers: OPENLINEAGE_URL=${bridge.url}. Stop with Ctrl+C.`));
    }
    await new Promise<void>((done) => {
      const stop = (signal: string) => {
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
        ctx.out.note(`${signal}: finishing the requests in progress...`);
        bridge.close().then(done, (error: unknown) => {
          ctx.out.error(`error while stopping: ${String(error)}`);
          done();
        });
      };
      const onInt = () => stop('SIGINT');
      const onTerm = () => stop('SIGTERM');
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
    });
    const stats = bridge.stats();
    ctx.out.note(`Stopped: ${stats.recorded} events recorded, ${stats.folded} folded, ${stats.skipped} skipped, ${stats.refused} refused, ${stats.deferred} requests deferred (503).`);
  },
};
