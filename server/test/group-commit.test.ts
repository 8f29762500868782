import { describe, expect, it } from 'vitest';
import { Records } from '../src/records.js';
import { migrate } from '../src/schema.js';
import { openStorage, type Queryable, type Storage } from '../src/storage.js';
import { makePem } from './helpers/harness.js';

/**
 * Group commit of PEM inserts (issue 13): PEMs sent while a group is written share the next
 * transaction, and each still gets its own outcome. No timings.
 */

/** PGlite in memory that refuses the inserts of the PEMs in `bad`; `groups` counts the inserts of each transaction tried. */
async function refusingStore(bad: Set<string>): Promise<{ storage: Storage; groups: number[] }> {
  const inner = await openStorage({ memory: true });
  await migrate(inner);
  const groups: number[] = [];
  const refuse = (sql: string, params?: readonly unknown[]) => {
    if (sql.includes('INSERT INTO rk_pems') && bad.has(String(params?.[0]))) throw new Error('refused by the database');
  };
  const storage: Storage = {
    description: inner.description,
    writers: inner.writers,
    close: () => inner.close(),
    async query<Row extends object>(sql: string, params?: readonly unknown[]): Promise<Row[]> {
      refuse(sql, params);
      return inner.query<Row>(sql, params);
    },
    transaction: (work) =>
      inner.transaction(async (tx) => {
        let inserts = 0;
        const counted: Queryable = {
          async query<Row extends object>(sql: string, params?: readonly unknown[]): Promise<Row[]> {
            if (sql.includes('INSERT INTO rk_pems')) inserts++;
            refuse(sql, params);
            return tx.query<Row>(sql, params);
          },
        };
        try {
          return await work(counted);
        } finally {
          groups.push(inserts);
        }
      }),
  };
  return { storage, groups };
}

describe('group commit', { timeout: 120_000 }, () => {
  it('writes concurrent PEMs together, each committed and answered, with duplicate and conflict decided per PEM', async () => {
    const { storage, groups } = await refusingStore(new Set());
    const records = new Records(storage);
    try {
      const pems = Array.from({ length: 12 }, () => makePem());
      const changed = { ...pems[3]!, Type: 'other-type' };
      const outcomes = await Promise.all([...pems, pems[2]!, changed].map((p) => records.sendPem(p)));
      expect(outcomes.slice(0, 12)).toEqual(pems.map(() => ({ status: 'accepted' })));
      expect(outcomes[12]).toEqual({ status: 'duplicate' });
      expect(outcomes[13]).toEqual({ status: 'conflict' });
      // The first went alone; the others waited for it and were written in groups.
      expect(groups.some((n) => n > 1)).toBe(true);
      for (const pem of pems) expect((await records.getPem(pem.ID))?.Type).toBe(pem.Type);
    } finally {
      await storage.close();
    }
  });

  it('a PEM the database refuses fails alone: the others of its group are stored', async () => {
    const bad = makePem();
    const { storage, groups } = await refusingStore(new Set([bad.ID]));
    const records = new Records(storage);
    try {
      const good = Array.from({ length: 9 }, () => makePem());
      const sent = [good[0]!, ...good.slice(1, 5), bad, ...good.slice(5)];
      const settled = await Promise.allSettled(sent.map((p) => records.sendPem(p)));
      settled.forEach((outcome, i) => {
        if (sent[i] === bad) expect(outcome).toMatchObject({ status: 'rejected', reason: { message: 'refused by the database' } });
        else expect(outcome).toEqual({ status: 'fulfilled', value: { status: 'accepted' } });
      });
      expect(await records.getPem(bad.ID)).toBeUndefined();
      for (const pem of good) expect(await records.getPem(pem.ID)).toBeDefined();
      expect(await records.countPems({})).toBe(good.length);
      // The refused PEM was sent inside a group, not alone.
      expect(groups.some((n) => n > 1)).toBe(true);
    } finally {
      await storage.close();
    }
  });
});
