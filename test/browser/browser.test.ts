import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRK, type LocalRK } from '../../server/src/index.js';
import { ROOT } from '../packaging/packed-project.js';

/**
 * The client in a browser: dist/ bundled by esbuild for platform browser (code splitting, so the
 * outbox's chunk with its node: imports is loaded only when an outbox is asked for; undici, loaded
 * only for `insecure`, stays external), served with a test page from one origin that also
 * proxies /receiver, /query and /graph-builder to the local RK (no CORS needed), and run in
 * Debian's headless Chromium driven by playwright-core. Skipped without /usr/bin/chromium unless
 * RK_BROWSER_REQUIRED=1 (CI installs it).
 */
const CHROMIUM = process.env.RK_CHROMIUM ?? '/usr/bin/chromium';
const PRESENT = existsSync(CHROMIUM);
const REQUIRED = process.env.RK_BROWSER_REQUIRED === '1';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe.skipIf(!PRESENT && !REQUIRED)('the client in headless Chromium', { timeout: 60_000 }, () => {
  let rk: LocalRK;
  let out: string;
  let server: Server;
  let origin: string;
  let browser: Browser;

  beforeAll(async () => {
    rk = await startLocalRK({ memory: true, graphIntervalMs: 60_000 });
    out = await mkdtemp(join(tmpdir(), 'rk-browser-'));
    await build({
      entryPoints: [join(ROOT, 'test/browser/page.mjs')],
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'browser',
      outdir: out,
      alias: { 'recordkeeper-client/testing': join(ROOT, 'dist/testing/index.js'), 'recordkeeper-client': join(ROOT, 'dist/index.js') },
      external: ['node:*', 'undici'],
      logLevel: 'silent',
    });
    const target = new URL(rk.receiverUrl);
    server = createServer((req, res) => {
      const url = req.url ?? '/';
      if (/^\/(receiver|query|graph-builder)(\/|$)/.test(url)) {
        const upstream = httpRequest({ host: target.hostname, port: target.port, path: url, method: req.method, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        upstream.on('error', () => res.writeHead(502).end());
        req.pipe(upstream);
        return;
      }
      if (url === '/') {
        res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><script type="module" src="/page.js"></script>');
        return;
      }
      readFile(join(out, url.replace(/^\//, '').replace(/[^\w.-]/g, ''))).then(
        (body) => res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(body),
        () => res.writeHead(404).end(),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    // playwright-core gives Chromium a new empty profile of its own (it refuses --user-data-dir here).
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await rk?.stop();
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('the core bundle has no node: import outside the lazily loaded outbox chunk', async () => {
    const page = await readFile(join(out, 'page.js'), 'utf8');
    expect(page).not.toMatch(/from\s*["']node:/);
  });

  it('sends, tags and reads back a PEM; the test kit loads and its factory needs no process.env', async () => {
    expect(PRESENT, `${CHROMIUM} is missing: apt-get install chromium`).toBe(true);
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => 'rkResult' in globalThis);
    const result = await page.evaluate(() => (globalThis as unknown as { rkResult: Promise<unknown> }).rkResult);
    expect(errors).toEqual([]);
    expect(result).toEqual({ factory: 'RKClient', mock: true, status: 'accepted', produces: ['browser-artifact'], properties: { agent: 'chromium' }, tagged: true });
  });
});
