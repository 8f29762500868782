import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHtml, toPageData } from '../../src/index.js';
import { launch, PRESENT, REQUIRED, untilDrawn, watchedPage, type PageGlobals } from './browser.js';
import { syntheticExplanation } from './synthetic.js';

/**
 * The page at size: a 500-node answer fits the 1 MB budget (library, data and all), and a
 * 2 000-node answer renders, folded, in Chromium. How fast is bench/lineage-page.mjs's job.
 */
describe('the lineage page at size', () => {
  it('a 500-node explanation, with its slider, is one file under 1 MB', async () => {
    const { index, explanation } = syntheticExplanation(500);
    expect(explanation.lineage.nodes.length).toBe(500);
    const html = await toHtml(explanation, { index });
    expect(Buffer.byteLength(html)).toBeLessThan(1_000_000);
    expect(toPageData(explanation, { index }).timeline!.stops.length).toBeGreaterThan(100);
  });

  describe.skipIf(!PRESENT && !REQUIRED)('in headless Chromium', { timeout: 120_000 }, () => {
    let browser: Browser;
    let dir: string;
    beforeAll(async () => {
      browser = await launch();
      dir = await mkdtemp(join(tmpdir(), 'rk-view-scale-'));
    });
    afterAll(async () => {
      await browser?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('a 2 000-node explanation renders, long chains and fan-ins folded, and a fold opens on click', async () => {
      const { index, explanation } = syntheticExplanation(2000);
      expect(explanation.lineage.nodes.length).toBe(2000);
      const file = join(dir, 'big.html');
      await writeFile(file, await toHtml(explanation, { index }));
      const { page, errors, outside } = await watchedPage(browser);
      await page.goto(pathToFileURL(file).href);
      await untilDrawn(page, 100_000);
      const drawn = await page.evaluate(() => (globalThis as unknown as PageGlobals).rkPage!.drawn());
      expect(drawn.nodes).toBeGreaterThan(0);
      expect(drawn.nodes).toBeLessThan(2000);
      expect(errors).toEqual([]);
      expect(outside).toEqual([]);

      // Opening a fold draws its members node for node.
      const fold = await page.evaluate(() => {
        const cy = (globalThis as unknown as PageGlobals).rkPage!.cy;
        const chain = cy.nodes('.chain').map((n) => ({ id: n.id(), members: Number(n.data('members')), ...n.renderedPosition() }))[0]!;
        return chain;
      });
      await page.evaluate((id) => {
        const cy = (globalThis as unknown as PageGlobals).rkPage!.cy as unknown as { getElementById(id: string): { emit(e: string): void } };
        cy.getElementById(id).emit('tap');
      }, fold.id);
      const opened = await page.evaluate(() => (globalThis as unknown as PageGlobals).rkPage!.drawn());
      expect(opened.nodes).toBe(drawn.nodes - 1 + fold.members);
    });
  });
});
