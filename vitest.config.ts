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
  },
});
