import { afterAll, beforeAll, describe, it } from 'vitest';
import { createDatabase, postgresUnavailable, startPostgres, type TestPostgres } from '../bench/postgres.js';
import { openStore, type Storage } from '../src/index.js';
import { defineAdversarialSuite } from './adversarial-suite.js';
import { emptied } from './helpers/harness.js';
import { defineReferenceRequestsSuite } from './reference-requests-suite.js';
import { defineResponsiveSuite } from './responsive-suite.js';
import { defineServerSuite } from './server-suite.js';

/**
 * The server's suites of pglite.test.ts (server, reference requests, hostile input, reads beside
 * full listings) on a real PostgreSQL 15 that this file starts once for all four (initdb into a
 * temporary directory, a free loopback port) and stops by pid: one database, opened once and
 * emptied for each suite's server, as pglite.test.ts does with its store. Where the PostgreSQL binaries are missing
 * the suite is skipped with the reason, except on CI (CI=true), where that is a failure.
 */
const unavailable = postgresUnavailable();

if (unavailable && process.env.CI !== 'true') {
  console.warn(`Skipping the PostgreSQL server suites: ${unavailable}`);
  describe.skip(`local RK on PostgreSQL 15 (${unavailable})`, () => {
    it('needs PostgreSQL 15', () => undefined);
  });
} else {
  let postgres: TestPostgres | undefined;
  let databaseUrl: string | undefined;
  let store: Storage | undefined;

  beforeAll(async () => {
    if (unavailable) throw new Error(`CI=true but PostgreSQL cannot run here: ${unavailable}`);
    postgres = await startPostgres();
    databaseUrl = await createDatabase(postgres.url, 'rk_suites');
    store = await openStore({ databaseUrl });
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await postgres?.stop();
  });

  const emptyStore = async () => {
    if (!store) throw new Error('PostgreSQL did not start');
    return { storage: await emptied(store) };
  };

  // The first server opens the database by its URL itself (its pool, the schema on a database
  // that has it), as `--database-url` does; the others are served from the store.
  defineServerSuite('PostgreSQL 15', async () => {
    await emptyStore();
    return { databaseUrl: databaseUrl! };
  });
  defineReferenceRequestsSuite('PostgreSQL 15', emptyStore);
  defineAdversarialSuite('PostgreSQL 15', emptyStore);
  defineResponsiveSuite('PostgreSQL 15', emptyStore);
}
