import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The code readers copy from the docs compiles: the `@example` of each facade class (TypeDoc's
 * pages) and every operation's TypeScript sample (the Redoc pages, from scripts/docs-samples.mjs),
 * each type-checked as its own module against the package's public entry, `recordkeeper-client`.
 * The compiler runs in-process and reports on the examples: what of src/ they use is checked as
 * far as they use it; src/ as a whole is `npm run typecheck`'s (and the build's) to check.
 */
const ROOT = new URL('../../', import.meta.url).pathname;
const FACADES = ['src/client.ts', 'src/query.ts', 'src/admin.ts'];

/** The ```ts block of the `@example` in the doc comment right above `export class`. */
function classExample(file: string): string {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const comment = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*export class/.exec(text)?.[1] ?? '';
  const block = /@example\s*\n\s*\*\s*```ts\n([\s\S]*?)\n\s*\*\s*```/.exec(comment)?.[1];
  if (!block) expect.fail(`${file}: no @example with a \`\`\`ts block above export class`);
  return block.split('\n').map((line) => line.replace(/^\s*\* ?/, '')).join('\n');
}

type Documents = { document: { paths: Record<string, Record<string, { operationId?: string; 'x-codeSamples'?: { source: string }[] }>> } }[];

describe('the examples in the docs', { timeout: 180_000 }, () => {
  it('every facade class has an @example, and it and every operation sample type-check', async () => {
    const programs = new Map<string, string>();
    for (const file of FACADES) programs.set(`example-${path.basename(file, '.ts')}`, classExample(file));
    const { documentsWithSamples } = (await import(new URL('../../scripts/docs-samples.mjs', import.meta.url).href)) as { documentsWithSamples: () => Promise<Documents> };
    for (const { document } of await documentsWithSamples()) {
      for (const item of Object.values(document.paths)) {
        for (const op of Object.values(item)) {
          const source = op?.['x-codeSamples']?.[0]?.source;
          if (op?.operationId && source) programs.set(`sample-${op.operationId}`, source);
        }
      }
    }
    expect(programs.size).toBe(FACADES.length + 22);

    mkdirSync(path.join(ROOT, '.tmp'), { recursive: true });
    const dir = mkdtempSync(path.join(ROOT, '.tmp', 'doc-examples-'));
    try {
      for (const [name, source] of programs) writeFileSync(path.join(dir, `${name}.ts`), `${source}\n`);
      // The repository's compiler settings; `recordkeeper-client` resolves to src/ (rk-source).
      writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../../tsconfig.json', compilerOptions: { noEmit: true }, include: ['*.ts'] }));
      const config = ts.getParsedCommandLineOfConfigFile(path.join(dir, 'tsconfig.json'), undefined, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
      if (!config) expect.fail('doc examples: the scratch tsconfig.json could not be read');
      expect(config.fileNames).toHaveLength(programs.size);
      const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
      const diagnostics = [
        ...config.errors,
        ...program.getOptionsDiagnostics(),
        ...program.getGlobalDiagnostics(),
        ...config.fileNames.flatMap((file) => {
          const source = program.getSourceFile(file);
          return source ? [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)] : [];
        }),
      ];
      // Named relative to the scratch folder: `example-client.ts(6,5): error TS2551: ...`.
      const host = { getCanonicalFileName: (f: string) => f, getCurrentDirectory: () => dir, getNewLine: () => '\n' };
      expect(ts.formatDiagnostics(diagnostics, host)).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
