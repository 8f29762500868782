import { RKNotFoundError } from '../../public.js';
import type { Command } from '../command.js';
import { CliError, EXIT, failWith } from '../exit.js';
import { humanTime } from '../output.js';
import { during } from '../progress.js';
import { parsePemId, parseTagRef } from '../targets.js';
import { tags } from './lists.js';

export const tagSet: Command = {
  name: 'tag set',
  summary: 'point a tag (namespace/name) at a PEM',
  usage: 'tag set <ns/name> <pem-id>',
  description: 'Moves the tag to the PEM, creating it when new. A name without a namespace uses the emitter id (--emitter, RK_EMITTER) as namespace.',
  services: ['receiver'],
  emits: true,
  positionals: { min: 2, max: 2 },
  examples: ['rk tag set churn-pipeline/production 0192f3c4a5b6c7d8e9f0a1b2c3d4e5f6'],
  async run(ctx) {
    const { namespace, name } = parseTagRef(ctx.positionals[0]!, ctx.config.emitter);
    const id = parsePemId(ctx.positionals[1]!);
    ctx.verbose(`POST tag ${namespace}/${name} -> ${id} to ${ctx.config.url('receiver')}`);
    const result = await during(ctx.out.stderr, 'Setting the tag...', ctx.config.client().setTag(namespace, name, id));
    if (!result.ok) {
      if (result.error instanceof RKNotFoundError && !result.error.wrongUrl) {
        throw new CliError(EXIT.refused, result.error.message, `no PEM ${id} is stored; "rk pems" lists them`);
      }
      failWith(result.error, ctx.config.settingFor('receiver'));
    }
    if (ctx.out.json) ctx.out.document(result.value);
    // The Receiver says when only in our rich replies; the reference's empty reply leaves it out.
    else {
      const when = result.value.UpdatedAt === undefined ? '' : ` at ${humanTime(result.value.UpdatedAt)}`;
      ctx.out.line(`Tagged ${ctx.out.paint('bold', `${result.value.NamespaceID}/${result.value.Tag}`)} -> ${result.value.EventID}${when}`);
    }
  },
};

export const tagGet: Command = {
  name: 'tag get',
  summary: 'the PEM a tag points at',
  usage: 'tag get <ns/name>',
  description: 'Prints the PEM ID the tag points at (just the ID, for scripts). Exit 1 when the tag is not set.',
  services: ['query'],
  positionals: { min: 1, max: 1 },
  examples: ['rk tag get churn-pipeline/production', 'rk pem $(rk tag get churn-pipeline/production)'],
  async run(ctx) {
    const { namespace, name } = parseTagRef(ctx.positionals[0]!, ctx.config.emitter);
    ctx.verbose(`GET tag ${namespace}/${name} from ${ctx.config.url('query')}`);
    const result = await during(ctx.out.stderr, 'Reading the tag...', ctx.config.query().getTag(namespace, name));
    if (!result.ok) failWith(result.error, ctx.config.settingFor('query'));
    if (result.value === null) throw new CliError(EXIT.refused, `no tag ${namespace}/${name}`, '"rk tags" lists the tags; "rk tag set" sets one');
    if (ctx.out.json) ctx.out.document({ namespace, tag: name, pemId: result.value });
    else ctx.out.line(result.value);
  },
};

export const tagLs: Command = { ...tags, name: 'tag ls', summary: 'every tag (the same as rk tags)', usage: tags.usage.replace(/^tags/, 'tag ls') };
