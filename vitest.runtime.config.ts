import { defineConfig } from 'vitest/config';
import base, { suites } from './vitest.config.js';

/**
 * CI's second Node (.ci/run, "the client's suites on Node 22"): the suites whose subject is what a
 * runtime provides (fetch and undici, timers, AbortSignal, streams, the outbox's file system,
 * process exit: test/delivery) and the client's own logic (test/unit), without the tooling tests
 * (the regeneration drill and the doc examples' type check say nothing of the runtime), and the
 * server's parsers of the wire format (server/test/units, which the step's earlier file filter
 * "test/unit" matched too). A config rather than `--exclude` flags: vitest applies `--exclude` to
 * the root config only, not to its projects.
 */
export default defineConfig({
  test: {
    ...base.test,
    projects: suites(
      ['test/unit/**/*.test.ts', 'test/delivery/**/*.test.ts', 'server/test/units.test.ts'],
      ['test/unit/regeneration-drill.test.ts', 'test/unit/doc-examples.test.ts'],
    ),
  },
});
