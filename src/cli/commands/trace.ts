import { pemsOfTrace } from '../../bridges/index.js';
import { RKLineage } from '../../lineage/index.js';
import type { Context } from '../command.js';
import { CliError, EXIT, failWith } from '../exit.js';

/**
 * `rk explain --trace <trace-id>`: the PEMs stamped with that OpenTelemetry trace (RKClient with
 * `traceContext: true`), oldest first, and why the newest of them happened.
 */
export async function explainTrace(ctx: Context, traceId: string): Promise<void> {
  const query = ctx.config.query();
  const found = await pemsOfTrace(query, traceId);
  if (!found.ok) failWith(found.error, ctx.config.settingFor('query'));
  const pems = found.value;
  if (!pems.length) {
    throw new CliError(EXIT.refused, `no PEM carries trace ${traceId}`, 'PEMs carry their trace when the emitting RKClient has traceContext: true and a span is active in preparePem');
  }
  const lineage = new RKLineage(query);
  const loaded = await lineage.load();
  if (!loaded.ok) failWith(loaded.error, ctx.config.settingFor('query'));
  const newest = pems.at(-1)!;
  const { lineage: _walk, ...why } = lineage.explain({ pem: newest.ID });
  const out = ctx.out;
  if (out.json) {
    out.document({ traceId, pems: pems.map((p) => ({ ID: p.ID, Type: p.Type, Emitter: p.Emitter, TimestampClient: p.TimestampClient, traceparent: (p.Properties as { traceparent?: string }).traceparent })), explanation: why });
    return;
  }
  out.line(`Trace ${out.paint('bold', traceId)}: ${pems.length} PEM${pems.length === 1 ? '' : 's'}, oldest first`);
  for (const p of pems) out.line(`  ${out.paint('bold', p.Type)} ${out.paint('cyan', p.ID)}  ${p.Emitter}  ${out.paint('dim', p.TimestampClient)}`);
  out.line();
  out.line(`Why ${newest.Type} ${newest.ID}? Steps, oldest first:`);
  why.steps.forEach((step, i) => {
    out.line(`  ${String(i + 1).padStart(2)}. ${out.paint('bold', step.type)} ${out.paint('cyan', step.pem)}  ${step.emitter}  ${out.paint('dim', step.time)}`);
    out.line(`      uses ${step.uses.map((u) => u.name).join(', ') || '-'}; produces ${step.produces.join(', ') || '-'}`);
  });
  if (why.sources.length) out.line(`Data sources: ${why.sources.map((s) => s.name).join(', ')}`);
}
