import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { OutboxControl, RKClient } from '../../public.js';
import { stringFlag, type Command, type Context, type OptionSpec } from '../command.js';
import { CliError, EXIT, UsageError } from '../exit.js';
import { clip, humanTime } from '../output.js';
import { wholeFlag } from '../paging.js';
import { during } from '../progress.js';

/**
 * `rk outbox`: the durable outbox a service keeps (`outbox: { dir }`), through the library's
 * OutboxControl. `ls` and `purge` never send: their client's fetch refuses every request, so the
 * outbox's drainer only finds the Receiver "down" and leaves every entry where it is.
 */

const DIR: Record<string, OptionSpec> = { dir: { type: 'string', value: '<dir>', description: 'the outbox folder (the dir given to outbox: { dir })' } };

const neverSend: typeof fetch = () => Promise.reject(Object.assign(new Error('rk outbox ls/purge sends nothing'), { code: 'ECONNREFUSED' }));

async function openOutbox(ctx: Context, options: { send: boolean }): Promise<{ client: RKClient; outbox: OutboxControl }> {
  const given = stringFlag(ctx.values, 'dir');
  if (given === undefined) throw new UsageError('--dir <dir> is required', 'give the folder the service was configured with: outbox: { dir }');
  const dir = resolve(given);
  const found = await stat(dir).catch(() => undefined);
  if (!found?.isDirectory()) throw new UsageError(`no outbox folder at ${dir}`, 'check --dir');
  const client = options.send
    ? ctx.config.client({ outbox: { dir } })
    : ctx.config.clientFor(ctx.config.url('receiver') ?? 'http://127.0.0.1:9/', { outbox: { dir }, fetch: neverSend, retry: false });
  const outbox = client.outbox;
  if (!outbox) throw new CliError(EXIT.refused, `could not open the outbox at ${dir}`);
  return { client, outbox };
}

/** Closes at once: nothing is waited for, entries stay on disk. */
async function closeNow(client: RKClient): Promise<void> {
  await client.close({ timeoutMs: 0 });
}

export const outboxLs: Command = {
  name: 'outbox ls',
  summary: "an outbox's waiting entries and dead letters",
  usage: 'outbox ls --dir <dir>',
  description: 'Counts the PEMs waiting to be sent and lists the dead letters (PEMs the outbox gave up on) with the reason. Sends nothing.',
  options: DIR,
  examples: ['rk outbox ls --dir /var/lib/my-service/rk-outbox'],
  async run(ctx) {
    const { client, outbox } = await openOutbox(ctx, { send: false });
    try {
      const [waiting, dead] = await Promise.all([outbox.size(), outbox.deadLetters()]);
      if (ctx.out.json) {
        ctx.out.document({ dir: outbox.dir, waiting, dead });
        return;
      }
      const out = ctx.out;
      out.line(`Outbox ${out.paint('bold', outbox.dir)}: ${waiting} PEM${waiting === 1 ? '' : 's'} waiting, ${dead.length} dead letter${dead.length === 1 ? '' : 's'}`);
      if (dead.length) {
        out.line();
        out.table(
          [{ title: 'FILE', style: 'cyan' }, { title: 'REASON', style: 'yellow' }, { title: 'STATUS', align: 'right' }, { title: 'DEAD SINCE (UTC)' }, { title: 'MESSAGE' }],
          dead.map((d) => [d.file, d.reason, d.status === undefined ? '-' : String(d.status), d.deadAt ? humanTime(d.deadAt).replace(' UTC', '') : '-', clip(d.message, 100)]),
        );
        out.line();
        out.line(out.paint('dim', `Send them again: rk outbox replay --dir ${given(ctx)} [file...]; delete: rk outbox purge --dir ${given(ctx)} <file...> | --yes`));
      }
    } finally {
      await closeNow(client);
    }
  },
};

export const outboxReplay: Command = {
  name: 'outbox replay',
  summary: 'move dead letters back into the outbox and send them',
  usage: 'outbox replay --dir <dir> [<file>...] [--wait <s>]',
  description:
    'Moves the named dead letters (all without names) back into the outbox. With a Receiver configured they are sent now, waiting up to --wait seconds; otherwise the next client using the outbox sends them.',
  options: { ...DIR, wait: { type: 'string', value: '<s>', description: 'seconds to wait for delivery (default 30)' } },
  services: ['receiver'],
  positionals: { min: 0, max: Number.POSITIVE_INFINITY },
  examples: ['rk outbox replay --dir ./rk-outbox', 'rk outbox replay --dir ./rk-outbox 000001764280000123-0000004242-00000007-0192f3c4a5b6c7d8e9f0a1b2c3d4e5f6.pem'],
  async run(ctx) {
    const send = ctx.config.url('receiver') !== undefined;
    const waitS = wholeFlag(ctx, 'wait', 0) ?? 30;
    const { client, outbox } = await openOutbox(ctx, { send });
    try {
      const moved = await outbox.replay(ctx.positionals.length ? ctx.positionals : undefined);
      if (ctx.positionals.length && moved < ctx.positionals.length) {
        ctx.out.warn(`${ctx.positionals.length - moved} of the named files are not dead letters in ${outbox.dir}`);
      }
      let report: Awaited<ReturnType<RKClient['flush']>> | undefined;
      if (send && moved) report = await during(ctx.out.stderr, `Sending ${moved} PEM${moved === 1 ? '' : 's'}...`, client.flush({ timeoutMs: waitS * 1000 }));
      const left = await outbox.size();
      const dead = (await outbox.deadLetters()).length;
      if (ctx.out.json) {
        ctx.out.document({ dir: outbox.dir, replayed: moved, sent: send, waiting: left, dead });
      } else {
        ctx.out.line(`Replayed ${moved} dead letter${moved === 1 ? '' : 's'} from ${outbox.dir}.`);
        if (!send) ctx.out.line(ctx.out.paint('dim', 'No Receiver configured: the next client using this outbox sends them (or pass --receiver / set RK_RECEIVER).'));
        else ctx.out.line(`${left} waiting, ${dead} dead letter${dead === 1 ? '' : 's'}${report?.timedOut ? ` (stopped waiting after ${waitS} s)` : ''}.`);
      }
      if (send && moved && left > 0) return EXIT.refused;
    } finally {
      await closeNow(client);
    }
  },
};

export const outboxPurge: Command = {
  name: 'outbox purge',
  summary: 'delete dead letters',
  usage: 'outbox purge --dir <dir> (<file>... | --yes)',
  description: 'Deletes the named dead letters, or with --yes every dead letter. Waiting entries are never touched. Sends nothing.',
  options: { ...DIR, yes: { type: 'boolean', description: 'delete every dead letter' } },
  positionals: { min: 0, max: Number.POSITIVE_INFINITY },
  examples: ['rk outbox purge --dir ./rk-outbox --yes'],
  async run(ctx) {
    if (!ctx.positionals.length && ctx.values.yes !== true) throw new UsageError('name the dead letters to delete, or pass --yes to delete them all', '"rk outbox ls --dir <dir>" lists them');
    const { client, outbox } = await openOutbox(ctx, { send: false });
    try {
      const purged = await outbox.purge(ctx.positionals.length ? ctx.positionals : undefined);
      if (ctx.out.json) ctx.out.document({ dir: outbox.dir, purged });
      else ctx.out.line(`Deleted ${purged} dead letter${purged === 1 ? '' : 's'} from ${outbox.dir}.`);
    } finally {
      await closeNow(client);
    }
  },
};

function given(ctx: Context): string {
  return stringFlag(ctx.values, 'dir') ?? '<dir>';
}
