import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without types
import { pageAsset } from '../../scripts/build-page.mjs';

/** src/lineage/page-asset.ts is generated from page/lineage/: the committed copy must be what a build gives now. */
describe('the lineage page asset', () => {
  it('is the bundle of page/lineage/ as it is now (else: npm run build:page)', async () => {
    const committed = await readFile(new URL('../../src/lineage/page-asset.ts', import.meta.url), 'utf8');
    expect(committed === (await pageAsset()), 'src/lineage/page-asset.ts is stale: run npm run build:page and commit it').toBe(true);
  });
});
