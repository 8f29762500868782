// The lineage page's render time (issue 22), on the built client in Debian's headless Chromium:
//
//   npm run build && node bench/lineage-page.mjs [--sizes 20,500,2000] [--rounds 3] [--json]
//
// For each size, the explanation of bench/synthetic-lineage.mjs's pipeline cut at that many nodes
// is written with toHtml (index given: the time slider's stateAt answers are in it) and opened from
// a file, --rounds times in a fresh page each. Reported: the file's size, toHtml's time in Node,
// and in the browser the median time from navigation to the graph being drawn (window.rkPage.ready,
// then two animation frames) and the page's own figure for data, folding and layout. The first
// size is the floor: every figure is also printed as a ratio to it, measured in the same run.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { syntheticExplanation } from './synthetic-lineage.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({ options: { sizes: { type: 'string', default: '20,500,2000' }, rounds: { type: 'string', default: '3' }, json: { type: 'boolean', default: false } } });
const sizes = args.sizes.split(',').map(Number);
const rounds = Number(args.rounds);
const lib = await import(pathToFileURL(resolve(here, '../dist/index.js')).href);
const CHROMIUM = process.env.RK_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const dir = mkdtempSync(join(tmpdir(), 'rk-page-bench-'));
const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
const rows = [];
try {
  for (const size of sizes) {
    const { index, explanation } = syntheticExplanation(size, lib);
    const t0 = performance.now();
    const html = await lib.toHtml(explanation, { index });
    const htmlMs = performance.now() - t0;
    const file = join(dir, `page-${size}.html`);
    writeFileSync(file, html);
    const walls = [];
    const inPage = [];
    let drawn;
    for (let round = 0; round < rounds; round++) {
      const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
      const errors = [];
      page.on('pageerror', (error) => errors.push(error.message));
      const start = performance.now();
      await page.goto(pathToFileURL(file).href);
      await page.waitForFunction(() => window.rkPage?.ready === true, undefined, { timeout: 120_000 });
      await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
      walls.push(performance.now() - start);
      const figures = await page.evaluate(() => ({ renderMs: window.rkPage.renderMs, drawn: window.rkPage.drawn() }));
      inPage.push(figures.renderMs);
      drawn = figures.drawn;
      if (errors.length) throw new Error(`the ${size}-node page failed: ${errors.join('; ')}`);
      await page.close();
    }
    rows.push({ nodes: explanation.lineage.nodes.length, edges: explanation.lineage.edges.length, drawnNodes: drawn.nodes, drawnEdges: drawn.edges, bytes: Buffer.byteLength(html), toHtmlMs: htmlMs, renderMs: median(walls), inPageMs: median(inPage) });
  }
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}

const floor = rows[0];
if (args.json) console.log(JSON.stringify({ rounds, rows }, null, 2));
else {
  console.log(`Lineage page render, headless Chromium, median of ${rounds} (floor: the ${floor.nodes}-node page)`);
  console.log('nodes  edges  drawn (nodes/edges)   file KiB  toHtml ms   render ms (x floor)   in-page ms (x floor)');
  for (const r of rows) {
    console.log(
      `${String(r.nodes).padStart(5)}  ${String(r.edges).padStart(5)}  ${`${r.drawnNodes}/${r.drawnEdges}`.padStart(19)}   ${(r.bytes / 1024).toFixed(0).padStart(8)}  ${r.toHtmlMs.toFixed(0).padStart(9)}   ${r.renderMs.toFixed(0).padStart(9)} (${(r.renderMs / floor.renderMs).toFixed(1)}x)   ${r.inPageMs.toFixed(0).padStart(10)} (${(r.inPageMs / floor.inPageMs).toFixed(1)}x)`,
    );
  }
}
