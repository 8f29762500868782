// Generates src/generated/<api>.ts from openapi/<api>.yaml with the pinned
// openapi-typescript. check-generated.mjs reuses generateInto() so the check
// can never drift from what this script writes.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { APIS, ROOT, bin, isMain, run } from './apis.mjs';
import { bundledSpecs, writeFacts } from './facts.mjs';
import { describeChanges, writeOperations } from './operations.mjs';
import { writeResponses } from './responses.mjs';

export const GENERATED_DIR = path.join(ROOT, 'src', 'generated');

// Our own config without `apis`: with the multi-API ../redocly.yaml (found by
// default from cwd) openapi-typescript would ignore the input and -o.
const OPENAPI_TS_CONFIG = path.join(ROOT, 'scripts', 'openapi-typescript.redocly.yaml');

// Every option that changes the output is spelled out, so a default changing
// in a future openapi-typescript cannot silently reshape the public types.
export const OPENAPI_TS_FLAGS = [
  // `export type Pem = components['schemas']['Pem']` etc.: the client and its
  // users name schemas directly instead of indexing `components`.
  '--root-types',
  // ...without the `Schema` prefix (`Pem`, not `SchemaPem`). Non-schema
  // components keep theirs (`ResponseNotFound`, `ParameterId`). See
  // assertNoShadowedGenerics() for the one real hazard of dropping it.
  '--root-types-no-schema-prefix',
  // `type paths = {...}` rather than interfaces: no declaration merging, so a
  // stray global or module augmentation cannot widen the generated API.
  '--export-type',
  // Keep spec order: diffs of the generated file then follow diffs of the spec.
  '--alphabetize=false',
  // String unions, not TS enums: enums emit runtime code and are nominal.
  '--enum=false',
];

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
 * `quiet` drops openapi-typescript's progress lines (stdout) but keeps its
 * warnings and errors (stderr).
 */
export async function generateInto(outDir, { quiet = false } = {}) {
  await fs.mkdir(outDir, { recursive: true });
  const results = await Promise.all(
    APIS.map(async ({ name, spec }) => {
      const out = path.join(outDir, `${name}.ts`);
      const code = await run(bin('openapi-typescript'), [
        path.join(ROOT, spec),
        '--output',
        out,
        '--redocly',
        OPENAPI_TS_CONFIG,
        ...OPENAPI_TS_FLAGS,
      ], { stdio: ['ignore', quiet ? 'ignore' : 'inherit', 'inherit'] });
      if (code !== 0) return `openapi-typescript failed for ${spec} (exit ${code})`;
      // openapi-typescript has silently written elsewhere before (see
      // OPENAPI_TS_CONFIG); make sure the file we asked for exists.
      const source = await fs.readFile(out, 'utf8').catch(() => null);
      if (source === null) return `openapi-typescript did not write ${out}`;
      assertNoShadowedGenerics(out, source);
      return null;
    }),
  );
  const failures = results.filter(Boolean);
  if (failures.length > 0) throw new Error(failures.join('\n'));
  const specs = await bundledSpecs();
  return [...APIS.map(({ name }) => `${name}.ts`), await writeFacts(outDir, specs), await writeOperations(outDir, specs), await writeResponses(outDir)];
}

async function main() {
  // Generate into a scratch dir first so a failing spec leaves the committed
  // files untouched instead of half-updated.
  const stage = await fs.mkdtemp(path.join(os.tmpdir(), 'rk-generate-'));
  try {
    const files = await generateInto(stage);
    await fs.mkdir(GENERATED_DIR, { recursive: true });
    // Which operations this spec change added, removed or changed: what a maintainer checks first.
    const before = await fs.readFile(path.join(GENERATED_DIR, 'operations.ts'), 'utf8').catch(() => '');
    const changes = describeChanges(before, await fs.readFile(path.join(stage, 'operations.ts'), 'utf8'));
    console.log(changes.length ? `operations:\n  ${changes.join('\n  ')}` : 'operations: none added, removed or changed');
    for (const file of files) {
      await fs.copyFile(path.join(stage, file), path.join(GENERATED_DIR, file));
    }
    // src/generated/ belongs to this script; anything else there is stale
    // (renamed API?) or hand-written, and check-generated will reject it.
    const extra = (await fs.readdir(GENERATED_DIR)).filter((f) => !files.includes(f));
    if (extra.length > 0) {
      console.warn(`warning: unexpected files in src/generated/: ${extra.join(', ')} (delete them?)`);
    }
    console.log(`generated ${files.map((f) => `src/generated/${f}`).join(', ')}`);
  } finally {
    await fs.rm(stage, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
