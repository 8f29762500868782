import type { GraphInfo, QueryInfo, ReceiverInfo, Result } from '../../public.js';
import type { Command, Context } from '../command.js';
import { SERVICE_NAMES, type Service } from '../config.js';
import { EXIT, exitCodeOf, hintFor } from '../exit.js';
import { bytes } from '../output.js';
import { during } from '../progress.js';
import { readInfo } from './info.js';

/**
 * `rk doctor`: is everything in place to send and to ask? Each check says ok, warn or fail, and
 * a failing one says what to fix. Exit 0 when nothing failed (warnings allowed), 3 when a service
 * could not be reached, 1 for any other failure.
 */

type Status = 'ok' | 'warn' | 'fail' | 'skip';

interface Check {
  check: string;
  status: Status;
  detail: string;
  fix?: string;
  /** The exit code this failure means. */
  code?: number;
}

/** Clocks may differ this much before TimestampClient and the server's times disagree visibly. */
const MAX_SKEW_S = 5;

export const doctor: Command = {
  name: 'doctor',
  summary: 'checks each URL, the credential, the clock, the size limit and the graph sync; says what to fix',
  usage: 'doctor',
  services: ['receiver', 'query', 'graph-builder'],
  examples: ['rk doctor', 'rk doctor --json'],
  async run(ctx) {
    const skews: number[] = [];
    // The library's own fetch option: the Date header of each answer gives the server's clock.
    const timing: typeof fetch = async (input, init) => {
      const sent = Date.now();
      const response = await fetch(input, init);
      const received = Date.now();
      const date = Date.parse(response.headers.get('date') ?? '');
      // The Date header has whole seconds: compare with the local time truncated the same way.
      if (!Number.isNaN(date)) skews.push((date - Math.floor((sent + received) / 2000) * 1000) / 1000);
      return response;
    };
    const checks: Check[] = [];
    const infos: Partial<Record<Service, Result<object>>> = {};
    for (const service of ['receiver', 'query', 'graph-builder'] as const) {
      const result = await during(ctx.out.stderr, `Asking the ${SERVICE_NAMES[service]}...`, readInfo(ctx, service, timing));
      const setting = ctx.config.settingFor(service);
      if (!result) {
        checks.push({ check: SERVICE_NAMES[service], status: 'fail', detail: 'no URL configured', fix: `pass ${setting.flag} <url> or set ${setting.env} ("rk local" prints them)`, code: EXIT.usage });
        continue;
      }
      infos[service] = result;
      const url = ctx.config.url(service)!;
      if (result.ok) {
        checks.push({ check: SERVICE_NAMES[service], status: 'ok', detail: `${url} answers (version ${String((result.value as { version?: unknown }).version)})` });
      } else {
        const code = exitCodeOf(result.error);
        const authOnly = result.error.kind === 'http';
        checks.push({
          check: SERVICE_NAMES[service],
          status: 'fail',
          detail: authOnly ? `${url} answers but refuses: ${result.error.message}` : result.error.message,
          fix: hintFor(result.error, setting) ?? `check ${setting.flag} / ${setting.env}`,
          code,
        });
      }
    }
    const receiver = okValue<ReceiverInfo>(infos.receiver);
    const query = okValue<QueryInfo>(infos.query);
    const graph = okValue<GraphInfo>(infos['graph-builder']);
    checks.push(await credentialCheck(ctx, receiver, query));
    checks.push(clockCheck(skews));
    checks.push(
      receiver
        ? { check: 'size limit', status: 'ok', detail: `PEMs up to ${bytes(receiver.pem_size_limit)} (pem_size_limit ${receiver.pem_size_limit}); larger ones are refused before sending` }
        : { check: 'size limit', status: 'skip', detail: 'unknown without the Receiver' },
    );
    checks.push(graphCheck(graph));

    const failed = checks.filter((c) => c.status === 'fail');
    const code = failed.some((c) => c.code === EXIT.unreachable) ? EXIT.unreachable : failed.length ? EXIT.refused : EXIT.ok;
    if (ctx.out.json) {
      ctx.out.document({ ok: failed.length === 0, checks: checks.map(({ code: _code, ...c }) => c) });
      return code;
    }
    const out = ctx.out;
    const mark: Record<Status, string> = { ok: out.paint('green', '✓'), warn: out.paint('yellow', '!'), fail: out.paint('red', '✗'), skip: out.paint('dim', '-') };
    const width = Math.max(...checks.map((c) => c.check.length));
    for (const c of checks) {
      out.line(`${mark[c.status]} ${c.check.padEnd(width)}  ${c.detail}`);
      if (c.fix && c.status !== 'ok') out.line(`  ${' '.repeat(width)}  ${out.paint('dim', `fix: ${c.fix}`)}`);
    }
    const warned = checks.filter((c) => c.status === 'warn').length;
    out.line();
    out.line(failed.length ? out.paint('red', `${failed.length} problem${failed.length === 1 ? '' : 's'} to fix.`) : out.paint('green', `All good${warned ? ` (${warned} warning${warned === 1 ? '' : 's'})` : ''}.`));
    return code;
  },
};

function okValue<T>(result: Result<object> | undefined): T | undefined {
  return result?.ok ? (result.value as T) : undefined;
}

async function credentialCheck(ctx: Context, receiver: ReceiverInfo | undefined, query: QueryInfo | undefined): Promise<Check> {
  const credential = ctx.config.credential();
  const required = receiver?.auth_required || query?.auth_required;
  const pemRequired = receiver?.pem_auth_required === true;
  if (!credential) {
    if (required || pemRequired) {
      return {
        check: 'credential',
        status: 'fail',
        detail: `none given, and the services need one${pemRequired ? ' (also for sending PEMs)' : ' (reading, tags; sending PEMs does not)'}`,
        fix: 'set RK_USER_AUTH (personal, from the RK Dashboard) or RK_PUC_AUTH (machine, from your RK admin)',
      };
    }
    return { check: 'credential', status: receiver || query ? 'ok' : 'skip', detail: receiver || query ? 'none given, none needed' : 'unknown without the services' };
  }
  const name = `${credential.kind === 'user' ? 'user' : 'PUC'} credential from ${credential.from}`;
  if (!ctx.config.url('query')) return { check: 'credential', status: 'skip', detail: `${name}; not tried without the Query service` };
  const tried = await during(ctx.out.stderr, 'Trying the credential...', ctx.config.query().getTagsCount());
  if (tried.ok) return { check: 'credential', status: 'ok', detail: `${name} is accepted${required ? '' : ' (none is needed here)'}` };
  if (tried.error.kind === 'http') {
    return { check: 'credential', status: 'fail', detail: `${name} is refused: ${tried.error.message}`, fix: 'check the token; get a new one from the RK Dashboard or your RK admin' };
  }
  return { check: 'credential', status: 'skip', detail: `${name}; could not be tried (${tried.error.message})` };
}

function clockCheck(skews: number[]): Check {
  if (!skews.length) return { check: 'clock', status: 'skip', detail: 'no service sent its time (Date header)' };
  const worst = skews.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a));
  const detail = `${Math.abs(worst) < 1 ? 'within 1 s of' : `${Math.abs(worst).toFixed(0)} s ${worst > 0 ? 'behind' : 'ahead of'}`} the server's clock`;
  if (Math.abs(worst) <= MAX_SKEW_S) return { check: 'clock', status: 'ok', detail };
  return { check: 'clock', status: 'warn', detail, fix: 'sync this machine\'s clock (NTP): PEM times (TimestampClient) come from it' };
}

function graphCheck(graph: GraphInfo | undefined): Check {
  if (!graph) return { check: 'graph sync', status: 'skip', detail: 'unknown without the Graph Builder' };
  const loopErrors = [graph.loop_state_should_rebuild, graph.loop_state_should_flush].filter((s) => s !== undefined && s !== 'True' && s !== 'False');
  if (loopErrors.length) {
    return { check: 'graph sync', status: 'fail', detail: `the Graph Builder loop reports: ${loopErrors.join('; ')}`, fix: 'look at the Graph Builder logs; a rebuild (RKAdmin.graphRebuild) starts the graph again' };
  }
  const pems = Number.parseFloat(String(graph.pems_sync_pct));
  const artifacts = Number.parseFloat(String(graph.artifacts_sync_pct));
  const detail = `${graph.neo4j_pems_count}/${graph.pg_pems_count} PEMs (${graph.pems_sync_pct}%) and ${graph.neo4j_artifacts_count}/${graph.pg_artifacts_count} artifacts (${graph.artifacts_sync_pct}%) in the graph`;
  if (pems >= 100 && artifacts >= 100) return { check: 'graph sync', status: 'ok', detail };
  return {
    check: 'graph sync',
    status: 'warn',
    detail,
    fix: `lineage answers miss what is not in the graph yet; the loop runs every ${graph.loop_iteration_interval} s, or flush it (RKAdmin.graphFlush)`,
  };
}
