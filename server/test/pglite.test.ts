import { defineReferenceRequestsSuite } from './reference-requests-suite.js';
import { defineServerSuite } from './server-suite.js';

// The server suite on PGlite, in memory: the default storage of `npm start` and of tests.
defineServerSuite('PGlite (in memory)', () => ({ memory: true }));
defineReferenceRequestsSuite('PGlite (in memory)', () => ({ memory: true }));
