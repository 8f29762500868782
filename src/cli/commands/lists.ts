import type { Artifact, ArtifactFilters, ArtifactListOptions, ArtifactSource, PemFilters, PemListOptions, StoredPem, TagRecord } from '../../public.js';
import { RKNotFoundError } from '../../public.js';
import { stringFlag, type Command, type Context, type OptionSpec } from '../command.js';
import { CliError, EXIT, failWith, UsageError } from '../exit.js';
import { clip, humanTime, parseRkTime, relativeTime } from '../output.js';
import { PAGING_OPTIONS, runListing, sortOptions, wholeFlag } from '../paging.js';
import { during } from '../progress.js';
import { parsePemId } from '../targets.js';

/** Flag -> PEM field; typed against the library's PemFilters, so a field the spec drops fails to compile. */
const PEM_FILTER_FLAGS = {
  type: 'Type',
  emitter: 'Emitter',
  predecessor: 'Predecessor',
  tag: 'Tag',
  namespace: 'TagNamespace',
  id: 'ID',
  'sent-at': 'TimestampClient',
} as const satisfies Record<string, keyof PemFilters>;

const PEM_FILTER_OPTIONS: Record<string, OptionSpec> = {
  type: { type: 'string', value: '<type>', description: 'only PEMs of this Type' },
  emitter: { type: 'string', value: '<id>', description: 'only PEMs from this Emitter' },
  predecessor: { type: 'string', value: '<pem-id>', description: 'only PEMs that follow this PEM' },
  tag: { type: 'string', value: '<name>', description: 'only PEMs sent with this Tag name' },
  namespace: { type: 'string', value: '<ns>', description: 'only PEMs sent with this TagNamespace' },
  id: { type: 'string', value: '<pem-id>', description: 'only the PEM with this ID' },
  'sent-at': { type: 'string', value: '<time>', description: 'only PEMs with this TimestampClient (YYYY-MM-DD HH:MM:SS)' },
};

/** A time cell: `2026-12-01 08:45:33 (3 min ago)`, UTC. */
function timeCell(text: string | null | undefined): string {
  const date = parseRkTime(text);
  return date ? `${date.toISOString().slice(0, 19).replace('T', ' ')} (${relativeTime(date)})` : (text ?? '-');
}

function pemFilters(ctx: Context): PemFilters {
  const filters: Record<string, string> = {};
  for (const [flag, field] of Object.entries(PEM_FILTER_FLAGS)) {
    const value = stringFlag(ctx.values, flag);
    if (value !== undefined) filters[field] = field === 'ID' || field === 'Predecessor' ? parsePemId(value) : value;
  }
  return filters as PemFilters;
}

export const pems: Command = {
  name: 'pems',
  summary: 'list PEMs, with filters, sorting and paging',
  usage: 'pems [--type <t>] [--emitter <e>] [--tag <name>] [--namespace <ns>] [--sort <field> [--desc]] [--limit <n>] [--page <n> | --all]',
  description:
    'Filters match exactly and combine. --sort takes a PEM field the Query service sorts on (ID, Type, Emitter, TimestampClient, TimestampReceived, Tag, TagNamespace); an unknown one is refused by the service.',
  options: { ...PEM_FILTER_OPTIONS, ...PAGING_OPTIONS },
  services: ['query'],
  examples: ['rk pems --emitter churn-pipeline --sort TimestampReceived --desc --limit 5', 'rk pems --type train --all --json | jq -r .ID'],
  async run(ctx) {
    const filters = pemFilters(ctx);
    const sort = sortOptions<NonNullable<PemListOptions['sortField']>>(ctx);
    const query = ctx.config.query();
    await runListing<StoredPem>(
      ctx,
      {
        noun: ['PEM', 'PEMs'],
        columns: [{ title: 'ID', style: 'cyan' }, { title: 'TYPE', style: 'bold' }, { title: 'EMITTER' }, { title: 'TAG' }, { title: 'SENT (UTC)' }, { title: 'USES -> PRODUCES' }],
        row: (p) => [p.ID, p.Type, p.Emitter, `${p.TagNamespace}/${p.Tag}`, timeCell(p.TimestampClient), clip(`${p.UsesArtifacts.join(', ') || '-'} -> ${p.ProducesArtifacts.join(', ') || '-'}`, 80)],
        page: (paging) => query.getPems({ ...paging, ...sort, filters }),
        count: () => query.getPemsCount(filters),
      },
      ctx.config.settingFor('query'),
    );
  },
};

export const pem: Command = {
  name: 'pem',
  summary: 'one PEM with its properties and artifacts',
  usage: 'pem <pem-id>',
  services: ['query'],
  positionals: { min: 1, max: 1 },
  examples: ['rk pem 0192f3c4a5b6c7d8e9f0a1b2c3d4e5f6', 'rk pem $(rk tag get churn-pipeline/production) --json'],
  async run(ctx) {
    const id = parsePemId(ctx.positionals[0]!);
    ctx.verbose(`GET PEM ${id} from ${ctx.config.url('query')}`);
    const result = await during(ctx.out.stderr, 'Reading the PEM...', ctx.config.query().getPem(id));
    if (!result.ok) {
      if (result.error instanceof RKNotFoundError && !result.error.wrongUrl) {
        throw new CliError(EXIT.refused, result.error.message, `no PEM ${id} is stored; "rk pems" lists them`);
      }
      failWith(result.error, ctx.config.settingFor('query'));
    }
    const p = result.value;
    if (ctx.out.json) {
      ctx.out.document(p);
      return;
    }
    const out = ctx.out;
    out.line(`${out.paint('bold', p.Type)} PEM ${out.paint('cyan', p.ID)}`);
    out.pairs([
      ['emitter', p.Emitter],
      ['predecessor', p.Predecessor ?? '-'],
      ['tag', `${p.TagNamespace}/${p.Tag}`],
      ['sent', humanTime(p.TimestampClient)],
      ['received', humanTime(p.TimestampReceived)],
      ['uses', p.UsesArtifacts.join(', ') || '-'],
      ['produces', p.ProducesArtifacts.join(', ') || '-'],
    ]);
    const properties = Object.entries(p.Properties ?? {});
    if (properties.length) {
      out.line(out.paint('dim', 'properties'));
      out.pairs(properties.map(([k, v]) => [`  ${k}`, typeof v === 'string' ? v : JSON.stringify(v)] as const));
    }
  },
};

export const artifacts: Command = {
  name: 'artifacts',
  summary: 'list artifacts, with the Name filter, sorting and paging',
  usage: 'artifacts [--name <text>] [--source sqldb|graphdb] [--sort Name|CreatedAt [--desc]] [--limit <n>] [--page <n> | --all]',
  description: '--name matches names that contain the text. --source graphdb reads the lineage graph instead of the tables.',
  options: {
    name: { type: 'string', value: '<text>', description: 'only artifacts whose Name contains this' },
    source: { type: 'string', value: '<sqldb|graphdb>', description: 'read the tables (default) or the lineage graph' },
    ...PAGING_OPTIONS,
  },
  services: ['query'],
  examples: ['rk artifacts --name model/ --sort CreatedAt --desc', 'rk artifacts --source graphdb --all --json'],
  async run(ctx) {
    const name = stringFlag(ctx.values, 'name');
    const source = stringFlag(ctx.values, 'source') ?? 'sqldb';
    if (source !== 'sqldb' && source !== 'graphdb') throw new UsageError(`--source must be sqldb or graphdb, got ${JSON.stringify(source)}`);
    const filters: ArtifactFilters = name === undefined ? {} : { Name: name };
    const sort = sortOptions<NonNullable<ArtifactListOptions['sortField']>>(ctx);
    const query = ctx.config.query();
    await runListing<Artifact>(
      ctx,
      {
        noun: ['artifact', 'artifacts'],
        columns: [{ title: 'NAME', style: 'cyan' }, { title: 'CREATED (UTC)' }, { title: 'PROPERTIES' }],
        row: (a) => [a.Name, timeCell(a.CreatedAt), clip(Object.entries(a.Properties ?? {}).map(([k, v]) => `${k}=${v}`).join(' ') || '-', 100)],
        page: (paging) => query.getArtifacts({ source: source as ArtifactSource, ...paging, ...sort, filters }),
        count: () => query.getArtifactsCount({ source: source as ArtifactSource, filters }),
      },
      ctx.config.settingFor('query'),
    );
  },
};

export const tags: Command = {
  name: 'tags',
  summary: 'list tags and the PEMs they point at',
  usage: 'tags [--namespace <ns>] [--pem <pem-id>] [--limit <n>]',
  description: 'The Query service returns every tag at once; --namespace and --pem narrow the list here.',
  options: {
    namespace: { type: 'string', value: '<ns>', description: 'only tags in this namespace' },
    pem: { type: 'string', value: '<pem-id>', description: 'only tags pointing at this PEM' },
    limit: { type: 'string', value: '<n>', description: 'show at most this many' },
  },
  services: ['query'],
  examples: ['rk tags --namespace churn-pipeline', 'rk tags --json'],
  async run(ctx) {
    const namespace = stringFlag(ctx.values, 'namespace');
    const pemFilter = stringFlag(ctx.values, 'pem');
    const pemId = pemFilter === undefined ? undefined : parsePemId(pemFilter);
    const limit = wholeFlag(ctx, 'limit', 1);
    ctx.verbose(`GET tags from ${ctx.config.url('query')}`);
    const result = await during(ctx.out.stderr, 'Listing tags...', ctx.config.query().getTags());
    if (!result.ok) failWith(result.error, ctx.config.settingFor('query'));
    const selected = result.value.filter((t: TagRecord) => (namespace === undefined || t.NamespaceID === namespace) && (pemId === undefined || t.EventID === pemId));
    const shown = limit === undefined ? selected : selected.slice(0, limit);
    if (ctx.out.json) {
      ctx.out.document(shown);
      return;
    }
    if (!shown.length) {
      ctx.out.line('No tags match.');
      return;
    }
    ctx.out.table(
      [{ title: 'TAG', style: 'bold' }, { title: 'PEM', style: 'cyan' }, { title: 'UPDATED (UTC)' }],
      shown.map((t) => [`${t.NamespaceID}/${t.Tag}`, t.EventID, timeCell(t.UpdatedAt)]),
    );
    if (shown.length < selected.length) ctx.out.line(ctx.out.paint('dim', `${shown.length} of ${selected.length} tags`));
  },
};
