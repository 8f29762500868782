import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import SummaryReporter from './test/helpers/summary-reporter.js';

/**
 * The suites that share one module graph per worker (`isolate: false`): loading the client, the
 * specs' validators and vitest's own runtime once per worker instead of once per file is most of
 * what these files cost. A file belongs here when nothing it does outlives it: no module mocks, no
 * fake timers, environment variables and globals put back, every server and process it starts
 * stopped by the file itself, and no in-process Record Keeper, PGlite, Chromium, signal handler
 * or working-directory change (those stay in their own module graph, as before). Checked by
 * running this project with its files in random order (`--sequence.shuffle.files`) as well as in
 * the default order: the same tests pass either way.
 */
const SHARED_FOLDERS = ['test/unit', 'test/delivery', 'test/lineage', 'test/bridges'];
const SHARED_FILES = [
  'test/cli/mistakes.test.ts',
  'test/cli/units.test.ts',
  'test/view/asset.test.ts',
  'server/test/units.test.ts',
  'server/test/hardening-units.test.ts',
  // Prism in child processes, one per API, started and stopped (by pid) by the file
  // (test/contract/mocks.ts); it runs the suites of rk-client.ts, rk-query.ts and rk-admin.ts too.
  'test/contract/mock-walk.test.ts',
  // rk spawned against servers of its own, all closed by the file; it loads no client.
  'test/cli/tty.test.ts',
];

/** Files in SHARED_FOLDERS that keep a module graph of their own, and why. */
const OWN_MODULE_GRAPH = [
  // tsc in a child process on copies of the sources: no shared state, but most of their cost is
  // the child, and they keep the worker's heap out of the drill's regenerated modules.
  'test/unit/regeneration-drill.test.ts',
  'test/unit/doc-examples.test.ts',
  // An in-process local Record Keeper (PGlite) or a replica on PGlite: WebAssembly memory that
  // a shared worker would carry into every later file.
  'test/delivery/local-rk.test.ts',
  'test/lineage/e2e.test.ts',
  'test/lineage/server-engine.test.ts',
  'test/lineage/replica-engine.test.ts',
  'test/bridges/openlineage-bridge.test.ts',
];

/** The test files of the shared module graph, listed (not globbed) so the other project can exclude exactly them. */
export const SHARED_MODULE_GRAPH: string[] = [
  ...SHARED_FOLDERS.flatMap((folder) =>
    readdirSync(join(fileURLToPath(new URL('.', import.meta.url)), folder), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.test.ts'))
      .map((file) => `${folder}/${file}`),
  ),
  ...SHARED_FILES,
].filter((file) => !OWN_MODULE_GRAPH.includes(file));

const EXCLUDE = ['**/node_modules/**', '**/dist/**'];

/**
 * The two projects a run is made of, for the files `include` and `exclude` select: the shared
 * module graph and everything else, isolated per file as vitest does by default. Disjoint by
 * construction (the second excludes exactly the files of the first), so every file runs once; the
 * shared project keeps to `include` too, so a config that selects fewer folders (test:quick) gets
 * only its own. Each project inherits this file's options, the global setup too: each gets a
 * folder of its own for the packed install, and the suites that install (test/packaging) are all
 * in the isolated one, so the tarball is still installed once per run.
 */
export function suites(include: string[], exclude: string[] = []): TestProjectInlineConfiguration[] {
  const selects = include.map((glob) => {
    if (glob.endsWith('/**/*.test.ts')) return (file: string) => file.startsWith(glob.slice(0, -'**/*.test.ts'.length));
    if (!glob.includes('*')) return (file: string) => file === glob;
    throw new Error(`vitest config: include a folder as "<folder>/**/*.test.ts" or one file by its path, not ${glob}`);
  });
  const shared = SHARED_MODULE_GRAPH.filter((file) => selects.some((selected) => selected(file)));
  return [
    { extends: true, test: { name: 'shared', include: shared, exclude: [...EXCLUDE, ...exclude], isolate: false } },
    { extends: true, test: { name: 'isolated', include, exclude: [...EXCLUDE, ...exclude, ...SHARED_MODULE_GRAPH] } },
  ];
}

// One run covers every suite: unit (injected fetch), contract (Prism), delivery (fault injection),
// end-to-end (local RK server), the server's own tests and packaging. Suites that start services
// set their own hook and test timeouts.
export default defineConfig({
  test: {
    projects: suites(['test/**/*.test.ts', 'server/test/**/*.test.ts']),
    // Two cores on CI: more parallel files only queue behind Prism and PostgreSQL start-up.
    maxWorkers: 2,
    // PGlite is WebAssembly. V8 compiles it with its baseline compiler (Liftoff) and then compiles
    // hot functions again with its optimizing one on background threads; a test worker lives
    // seconds and runs a few thousand statements, so that second compile costs more CPU than the
    // faster code saves (the six PGlite-heaviest files: 101 CPU-s by default, 87 with Liftoff only;
    // BENCHMARKS.md). A compiler tier, not a behaviour: the code the tests run is the same.
    // Processes the tests spawn (the CLI, a built server) keep V8's defaults.
    execArgv: ['--liftoff-only'],
    reporters: ['default', new SummaryReporter()],
    // The folder where the packed tarball is installed once per run (test/packaging/packed-project.ts).
    globalSetup: ['test/helpers/packed-install-dir.ts'],
    // Only with --coverage (`npm run coverage`, never in CI): the line and branch coverage of the
    // client's and the local server's sources, to compare a change to the suite before and after.
    // It counts the code the test workers run; code a spawned process runs (the CLI, a packed
    // install) is not counted, so a test moved in-process may raise the figure without new checks.
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts', 'server/src/**/*.ts'],
      exclude: ['**/*.d.ts'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: '.tmp/coverage',
      // A test that fails on a loaded machine should not cost the figures of the whole run.
      reportOnFailure: true,
    },
  },
});
