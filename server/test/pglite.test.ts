import { defineAdversarialSuite } from './adversarial-suite.js';
import { defineReferenceRequestsSuite } from './reference-requests-suite.js';
import { defineResponsiveSuite } from './responsive-suite.js';
import { defineServerSuite } from './server-suite.js';

// The server's suites on PGlite, in memory: the default storage of `npm start` and of tests. One
// file for the four, as postgres.test.ts, so they share one worker and one import of the server.
defineServerSuite('PGlite (in memory)', () => ({ memory: true }));
defineReferenceRequestsSuite('PGlite (in memory)', () => ({ memory: true }));
defineAdversarialSuite('PGlite (in memory)', () => ({ memory: true }));
defineResponsiveSuite('PGlite', async () => ({}));
