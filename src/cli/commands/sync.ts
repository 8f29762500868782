import { ReplicaEngine } from '../../lineage/index.js';
import { stringFlag, type Command } from '../command.js';
import { failWith, UsageError } from '../exit.js';

/**
 * `rk sync --dir <d>`: brings the replica lineage engine's copy on disk up to date from the Query
 * service (the first run copies every PEM, later runs only what arrived since; a run that stopped
 * continues where it was), so `--engine replica --dir <d>` answers from it.
 */
export const sync: Command = {
  name: 'sync',
  summary: "copy the Query service's PEMs to a local replica (incremental) for --engine replica",
  usage: 'sync --dir <dir>',
  description:
    'Syncs the local lineage replica in <dir> (or RK_LINEAGE_DIR) from the Query service: PEMs, their artifact links and the tags, in an embedded database. The first run copies everything and can be stopped and run again to continue; later runs read only what arrived since the last one.',
  options: {
    dir: { type: 'string', value: '<dir>', description: "the replica's directory (or RK_LINEAGE_DIR)" },
  },
  services: ['query'],
  positionals: { min: 0, max: 0 },
  examples: ['rk sync --dir .rk-lineage', 'rk lineage <pem-id> --engine replica --dir .rk-lineage'],
  async run(ctx) {
    const dir = stringFlag(ctx.values, 'dir') ?? ctx.env.RK_LINEAGE_DIR;
    if (!dir) throw new UsageError('rk sync needs a directory', 'pass --dir <dir> or set RK_LINEAGE_DIR');
    const opened = await ReplicaEngine.open({ dir, source: ctx.config.query(), sync: false });
    if (!opened.ok) failWith(opened.error);
    const replica = opened.value;
    try {
      const synced = await replica.sync({ onProgress: (p) => ctx.verbose(`${p.phase}: ${p.read} PEMs read, ${p.added} new, ${p.pages} pages`) });
      if (!synced.ok) failWith(synced.error);
      const report = synced.value;
      if (ctx.out.json) {
        ctx.out.document({ dir, ...report });
        return;
      }
      ctx.out.pairs([
        ['replica', dir],
        ['pass', report.resumed ? `${report.phase} (continued at page ${report.resumedAtPage})` : report.phase],
        ['read', String(report.read)],
        ['new', String(report.added)],
        ['PEMs', String(report.size)],
        ['tags', report.tags === null ? 'not read' : String(report.tags)],
        ['watermark', report.watermark ?? 'none (read in full each sync)'],
        ['took', `${Math.round(report.durationMs)} ms`],
      ]);
    } finally {
      await replica.close();
    }
  },
};
