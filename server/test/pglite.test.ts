import { afterAll, beforeAll } from 'vitest';
import { openStore, type Storage } from '../src/index.js';
import { defineAdversarialSuite } from './adversarial-suite.js';
import { emptied } from './helpers/harness.js';
import { defineReferenceRequestsSuite } from './reference-requests-suite.js';
import { defineResponsiveSuite } from './responsive-suite.js';
import { defineServerSuite } from './server-suite.js';

// The server's suites on PGlite, in memory: the default storage of `npm start` and of tests. One
// file for the four, as postgres.test.ts, so they share one worker and one import of the server;
// and one store, emptied for each suite's server (as a new store would be, without opening one).
let store: Storage | undefined;

beforeAll(async () => {
  store = await openStore({ memory: true });
}, 120_000);

afterAll(async () => {
  await store?.close();
});

const emptyStore = async () => {
  if (!store) throw new Error('the PGlite store did not open');
  return { storage: await emptied(store) };
};

defineServerSuite('PGlite (in memory)', emptyStore);
defineReferenceRequestsSuite('PGlite (in memory)', emptyStore);
defineAdversarialSuite('PGlite (in memory)', emptyStore);
defineResponsiveSuite('PGlite', emptyStore);
