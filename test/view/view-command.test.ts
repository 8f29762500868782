import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { toHtml, toPageData, type LineagePageData } from '../../src/index.js';
import { buildRk, cleanEnv } from '../cli/helpers.js';
import { launch, nodeState, PRESENT, REQUIRED, untilDrawn, watchedPage, type PageGlobals, type WatchedPage } from './browser.js';
import { exampleLineage, type ExampleLineage } from './example.js';
import { syntheticExplanation } from './synthetic.js';

/**
 * `rk view` and `rk export --format html` against a local Record Keeper holding the example
 * pipeline: in process through main(argv, io) (the page server, its one-hop walk in Chromium,
 * its loopback-only answers, SIGINT), and once as the built command stopped by a real SIGINT.
 * The page toHtml writes, opened from a file, is tested on the same Record Keeper below, and at
 * size (synthetic lineages) last. One Chromium serves every suite of the file (each page in a
 * context of its own): a launch costs more CPU than the pages do.
 */
let launched: Promise<Browser> | undefined;
const sharedBrowser = () => (launched ??= launch());
afterAll(async () => {
  await (await launched?.catch(() => undefined))?.close();
});

/** A stream main() can write to, that resolves when a line matches. */
function capture() {
  let text = '';
  const waiting: Array<{ pattern: RegExp; resolve: (m: RegExpExecArray) => void }> = [];
  return {
    stream: {
      write(chunk: string) {
        text += chunk;
        for (const w of [...waiting]) {
          const m = w.pattern.exec(text);
          if (m) {
            waiting.splice(waiting.indexOf(w), 1);
            w.resolve(m);
          }
        }
        return true;
      },
    },
    get text() {
      return text;
    },
    until(pattern: RegExp): Promise<RegExpExecArray> {
      const m = pattern.exec(text);
      return m ? Promise.resolve(m) : new Promise((resolve) => waiting.push({ pattern, resolve }));
    },
  };
}

function embedded(html: string): LineagePageData {
  const json = /<script type="application\/json" id="rk-data">([\s\S]*?)<\/script>/.exec(html)![1]!;
  return JSON.parse(json) as LineagePageData;
}

describe('rk view and rk export --format html on the example pipeline', { timeout: 90_000 }, () => {
  let example: ExampleLineage;
  let env: NodeJS.ProcessEnv;
  const io = (out = capture(), err = capture()) => ({ out, err, io: { stdout: out.stream, stderr: err.stream, stdin: process.stdin, env } });

  beforeAll(async () => {
    example = await exampleLineage();
    env = cleanEnv({ RK_QUERY: example.rk.queryUrl, RK_RECEIVER: example.rk.receiverUrl, RK_GRAPH_BUILDER: example.rk.graphBuilderUrl });
  }, 120_000);

  afterAll(async () => {
    await example?.rk.stop();
  });

  it('rk export --format html writes one self-contained page with the explanation, the slider and the Properties', async () => {
    const run = io();
    const code = await main(['export', 'churn-pipeline/production', '--format', 'html'], run.io);
    expect(run.err.text).toBe('');
    expect(code).toBe(0);
    const html = run.out.text;
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    const data = embedded(html);
    expect(data.nodes.length).toBe(example.explanation.lineage.nodes.length);
    expect(data.summary?.models.map((m) => m.name)).toEqual(['model/churn', 'model/churn']);
    expect(data.timeline?.tags.find((t) => t.tag === 'production')?.at.at(-1)).toBe(example.pipeline.deployedPemId);
    expect(data.nodes.find((n) => n.type === 'train')?.properties).toMatchObject({ algorithm: 'gradient-boosting' });
  });

  it('rk export --format with an unknown format names the html one among the choices', async () => {
    const run = io();
    expect(await main(['export', 'churn-pipeline/production', '--format', 'pdf'], run.io)).toBe(2);
    expect(run.err.text).toContain('json, html');
  });

  describe.skipIf(!PRESENT && !REQUIRED)('the page server, in headless Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await sharedBrowser();
    });

    it('serves the page on loopback, walks one hop further through RK, refuses other hosts, and stops on SIGINT', async () => {
      const run = io();
      // playwright-core exits the process on SIGINT: its handlers stand aside while rk view's gets the signal.
      const others = process.listeners('SIGINT');
      const running = main(['view', 'churn-pipeline/production'], run.io);
      const url = (await run.out.until(/Lineage page: (http:\/\/127\.0\.0\.1:\d+\/)/))[1]!;
      try {
        expect(run.err.text).toMatch(/\d+ nodes, \d+ edges, \d+ times on the slider\. Ctrl-C stops it\./);

        // Another Host (a rebound DNS name, another site) gets nothing.
        const port = Number(new URL(url).port);
        const status = await new Promise<number>((resolve, reject) =>
          request({ host: '127.0.0.1', port, path: '/', headers: { Host: 'rebound.example' } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
            .on('error', reject)
            .end(),
        );
        expect(status).toBe(403);

        const { page, errors, outside } = await watchedPage(browser, url.slice(0, -1));
        await page.goto(url);
        await untilDrawn(page);
        const before = await page.evaluate(() => (globalThis as unknown as PageGlobals).rkPage!.drawn());
        expect(before.nodes).toBe(example.explanation.lineage.nodes.length);
        expect(await nodeState(page, `pem:${example.pipeline.previousDeployPemId}`)).toBeNull();

        // The first training: downstream of it, the first evaluate and deploy are not in the explanation.
        const train = example.explanation.steps.find((s) => s.type === 'train')!;
        const at = (await nodeState(page, `pem:${train.pem}`))!;
        const box = (await page.locator('#graph').boundingBox())!;
        await page.mouse.click(box.x + at.x, box.y + at.y);
        await expect(page.locator('#details dd[data-field="PEM"]').innerText()).resolves.toBe(train.pem);
        await page.locator('#walk-down').click();
        await expect(page.locator('#walk-result').innerText()).resolves.toMatch(/^\d+ node\(s\) added downstream\.$/);
        const after = await page.evaluate(() => (globalThis as unknown as PageGlobals).rkPage!.drawn());
        expect(after.nodes).toBeGreaterThan(before.nodes);
        // The first deploy used the first model: one hop downstream of its training, now drawn.
        expect(await nodeState(page, `pem:${example.pipeline.previousDeployPemId}`)).not.toBeNull();
        const hop = example.lineage.downstream({ pem: train.pem }, { maxHops: 1 });
        expect(after.nodes).toBe(new Set([...example.explanation.lineage.nodes, ...hop.nodes].map((n) => n.key)).size);
        expect(errors).toEqual([]);
        expect(outside).toEqual([]);
        await page.close();
      } finally {
        for (const listener of others) process.off('SIGINT', listener);
        process.emit('SIGINT');
        for (const listener of others) process.on('SIGINT', listener);
      }
      expect(await running).toBe(0);
      expect(run.err.text).toContain('Stopped the lineage page.');
      await expect(fetch(url)).rejects.toThrow();
    });
  });

  // Compiling the command (buildRk) takes a minute or more on a busy two-core machine.
  it('the built rk view prints its URL and exits 0 on a real SIGINT', { timeout: 300_000 }, async () => {
    const cli = await buildRk('view');
    const child = spawn(process.execPath, [cli, 'view', 'churn-pipeline/production', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let stdout = '';
      const printed = await new Promise<{ url: string; nodes: number }>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString('utf8');
          if (stdout.includes('\n')) resolve(JSON.parse(stdout) as { url: string; nodes: number });
        });
        child.once('exit', (code) => reject(new Error(`rk view exited ${code} before printing its URL`)));
      });
      expect(printed.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(printed.nodes).toBe(example.explanation.lineage.nodes.length);
      const page = await fetch(printed.url);
      expect(page.status).toBe(200);
      expect(embedded(await page.text()).live).toBe(true);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      process.kill(child.pid!, 'SIGINT');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
    }
  });

  /**
   * The page toHtml writes for the example pipeline's "why does production run what it runs", opened
   * from a file in headless Chromium with every request outside file:// refused: it draws the
   * explanation node for node, shows a clicked PEM, and its slider moves the production tag as
   * stateAt says. A screenshot lands in .tmp/ for a person to look at (it is not committed).
   */
  describe.skipIf(!PRESENT && !REQUIRED)('the lineage page of the example pipeline, in headless Chromium', { timeout: 60_000 }, () => {
    let browser: Browser;
    let dir: string;
    let opened: WatchedPage;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'rk-view-'));
      const file = join(dir, 'why.html');
      await writeFile(file, await toHtml(example.explanation, { index: example.lineage.index, pems: example.pems }));
      browser = await sharedBrowser();
      opened = await watchedPage(browser);
      await opened.page.goto(pathToFileURL(file).href);
      await untilDrawn(opened.page);
    }, 120_000);

    afterAll(async () => {
      await opened?.page.close();
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
});

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
      browser = await sharedBrowser();
      dir = await mkdtemp(join(tmpdir(), 'rk-view-scale-'));
    });
    afterAll(async () => {
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
