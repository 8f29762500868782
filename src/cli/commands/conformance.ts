import type { Command } from '../command.js';
import { stringFlag } from '../command.js';
import { EXIT, UsageError } from '../exit.js';
import { visibleLength, type Column, type Output } from '../output.js';
import { during } from '../progress.js';
import type { ConformanceReport, OperationReport } from '../../conformance/index.js';

/**
 * `rk conformance`: a live Record Keeper against the specs. Prints a table per operation (ok,
 * drift with the JSON path and what differs, skipped with why), separates drift that breaks this
 * client from drift that does not, and says what to report. Exit 0 when nothing drifts, 1 when
 * something does, 3 when no service answered at all. The engine (and Ajv) load only when it runs.
 */

const ISSUES = 'https://github.com/recordkeeper/recordkeeper-client/issues';

export const conformance: Command = {
  name: 'conformance',
  summary: "checks a live Record Keeper's replies against the specs: ok, drift (breaking or not), skipped",
  usage: 'conformance [--write] [--tag-namespace <ns>]',
  description:
    'Calls every read-only operation of the configured services and validates each reply (status, media type, headers, body) against ' +
    "the operation's documented responses, with the validator the local RK uses. --write also sends one PEM (emitter rk-conformance), " +
    'sets a tag in its own namespace and starts the verify checks; the operations that erase or rebuild are never called. ' +
    'No credential appears in the output.',
  options: {
    write: { type: 'boolean', description: 'also call the writes: send a PEM, set a tag, start the verify checks, flush the graph' },
    'tag-namespace': { type: 'string', value: '<ns>', description: 'the namespace of the tag --write sets (default rk-conformance)' },
  },
  services: ['receiver', 'query', 'graph-builder'],
  examples: ['rk conformance', 'rk conformance --write --tag-namespace conformance-ci', 'rk conformance --json > conformance.json'],
  async run(ctx) {
    const services = (['receiver', 'query', 'graph-builder'] as const).filter((s) => ctx.config.url(s) !== undefined);
    if (!services.length) {
      throw new UsageError('no service URL is configured', 'pass --receiver, --query and --graph-builder, or set RK_RECEIVER, RK_QUERY and RK_GRAPH_BUILDER');
    }
    const options = ctx.config.options();
    const { checkConformance } = await import('../../conformance/index.js');
    const report = await during(
      ctx.out.stderr,
      'Calling the services...',
      checkConformance({
        receiverUrl: ctx.config.url('receiver'),
        queryUrl: ctx.config.url('query'),
        graphBuilderUrl: ctx.config.url('graph-builder'),
        userAuth: options.userAuth,
        pucAuth: options.pucAuth,
        timeoutMs: options.timeoutMs,
        insecure: options.insecure,
        write: ctx.values.write === true,
        tagNamespace: stringFlag(ctx.values, 'tag-namespace'),
      }),
    );
    if (ctx.out.json) ctx.out.document(report);
    else print(ctx.out, report);
    if (report.counts.drift > 0) return EXIT.refused;
    const attempted = report.operations.filter((op) => op.status !== undefined || op.note?.startsWith('no reply'));
    return attempted.length > 0 && attempted.every((op) => op.status === undefined) ? EXIT.unreachable : EXIT.ok;
  },
};

function print(out: Output, report: ConformanceReport): void {
  const versions = Object.entries(report.versions).map(([service, version]) => `${service} ${version}`);
  out.line(`${out.paint('bold', 'Record Keeper')} ${versions.join(', ') || '(no version read)'}; recordkeeper-client ${report.clientVersion}${report.write ? '; with writes' : ''}`);
  out.line();
  const rows = report.operations.map((op) => [op.service, op.operationId, op.call, outcomeCell(out, op), op.status === undefined ? '' : String(op.status), op.note ?? (op.drifts.length ? `${op.drifts.length} drift${op.drifts.length === 1 ? '' : 's'}` : '')]);
  // Each operation's drifts right under its row, so a path is read beside its operation.
  const titles = ['service', 'operation', 'call', 'result', 'status', 'detail'];
  const columns: Column[] = titles.map((title) => ({ title, ...(title === 'status' ? { align: 'right' as const } : {}) }));
  const widths = titles.map((title, i) => Math.max(title.length, ...rows.map((r) => visibleLength(r[i]!))));
  out.table(columns, [titles.map((t) => out.paint('bold', t))], widths);
  report.operations.forEach((op, i) => {
    out.table(columns, [rows[i]!], widths);
    for (const drift of op.drifts) {
      const mark = drift.breaks ? out.paint('red', 'breaks this client') : out.paint('yellow', 'does not break it');
      out.line(`    ${drift.where}: ${drift.problem} (${mark})`);
    }
  });
  const { ok, drift, skipped, breaking, nonBreaking } = report.counts;
  out.line();
  out.line(`${ok} ok, ${drift} with drift (${breaking} breaking this client, ${nonBreaking} not), ${skipped} skipped.`);
  if (drift === 0) {
    out.line(out.paint('green', 'No drift: every reply checked is what the specs document.'));
    return;
  }
  out.line();
  out.line(out.paint('bold', 'What to report to the maintainers'));
  out.line(`Open an issue at ${ISSUES} titled "conformance: <service> <operation>" with:`);
  out.line(`  - the Record Keeper versions above and recordkeeper-client ${report.clientVersion};`);
  out.line('  - each drift line (operation, JSON path, what differs), or the output of rk conformance --json (it holds no credential);');
  out.line(breaking ? '  - that it breaks this client: the calls marked "breaks this client" fail with RKUnexpectedResponseError.' : '  - that nothing breaks this client: the specs document less or other than this RK answers.');
}

function outcomeCell(out: Output, op: OperationReport): string {
  if (op.outcome === 'ok') return out.paint('green', 'ok');
  if (op.outcome === 'drift') return out.paint(op.drifts.some((d) => d.breaks) ? 'red' : 'yellow', 'drift');
  return out.paint('dim', 'skipped');
}
