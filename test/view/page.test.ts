import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHtml } from '../../src/index.js';
import { launch, nodeState, PRESENT, REQUIRED, untilDrawn, watchedPage, type PageGlobals, type WatchedPage } from './browser.js';
import { exampleLineage, type ExampleLineage } from './example.js';

/**
 * The page toHtml writes for the example pipeline's "why does production run what it runs", opened
 * from a file in headless Chromium with every request outside file:// refused: it draws the
 * explanation node for node, shows a clicked PEM, and its slider moves the production tag as
 * stateAt says. A screenshot lands in .tmp/ for a person to look at (it is not committed).
 */
describe.skipIf(!PRESENT && !REQUIRED)('the lineage page of the example pipeline, in headless Chromium', { timeout: 60_000 }, () => {
  let example: ExampleLineage;
  let browser: Browser;
  let dir: string;
  let opened: WatchedPage;

  beforeAll(async () => {
    example = await exampleLineage();
    dir = await mkdtemp(join(tmpdir(), 'rk-view-'));
    const file = join(dir, 'why.html');
    await writeFile(file, await toHtml(example.explanation, { index: example.lineage.index, pems: example.pems }));
    browser = await launch();
    opened = await watchedPage(browser);
    await opened.page.goto(pathToFileURL(file).href);
    await untilDrawn(opened.page);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await example?.rk.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('renders with no console error and no request to the network', async () => {
    expect(opened.errors).toEqual([]);
    expect(opened.outside).toEqual([]);
    await opened.page.screenshot({ path: join(process.cwd(), '.tmp/lineage-page.png') }).catch(() => undefined);
  });

  it('draws as many nodes and edges as the explanation has, PEMs and artifacts in distinct shapes', async () => {
    const { lineage } = example.explanation;
    const drawn = await opened.page.evaluate(() => (globalThis as unknown as PageGlobals).rkPage!.drawn());
    expect(drawn).toEqual({ nodes: lineage.nodes.length, edges: lineage.edges.length });
    const shapes = await opened.page.evaluate(() =>
      (globalThis as unknown as PageGlobals).rkPage!.cy.nodes().map((n) => [n.data('kind'), (n as unknown as { style(k: string): string }).style('shape')]),
    );
    expect(new Set(shapes.filter(([kind]) => kind === 'pem').map(([, shape]) => shape))).toEqual(new Set(['round-rectangle']));
    expect(new Set(shapes.filter(([kind]) => kind === 'artifact').map(([, shape]) => shape))).toEqual(new Set(['ellipse']));
    // The explain summary sits beside the graph: the model and who trained it.
    await expect(opened.page.locator('#summary').innerText()).resolves.toMatch(/Models[\s\S]*model\/churn trained by churn-pipeline/);
  });

  it('lays the graph out in time order, left to right', async () => {
    const steps = example.explanation.steps;
    const xs = [];
    for (const step of [steps[0]!, steps.at(-1)!]) xs.push((await nodeState(opened.page, `pem:${step.pem}`))!.x);
    expect(xs[0]).toBeLessThan(xs[1]!);
  });

  it('clicking a PEM shows its ID, type, emitter and properties', async () => {
    const retrain = example.explanation.steps.find((s) => s.type === 'retrain')!;
    const at = (await nodeState(opened.page, `pem:${retrain.pem}`))!;
    const box = (await opened.page.locator('#graph').boundingBox())!;
    await opened.page.mouse.click(box.x + at.x, box.y + at.y);
    const field = (name: string) => opened.page.locator(`#details dd[data-field="${name}"]`).innerText();
    await expect(field('PEM')).resolves.toBe(retrain.pem);
    await expect(field('Type')).resolves.toBe('retrain');
    await expect(field('Emitter')).resolves.toBe('churn-pipeline');
    await expect(field('· algorithm')).resolves.toBe('gradient-boosting');
  });

  it('moving the slider before the last deploy moves the production tag back, as stateAt says', async () => {
    const page = opened.page;
    const tag = page.locator('li[data-tag="churn-pipeline/production"]');
    const lastDeploy = example.pipeline.deployedPemId;
    await expect(tag.getAttribute('data-pem')).resolves.toBe(lastDeploy);
    expect((await nodeState(page, `pem:${lastDeploy}`))!.tagged).toBe('production');

    await page.locator('#slider').focus();
    await page.keyboard.press('ArrowLeft');
    const shown = (await page.locator('#slider-time').innerText()).replace(' UTC', '');
    const state = example.lineage.stateAt(shown, { namespaces: 'churn-pipeline' });
    const then = state.tags.find((t) => t.tag === 'production')!.pem;
    expect(then).toBe(example.pipeline.previousDeployPemId);
    await expect(tag.getAttribute('data-pem')).resolves.toBe(then);
    // The last deploy had not happened yet: it is hidden, and the retrained model is the current version.
    expect((await nodeState(page, `pem:${lastDeploy}`))!.future).toBe(true);
    const retrained = example.explanation.models.find((m) => m.producer === state.artifacts.find((a) => a.name === 'model/churn')!.producer)!;
    expect((await nodeState(page, `artifact:${retrained.producer}:model/churn`))!.superseded).toBe(false);
    const older = example.explanation.models.find((m) => m !== retrained)!;
    expect((await nodeState(page, `artifact:${older.producer}:model/churn`))!.superseded).toBe(true);

    await page.keyboard.press('End');
    await expect(tag.getAttribute('data-pem')).resolves.toBe(lastDeploy);
    expect(opened.errors).toEqual([]);
  });

  it('search finds a node by name and Enter selects it', async () => {
    const page = opened.page;
    await page.keyboard.press('/');
    await page.keyboard.type('dataset/customers');
    await expect(page.locator('#search-count').innerText()).resolves.toMatch(/^2 matches/);
    await page.keyboard.press('Enter');
    await expect(page.locator('#details dd[data-field="Artifact"]').innerText()).resolves.toBe('dataset/customers');
  });

  it('the keyboard walks the graph: Right goes downstream to a PEM that used the selected artifact, Left to one of its inputs', async () => {
    const page = opened.page;
    await page.locator('#graph').focus();
    await page.keyboard.press('ArrowRight');
    const uses = await page.locator('#details dd[data-field="Uses"]').innerText();
    expect(uses).toContain('dataset/customers');
    // Left goes to one of that PEM's inputs: an artifact it used, or the PEM it follows.
    await page.keyboard.press('ArrowLeft');
    const artifact = page.locator('#details dd[data-field="Artifact"]');
    if (await artifact.count()) expect(uses.split(', ')).toContain(await artifact.innerText());
    else await expect(page.locator('#details dd[data-field="PEM"]').innerText()).resolves.toMatch(/^[0-9a-f]{32}$/);
    expect(opened.errors).toEqual([]);
  });
});
