import { defineConfig } from 'vitest/config';
import SummaryReporter from './test/helpers/summary-reporter.js';

// One run covers every suite: unit (injected fetch), contract (Prism), delivery (fault injection),
// end-to-end (local RK server), the server's own tests and packaging. Suites that start services
// set their own hook and test timeouts.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'server/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    // Two cores on CI: more parallel files only queue behind Prism and PostgreSQL start-up.
    maxWorkers: 2,
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
