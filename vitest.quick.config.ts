import { defineConfig } from 'vitest/config';
import base, { suites } from './vitest.config.js';

/**
 * `npm run test:quick`, for the edit loop: the suites of the client's logic that start no process,
 * no server and no database, so they need no build either. Left out, and run by `npm test`:
 * everything that spawns (the CLI as a process, Prism for the contract suites, tsc for the
 * regeneration drill and the doc examples, npm for packaging, runtimes, Chromium), the local RK
 * (end-to-end, the server engine, the conformance walk, the server's own suites) and PGlite (the
 * replica engine), and the throughput measurement.
 */
export default defineConfig({
  test: {
    ...base.test,
    projects: suites(
      [
        'test/unit/**/*.test.ts',
        'test/lineage/**/*.test.ts',
        'test/delivery/**/*.test.ts',
        'test/bridges/**/*.test.ts',
        'test/cli/**/*.test.ts',
      ],
      [
        'test/unit/regeneration-drill.test.ts',
        'test/unit/doc-examples.test.ts',
        'test/lineage/e2e.test.ts',
        'test/lineage/server-engine.test.ts',
        'test/lineage/replica-engine.test.ts',
        'test/delivery/child-process.test.ts',
        'test/delivery/local-rk.test.ts',
        'test/delivery/throughput.test.ts',
        'test/bridges/openlineage-bridge.test.ts',
        'test/cli/help-local.test.ts',
        'test/cli/lineage.test.ts',
        'test/cli/rk.test.ts',
        'test/cli/tty.test.ts',
      ],
    ),
  },
});
