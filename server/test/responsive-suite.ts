import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRKOptions } from '../src/index.js';
import { seedPems } from '../src/seed.js';
import { startHarness, type Harness } from './helpers/harness.js';

/**
 * Issue 19 item 3: full listings must not hold the other requests. On PGlite one statement runs
 * at a time in the server's own thread, and eight unpaged listings of 20 000 PEMs held even
 * `/info` (which reads no database) for 6 s. Here eight listings run while `/info` and a single
 * read are asked: both must be answered before any listing ends, and every listing must still
 * hold every PEM in order. (How long they take is the benchmark's: server/bench/listings.ts.)
 * Run on PGlite and on PostgreSQL (pglite.test.ts, postgres.test.ts).
 */

const PEMS = 2_000;
const LISTINGS = 8;
const hexId = (i: number) => i.toString(16).padStart(32, '0');

export function defineResponsiveSuite(name: string, options: () => Promise<LocalRKOptions>) {
  describe(`reads beside full listings, ${name}`, { timeout: 180_000 }, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness(await options());
      await seedPems(h.rk.storage, 1, PEMS, { hexIds: true });
    }, 180_000);
    afterAll(async () => h?.stop());

    it('answers /info and a single read before any of eight full listings ends, and the listings are whole', async () => {
      const finished: string[] = [];
      const responses = await Promise.all(Array.from({ length: LISTINGS }, () => fetch(h.url('query', '/pems'))));
      expect(responses.map((r) => r.status)).toEqual(Array(LISTINGS).fill(200));
      const listings = responses.map(async (response) => {
        const pems = (await response.json()) as { ID: string }[];
        finished.push('listing');
        return pems;
      });
      const info = h.call('receiver', 'GET', '/info').then((r) => {
        finished.push('info');
        return r;
      });
      const read = h.call('query', 'GET', `/pem/${hexId(PEMS - 7)}`).then((r) => {
        finished.push('read');
        return r;
      });
      const [infoAnswer, readAnswer, ...lists] = await Promise.all([info, read, ...listings]);
      expect(infoAnswer.status).toBe(200);
      expect(readAnswer.json.ID).toBe(hexId(PEMS - 7));
      expect(finished.slice(0, 2).sort()).toEqual(['info', 'read']);
      for (const list of lists) {
        expect(list).toHaveLength(PEMS);
        expect(list[0]!.ID).toBe(hexId(1));
        expect(list[PEMS - 1]!.ID).toBe(hexId(PEMS));
      }
      expect(h.validator.violations()).toEqual([]);
    });
  });
}
