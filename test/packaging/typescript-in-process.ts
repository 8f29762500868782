import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join } from 'node:path';
import type * as TS from 'typescript';
import { ROOT, type Outcome } from './packed-project.js';

/**
 * `tsc <args>` run in this process by the repository's own TypeScript, for the suites that check
 * a user's project against the shipped declarations (test/packaging/pack.test.ts, test/readme/readme.test.ts):
 * the same command line, the same diagnostics printed as tsc prints them when its output is not a
 * terminal, the same exit code and emitted files, at about half the CPU. What the separate tsc
 * processes each did again is done once: loading the compiler, and reading and parsing the same
 * lib, @types/node and package .d.ts files. A parsed file is shared only between programs whose
 * options parse and bind it alike (TypeScript's own key for that, as its language service shares
 * files); each program still type-checks everything itself, with its own checker.
 */
const ts = createRequire(join(ROOT, 'package.json'))('typescript') as typeof TS;

const parsed = new Map<string, TS.SourceFile | undefined>();

/** The options that change how a file parses or binds, which TypeScript's document registry keys on. */
function parseKey(options: TS.CompilerOptions): string {
  const affecting = (ts as unknown as { sourceFileAffectingCompilerOptions: { name: string }[] }).sourceFileAffectingCompilerOptions;
  return JSON.stringify(affecting.map(({ name }) => options[name] ?? null));
}

function host(options: TS.CompilerOptions, cwd: string): TS.CompilerHost {
  const compilerHost = ts.createCompilerHost(options);
  const read = compilerHost.getSourceFile.bind(compilerHost);
  const key = parseKey(options);
  compilerHost.getCurrentDirectory = () => cwd;
  compilerHost.getSourceFile = (fileName, languageVersion, onError, fresh) => {
    const format = typeof languageVersion === 'object' ? [languageVersion.languageVersion, languageVersion.impliedNodeFormat] : [languageVersion];
    const id = `${fileName}\0${key}\0${JSON.stringify(format)}`;
    // The user's own files are read afresh: the suites write them between checks.
    if (fresh || !/\.d\.[cm]?ts$/.test(fileName)) return read(fileName, languageVersion, onError, fresh);
    if (!parsed.has(id)) parsed.set(id, read(fileName, languageVersion, onError, fresh));
    return parsed.get(id);
  };
  return compilerHost;
}

const format = (diagnostics: readonly TS.Diagnostic[], cwd: string): string =>
  ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (name) => name, getCurrentDirectory: () => cwd, getNewLine: () => '\n' });

/**
 * `tsc --init <options>` in `cwd`, as tsc does it: the tsconfig.json TypeScript's own generator
 * writes for those options, unless there is one already (said, with exit code 0, as tsc says it).
 */
function init(options: TS.CompilerOptions, cwd: string): Outcome {
  const file = join(cwd, 'tsconfig.json');
  if (existsSync(file)) {
    return { code: 0, stdout: `error TS5054: A 'tsconfig.json' file is already defined at: '${file}'.\n`, stderr: '' };
  }
  // The generator tsc --init calls, exported by the compiler though not in its declarations.
  const { generateTSConfig } = ts as unknown as { generateTSConfig(options: TS.CompilerOptions, newLine: string): string };
  writeFileSync(file, generateTSConfig(options, '\n'));
  return { code: 0, stdout: '\nCreated a new tsconfig.json\n', stderr: '' };
}

/** `tsc <args>` in `cwd`: a file list with options, `-p <tsconfig>`, or `--init` with options. */
export function tscInProcess(args: string[], cwd: string): Outcome {
  const line = ts.parseCommandLine(args);
  // As tsc does: a command line it cannot read is all it reports.
  if (line.options.init) return line.errors.length > 0 ? { code: 1, stdout: format(line.errors, cwd), stderr: '' } : init(line.options, cwd);
  let options = line.options;
  let files = line.fileNames.map((file) => (isAbsolute(file) ? file : join(cwd, file)));
  let errors = [...line.errors];
  if (options.project !== undefined) {
    const named = isAbsolute(options.project) ? options.project : join(cwd, options.project);
    // As tsc reads -p: a folder means its tsconfig.json.
    const configPath = ts.sys.directoryExists(named) ? join(named, 'tsconfig.json') : named;
    const config = ts.getParsedCommandLineOfConfigFile(configPath, options, {
      ...ts.sys,
      getCurrentDirectory: () => cwd,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => errors.push(diagnostic),
    });
    if (!config) throw new Error(`tscInProcess: cannot read ${configPath}: ${ts.formatDiagnostics(errors, ts.createCompilerHost({}))}`);
    ({ options, fileNames: files } = config);
    errors = [...errors, ...config.errors];
  }
  const program = ts.createProgram({ rootNames: files, options, host: host(options, cwd), configFileParsingDiagnostics: errors });
  // As tsc does: the types are checked only when the syntax, the options and the globals are sound.
  const diagnostics: TS.Diagnostic[] = [...program.getConfigFileParsingDiagnostics()];
  const before = diagnostics.length;
  diagnostics.push(...program.getSyntacticDiagnostics());
  if (diagnostics.length === before) {
    diagnostics.push(...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics());
    if (diagnostics.length === before) diagnostics.push(...program.getSemanticDiagnostics());
  }
  const emitted = program.emit();
  diagnostics.push(...emitted.diagnostics);
  const sorted = ts.sortAndDeduplicateDiagnostics(diagnostics);
  const stdout = format(sorted, cwd);
  // tsc's exit codes: 0 clean, 1 diagnostics and nothing emitted, 2 diagnostics but the output emitted.
  const code = sorted.length === 0 ? 0 : emitted.emitSkipped ? 1 : 2;
  return { code, stdout, stderr: '' };
}
