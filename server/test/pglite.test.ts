import { defineAdversarialSuite } from './adversarial-suite.js';
import { fileStore } from './helpers/harness.js';
import { defineReferenceRequestsSuite } from './reference-requests-suite.js';
import { defineResponsiveSuite } from './responsive-suite.js';
import { defineServerSuite } from './server-suite.js';

// The server's suites on PGlite, in memory: the default storage of `npm start` and of tests. One
// file for the four, as postgres.test.ts, so they share one worker and one import of the server;
// and one store, emptied for each suite's server (as a new store would be, without opening one).
const store = fileStore();
const emptyStore = async () => ({ storage: await store() });

defineServerSuite('PGlite (in memory)', emptyStore);
defineReferenceRequestsSuite('PGlite (in memory)', emptyStore);
defineAdversarialSuite('PGlite (in memory)', emptyStore);
defineResponsiveSuite('PGlite', emptyStore);
