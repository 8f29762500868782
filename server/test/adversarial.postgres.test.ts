import { afterAll, beforeAll, describe, it } from 'vitest';
import { defineAdversarialSuite } from './adversarial-suite.js';
import { createDatabase, postgresUnavailable, startPostgres, type TestPostgres } from '../bench/postgres.js';

/** Hostile input on a PostgreSQL 15 this file starts and stops by pid (skipped without the binaries, except on CI). */
const unavailable = postgresUnavailable();

if (unavailable && process.env.CI !== 'true') {
  console.warn(`Skipping the PostgreSQL hostile-input suite: ${unavailable}`);
  describe.skip(`hostile input on PostgreSQL 15 (${unavailable})`, () => {
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
  let n = 0;
  defineAdversarialSuite('PostgreSQL 15', async () => {
    if (!postgres) throw new Error('PostgreSQL did not start');
    return { databaseUrl: await createDatabase(postgres.url, `rk_hostile_${n++}`) };
  });
}
