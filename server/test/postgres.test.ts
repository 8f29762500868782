import { afterAll, beforeAll, describe, it } from 'vitest';
import { createDatabase, postgresUnavailable, startPostgres, type TestPostgres } from '../bench/postgres.js';
import { defineAdversarialSuite } from './adversarial-suite.js';
import { defineReferenceRequestsSuite } from './reference-requests-suite.js';
import { defineResponsiveSuite } from './responsive-suite.js';
import { defineServerSuite } from './server-suite.js';

/**
 * The server's suites of pglite.test.ts (server, reference requests, hostile input, reads beside
 * full listings) on a real PostgreSQL 15 that this file starts once for all four (initdb into a
 * temporary directory, a free loopback port) and stops by pid. Where the PostgreSQL binaries are missing
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

  beforeAll(async () => {
    if (unavailable) throw new Error(`CI=true but PostgreSQL cannot run here: ${unavailable}`);
    postgres = await startPostgres();
  }, 120_000);

  afterAll(async () => {
    await postgres?.stop();
  });

  defineServerSuite('PostgreSQL 15', async () => {
    if (!postgres) throw new Error('PostgreSQL did not start');
    return { databaseUrl: await createDatabase(postgres.url, 'rk_suite') };
  });

  defineReferenceRequestsSuite('PostgreSQL 15', async (replies) => {
    if (!postgres) throw new Error('PostgreSQL did not start');
    return { databaseUrl: await createDatabase(postgres.url, `rk_requests_${replies}`) };
  });

  let hostile = 0;
  defineAdversarialSuite('PostgreSQL 15', async () => {
    if (!postgres) throw new Error('PostgreSQL did not start');
    return { databaseUrl: await createDatabase(postgres.url, `rk_hostile_${hostile++}`) };
  });

  defineResponsiveSuite('PostgreSQL 15', async () => {
    if (!postgres) throw new Error('PostgreSQL did not start');
    return { databaseUrl: await createDatabase(postgres.url, 'rk_responsive') };
  });
}
