import { readFile } from 'node:fs/promises';
import type { ArtifactProperties, Pem, PemPayload, PemProperties, PreparePemOptions, RKClient } from '../../public.js';
import { listFlag, stringFlag, type Command, type Context } from '../command.js';
import { failWith, UsageError } from '../exit.js';
import { during } from '../progress.js';
import { parsePemId, parseTagRef } from '../targets.js';

/**
 * `rk send`: a PEM from a JSON file (or `-` for stdin), or built from flags. A JSON object with
 * an `ID` is sent as it is (every field checked by the library); one without is prepared like
 * `preparePem` does (new ID, current time) from the fields it has. An array sends each.
 */
export const send: Command = {
  name: 'send',
  summary: 'send a PEM from a JSON file or stdin, or built from flags',
  usage: 'send [<file.json> | -] [--type <type>] [--uses <name[=key=value]>]... [--produces ...]... [--predecessor <id>] [--tag <ns/name>]',
  description:
    'With a file (or - for stdin) the JSON is a PEM, or an array of PEMs. A PEM with an ID is sent exactly as written; one without an ID gets a new ID and the current time, its Emitter from --emitter. ' +
    'Without a file the PEM is built from the flags: repeat --uses/--produces with the same name to give an artifact several properties. --property values that parse as JSON (10, true, [1]) are sent as JSON, others as text.',
  options: {
    type: { type: 'string', value: '<type>', description: 'the event type (ingest, train, deploy, ...)' },
    uses: { type: 'string', multiple: true, value: '<name[=k=v]>', description: 'an artifact the event used, with an optional property' },
    produces: { type: 'string', multiple: true, value: '<name[=k=v]>', description: 'an artifact the event produced, with an optional property' },
    predecessor: { type: 'string', value: '<pem-id>', description: 'the PEM this event follows' },
    property: { type: 'string', multiple: true, value: '<key=value>', description: "a property of the event" },
    tag: { type: 'string', value: '<ns/name>', description: 'the tag moved to this PEM (default <emitter>/latest; "name" alone uses the emitter as namespace)' },
    'dry-run': { type: 'boolean', description: 'print the PEM JSON and send nothing' },
  },
  services: ['receiver'],
  emits: true,
  positionals: { min: 0, max: 1 },
  examples: [
    'rk send --type train --uses dataset/customers-v1 --produces model/churn-v2=uri=s3://models/churn/v2.bin --tag churn-pipeline/candidate',
    'rk send pem.json',
    "echo '{\"Type\": \"ingest\", \"UsesArtifacts\": [{\"Name\": \"raw.csv\"}]}' | rk send -",
  ],
  async run(ctx) {
    const file = ctx.positionals[0];
    const builtFromFlags = ['type', 'uses', 'produces', 'predecessor', 'property', 'tag'].filter((f) => ctx.values[f] !== undefined);
    if (file !== undefined && builtFromFlags.length) {
      throw new UsageError(`give a file or flags, not both (--${builtFromFlags[0]} with ${file})`);
    }
    const dryRun = ctx.values['dry-run'] === true;
    // A dry run needs no Receiver: a client on a placeholder URL only prepares.
    const client = dryRun && !ctx.config.url('receiver') ? null : ctx.config.client();
    const prepare = preparer(ctx, client);
    const pems = file === undefined ? [fromFlags(ctx, prepare)] : (await readPems(ctx, file)).map((p, i) => fromJson(p, i, prepare));
    if (dryRun) {
      if (ctx.out.json || pems.length > 1) ctx.out.document(pems.length === 1 ? pems[0] : pems);
      else ctx.out.document(pems[0]);
      return;
    }
    const sent: { ID: string; Type: string; status: string }[] = [];
    for (const pem of pems) {
      ctx.verbose(`POST PEM ${pem.ID} (${pem.Type}) to ${ctx.config.url('receiver')}`);
      const result = await during(ctx.out.stderr, `Sending ${pem.Type} PEM ${pem.ID}...`, client!.sendPem(pem));
      if (!result.ok) {
        if (sent.length) ctx.out.note(`${sent.length} PEM${sent.length === 1 ? ' was' : 's were'} sent before this failure: ${sent.map((s) => s.ID).join(', ')}`);
        failWith(result.error, ctx.config.settingFor('receiver'));
      }
      sent.push({ ID: pem.ID, Type: pem.Type, status: result.value.status });
      if (!ctx.out.json) {
        const status = result.value.status === 'accepted' ? ctx.out.paint('green', 'accepted') : ctx.out.paint('yellow', result.value.status);
        ctx.out.line(`Sent ${pem.Type} PEM ${ctx.out.paint('bold', pem.ID)}: ${status} (tag ${pem.TagNamespace}/${pem.Tag})`);
      }
    }
    if (ctx.out.json) ctx.out.document(sent.length === 1 ? sent[0] : sent);
  },
};

type Prepare = (type: string, options: PreparePemOptions | undefined) => Pem;

function preparer(ctx: Context, client: RKClient | null): Prepare {
  let maker = client;
  return (type, options) => {
    try {
      // Without a client (a dry run with no Receiver), one on a placeholder URL prepares offline.
      maker ??= ctx.config.clientFor('http://127.0.0.1:9/');
      return maker.preparePem(type, options);
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
  };
}

function fromFlags(ctx: Context, prepare: Prepare): Pem {
  const type = stringFlag(ctx.values, 'type');
  if (type === undefined) throw new UsageError('rk send needs --type (or a JSON file)', 'for example: rk send --type train --uses dataset-a --produces model-a');
  const tag = stringFlag(ctx.values, 'tag');
  const predecessor = stringFlag(ctx.values, 'predecessor');
  const { namespace, name } = tag === undefined ? { namespace: undefined, name: undefined } : parseTagRef(tag, ctx.config.emitter);
  const pem = prepare(type, {
    properties: parseProperties(listFlag(ctx.values, 'property')),
    ...(predecessor !== undefined ? { predecessor: parsePemId(predecessor, 'predecessor PEM ID') } : {}),
    ...(name !== undefined ? { tagName: name, tagNamespace: namespace } : {}),
  });
  try {
    for (const [artifactName, properties] of parseArtifacts(listFlag(ctx.values, 'uses'), '--uses')) pem.usesArtifact({ Name: artifactName, Properties: properties, CreatedAt: null });
    for (const [artifactName, properties] of parseArtifacts(listFlag(ctx.values, 'produces'), '--produces')) pem.producesArtifact({ Name: artifactName, Properties: properties, CreatedAt: null });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  return pem;
}

/** `name`, `name=key=value`; the same name again adds properties to the same artifact. */
export function parseArtifacts(specs: string[], flag: string): Map<string, ArtifactProperties> {
  const artifacts = new Map<string, ArtifactProperties>();
  for (const spec of specs) {
    const first = spec.indexOf('=');
    const name = first === -1 ? spec : spec.slice(0, first);
    if (!name) throw new UsageError(`${flag} ${JSON.stringify(spec)} has no artifact name`, `write ${flag} name or ${flag} name=key=value`);
    const properties = artifacts.get(name) ?? {};
    if (first !== -1) {
      const rest = spec.slice(first + 1);
      const second = rest.indexOf('=');
      if (second <= 0) throw new UsageError(`${flag} ${JSON.stringify(spec)}: a property needs key=value`, `write ${flag} ${name}=key=value`);
      properties[rest.slice(0, second)] = rest.slice(second + 1);
    }
    artifacts.set(name, properties);
  }
  return artifacts;
}

function parseProperties(specs: string[]): PemProperties {
  const properties: Record<string, unknown> = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new UsageError(`--property ${JSON.stringify(spec)} needs key=value`);
    const text = spec.slice(eq + 1);
    let value: unknown = text;
    try {
      value = JSON.parse(text);
    } catch {
      // Plain text.
    }
    properties[spec.slice(0, eq)] = value;
  }
  return properties as PemProperties;
}

async function readPems(ctx: Context, file: string): Promise<unknown[]> {
  let text: string;
  if (file === '-') {
    if (ctx.stdin.isTTY) throw new UsageError('rk send - reads a PEM from stdin, and stdin is a terminal', 'pipe the JSON in, or give a file');
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    text = Buffer.concat(chunks).toString('utf8');
  } else {
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file === '-' ? 'stdin' : file} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  if (!list.length) throw new UsageError(`${file === '-' ? 'stdin' : file} holds an empty array: no PEM to send`);
  return list;
}

function fromJson(value: unknown, index: number, prepare: Prepare): Pem | PemPayload {
  const where = index ? ` (PEM ${index})` : '';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`a PEM must be a JSON object${where}`);
  const fields = value as Record<string, unknown>;
  // A complete PEM: the library checks every field when it is sent.
  if (fields.ID !== undefined) return fields as unknown as PemPayload;
  if (typeof fields.Type !== 'string') throw new UsageError(`a PEM without an ID needs at least "Type"${where}`);
  const tagName = typeof fields.Tag === 'string' && fields.Tag ? fields.Tag : undefined;
  const tagNamespace = typeof fields.TagNamespace === 'string' && fields.TagNamespace ? fields.TagNamespace : undefined;
  const pem = prepare(fields.Type, {
    ...(fields.Predecessor ? { predecessor: String(fields.Predecessor) } : {}),
    ...(fields.Properties !== undefined ? { properties: fields.Properties as PemProperties } : {}),
    ...(tagName ? { tagName } : {}),
    ...(tagNamespace ? { tagNamespace } : {}),
  });
  try {
    for (const a of asArtifacts(fields.UsesArtifacts, 'UsesArtifacts')) pem.usesArtifact(a);
    for (const a of asArtifacts(fields.ProducesArtifacts, 'ProducesArtifacts')) pem.producesArtifact(a);
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}${where}`);
  }
  return pem;
}

/** Artifacts as objects, or as bare names. */
function asArtifacts(value: unknown, field: string): { Name: string; Properties: ArtifactProperties; CreatedAt: null }[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new UsageError(`${field} must be an array of artifacts or names`);
  return value.map((item) => {
    if (typeof item === 'string') return { Name: item, Properties: {}, CreatedAt: null };
    const a = (item ?? {}) as { Name?: unknown; Properties?: unknown };
    return { Name: a.Name as string, Properties: (a.Properties ?? {}) as ArtifactProperties, CreatedAt: null };
  });
}
