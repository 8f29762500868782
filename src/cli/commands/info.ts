import { RKAdmin, type Result, type RKError } from '../../public.js';
import type { Command, Context } from '../command.js';
import { SERVICE_NAMES, type Service } from '../config.js';
import { EXIT, exitCodeOf, hintFor, UsageError } from '../exit.js';
import { during } from '../progress.js';

const SERVICES: readonly Service[] = ['receiver', 'query', 'graph-builder'];

/** Reads one service's `/info` with the library; undefined when its URL is not configured. */
export async function readInfo(ctx: Context, service: Service, fetchImpl?: typeof fetch): Promise<Result<object> | undefined> {
  if (ctx.config.url(service) === undefined) return undefined;
  const extra = fetchImpl ? { fetch: fetchImpl } : {};
  ctx.verbose(`GET ${SERVICE_NAMES[service]} info from ${ctx.config.url(service)}`);
  if (service === 'receiver') {
    // A client made only to ask; it sends nothing.
    const client = ctx.config.client(extra);
    return client.getInfo();
  }
  if (service === 'query') return ctx.config.query(extra).getInfo();
  // RKAdmin needs both URLs; the Graph Builder's info needs only its own.
  const query = ctx.config.url('query') ?? ctx.config.requireUrl('graph-builder');
  return new RKAdmin(query, ctx.config.requireUrl('graph-builder'), ctx.config.options(extra)).getGraphInfo();
}

export const info: Command = {
  name: 'info',
  summary: "the three services' versions, limits and auth settings",
  usage: 'info',
  description: 'Asks each configured service for its /info and prints it. A service without a URL is listed as not configured.',
  services: SERVICES,
  examples: ['rk info', 'rk info --json | jq .receiver.pem_size_limit'],
  async run(ctx) {
    const configured = SERVICES.filter((s) => ctx.config.url(s) !== undefined);
    if (!configured.length) {
      throw new UsageError('no service URL is configured', 'pass --receiver, --query and --graph-builder, or set RK_RECEIVER, RK_QUERY and RK_GRAPH_BUILDER ("rk local" prints them)');
    }
    const results = await during(ctx.out.stderr, 'Asking the services...', Promise.all(SERVICES.map(async (s) => [s, await readInfo(ctx, s)] as const)));
    let code: number = EXIT.ok;
    const worse = (error: RKError) => {
      const c = exitCodeOf(error);
      if (c === EXIT.unreachable || code === EXIT.ok) code = c;
    };
    if (ctx.out.json) {
      const document: Record<string, unknown> = {};
      for (const [service, result] of results) {
        const key = service === 'graph-builder' ? 'graphBuilder' : service;
        if (!result) document[key] = { url: null, configured: false };
        else if (result.ok) document[key] = { url: ctx.config.url(service), ...result.value };
        else {
          worse(result.error);
          document[key] = { url: ctx.config.url(service), error: { kind: result.error.kind, message: result.error.message } };
        }
      }
      ctx.out.document(document);
      return code;
    }
    const out = ctx.out;
    results.forEach(([service, result], i) => {
      if (i) out.line();
      const url = ctx.config.url(service);
      out.line(`${out.paint('bold', SERVICE_NAMES[service])}  ${url ?? out.paint('dim', 'not configured')}`);
      if (!result) {
        const setting = ctx.config.settingFor(service);
        out.line(`  ${out.paint('dim', `pass ${setting.flag} <url> or set ${setting.env}`)}`);
        return;
      }
      if (!result.ok) {
        // The failure itself goes to stderr, with what to do.
        worse(result.error);
        out.line(`  ${out.paint('red', 'no answer (see the error)')}`);
        out.error(result.error.message, hintFor(result.error, ctx.config.settingFor(service)));
        return;
      }
      out.pairs(Object.entries(result.value).map(([k, v]) => [`  ${k}`, formatValue(v)] as const));
    });
    return code;
  },
};

function formatValue(value: unknown): string {
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
