// Generates src/generated/<api>.ts from openapi/<api>.yaml with the pinned
// openapi-typescript. check-generated.mjs reuses generateInto() so the check
// can never drift from what this script writes.
import fs from 'node:fs/promises';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { APIS, ROOT, isMain } from './apis.mjs';
import { bundledSpecs, writeFacts } from './facts.mjs';
import { describeChanges, writeOperations } from './operations.mjs';
import { writeResponses } from './responses.mjs';

export const GENERATED_DIR = path.join(ROOT, 'src', 'generated');

// Our own Redocly config, without `apis` (see the file): not the lint's
// multi-API ../redocly.yaml, which openapi-typescript's CLI would find by default
// from cwd and which makes it ignore the input and -o.
const OPENAPI_TS_CONFIG = path.join(ROOT, 'scripts', 'openapi-typescript.redocly.yaml');

// Every option that changes the output is spelled out, so a default changing
// in a future openapi-typescript cannot silently reshape the public types.
// They are the options its CLI's flags set (`--root-types` is `rootTypes`...),
// each named here with the flag a maintainer would type.
export const OPENAPI_TS_OPTIONS = {
  // --root-types: `export type Pem = components['schemas']['Pem']` etc.: the
  // client and its users name schemas directly instead of indexing `components`.
  rootTypes: true,
  // --root-types-no-schema-prefix: ...without the `Schema` prefix (`Pem`, not
  // `SchemaPem`). Non-schema components keep theirs (`ResponseNotFound`,
  // `ParameterId`). See assertNoShadowedGenerics() for the one real hazard of
  // dropping it.
  rootTypesNoSchemaPrefix: true,
  // --export-type: `type paths = {...}` rather than interfaces: no declaration
  // merging, so a stray global or module augmentation cannot widen the generated API.
  exportType: true,
  // --alphabetize=false: keep spec order: diffs of the generated file then
  // follow diffs of the spec.
  alphabetize: false,
  // --enum=false: string unions, not TS enums: enums emit runtime code and are nominal.
  enum: false,
};

/**
 * The pinned openapi-typescript, run in this process as its CLI runs (its
 * `openapiTS` and `astToString` under the CLI's header, with the Redocly config
 * loaded by the @redocly/openapi-core the CLI itself imports): one load of it
 * and of TypeScript for the three specs, instead of a process each loading both.
 */
async function openapiTypescript() {
  const resolve = createRequire(path.join(ROOT, 'node_modules', 'openapi-typescript', 'package.json')).resolve;
  const [{ default: openapiTS, astToString, COMMENT_HEADER }, { loadConfig }] = await Promise.all([
    import('openapi-typescript'),
    import(pathToFileURL(resolve('@redocly/openapi-core')).href),
  ]);
  const redocly = await loadConfig({ configPath: OPENAPI_TS_CONFIG });
  return async (/** @type {string} */ spec) => `${COMMENT_HEADER}${astToString(await openapiTS(pathToFileURL(spec), { ...OPENAPI_TS_OPTIONS, redocly }))}`;
}

// Root aliases are named after schemas but share the module scope with the
// generic helpers openapi-typescript emits (`Record<...>`, `Omit<...>`,
// `WithRequired<...>`, `OneOf<...>`). A schema called e.g. `Record` would shadow
// the global and break the file in a way that tsc reports confusingly, so fail
// here with the actual cause.
function assertNoShadowedGenerics(file, source) {
  const aliases = [...source.matchAll(/^export type (\w+) = components\[/gm)].map((m) => m[1]);
  const clashes = aliases.filter((name) => new RegExp(`\\b${name}<`).test(source));
  if (clashes.length > 0) {
    throw new Error(
      `${path.relative(ROOT, file)}: root type alias(es) ${clashes.join(', ')} shadow a generic type ` +
        'used in the generated file. Rename the schema(s) in the spec.',
    );
  }
}

/**
 * Writes <outDir>/<api>.ts for every API; throws if any generation fails.
 * Prints nothing itself; openapi-typescript's warnings go to stderr.
 */
export async function generateInto(outDir) {
  await fs.mkdir(outDir, { recursive: true });
  const generate = await openapiTypescript();
  // One after the other: run at once in one process, the Redocly lint inside openapiTS
  // (its example validation keeps one schema validator per process) mixes up the
  // specs' references and warns about refs that resolve fine.
  const results = [];
  for (const { name, spec } of APIS) {
    const out = path.join(outDir, `${name}.ts`);
    const source = await generate(path.join(ROOT, spec)).catch((error) => error);
    if (source instanceof Error) {
      results.push(`openapi-typescript failed for ${spec}: ${source.message}`);
      continue;
    }
    await fs.writeFile(out, source, 'utf8');
    assertNoShadowedGenerics(out, source);
    results.push(null);
  }
  const failures = results.filter(Boolean);
  if (failures.length > 0) throw new Error(failures.join('\n'));
  const specs = await bundledSpecs();
  return [...APIS.map(({ name }) => `${name}.ts`), await writeFacts(outDir, specs), await writeOperations(outDir, specs), await writeResponses(outDir)];
}

/**
 * `npm run generate`: src/generated/ from the specs, and what a maintainer checks first, the
 * operations added, removed or changed, said through `print` (stdout when run as a script; the
 * regeneration drill runs it on a copy of the project and reads what it says).
 */
export async function generate(print = console.log) {
  // Generate into a scratch dir first so a failing spec leaves the committed
  // files untouched instead of half-updated.
  const stage = await fs.mkdtemp(path.join(os.tmpdir(), 'rk-generate-'));
  try {
    const files = await generateInto(stage);
    await fs.mkdir(GENERATED_DIR, { recursive: true });
    // Which operations this spec change added, removed or changed: what a maintainer checks first.
    const before = await fs.readFile(path.join(GENERATED_DIR, 'operations.ts'), 'utf8').catch(() => '');
    const changes = describeChanges(before, await fs.readFile(path.join(stage, 'operations.ts'), 'utf8'));
    print(changes.length ? `operations:\n  ${changes.join('\n  ')}` : 'operations: none added, removed or changed');
    for (const file of files) {
      await fs.copyFile(path.join(stage, file), path.join(GENERATED_DIR, file));
    }
    // src/generated/ belongs to this script; anything else there is stale
    // (renamed API?) or hand-written, and check-generated will reject it.
    const extra = (await fs.readdir(GENERATED_DIR)).filter((f) => !files.includes(f));
    if (extra.length > 0) {
      console.warn(`warning: unexpected files in src/generated/: ${extra.join(', ')} (delete them?)`);
    }
    print(`generated ${files.map((f) => `src/generated/${f}`).join(', ')}`);
  } finally {
    await fs.rm(stage, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) {
  generate().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
