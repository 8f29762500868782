import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { join } from 'node:path';
import { build } from 'esbuild';
import { build as viteBuild } from 'vite';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRK, type LocalRK } from '../../server/src/index.js';
import { packedProject, ROOT, type PackedProject } from '../packaging/packed-project.js';

/**
 * The client in a browser, bundled as a user's project bundles it: a project with the packed
 * tarball installed (the run's one install, test/packaging/packed-project.ts), bundled with no
 * flags at all, once by esbuild (`--bundle --platform=browser`) and once by a Vite build with
 * no config. Each bundle is served with its test page from one origin that also proxies
 * /receiver, /query and /graph-builder to the local RK (no CORS needed), and run in Debian's
 * headless Chromium driven by playwright-core. Skipped without /usr/bin/chromium unless
 * RK_BROWSER_REQUIRED=1 (CI installs it).
 */
const CHROMIUM = process.env.RK_CHROMIUM ?? '/usr/bin/chromium';
const PRESENT = existsSync(CHROMIUM);
const REQUIRED = process.env.RK_BROWSER_REQUIRED === '1';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const MISSING = `(${CHROMIUM} is missing: apt-get install chromium, or set RK_CHROMIUM to a Chromium; CI installs it and sets RK_BROWSER_REQUIRED=1)`;

describe.skipIf(!PRESENT && !REQUIRED)(`the client in headless Chromium${PRESENT || REQUIRED ? '' : ` ${MISSING}`}`, { timeout: 60_000 }, () => {
  let rk: LocalRK;
  let project: PackedProject | undefined;
  let out: string;
  let server: Server;
  let origin: string;
  let browser: Browser | undefined;

  beforeAll(async () => {
    [rk, project] = await Promise.all([startLocalRK({ memory: true, graphIntervalMs: 60_000 }), packedProject()]);
    out = project.dir;
    await writeFile(join(out, 'page.mjs'), await readFile(join(ROOT, 'test/browser/page.mjs')));
    await writeFile(join(out, 'index.html'), '<!doctype html><script type="module" src="./page.mjs"></script>');
    await build({ entryPoints: [join(out, 'page.mjs')], bundle: true, platform: 'browser', outfile: join(out, 'esbuild', 'page.js'), logLevel: 'silent' });
    // Vite's cache in the project, not in the install the other suites share.
    await viteBuild({ root: out, configFile: false, logLevel: 'silent', cacheDir: join(out, '.vite'), build: { outDir: join(out, 'vite'), emptyOutDir: true } });
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
      if (url === '/esbuild/') {
        res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><script src="/esbuild/page.js"></script>');
        return;
      }
      // Vite's page asks for /assets/<chunk>.js (its base is the site root).
      const file = /^\/(esbuild\/|vite\/|)((?:assets\/)?[\w.-]+)$/.exec(url);
      const folder = file?.[1] === 'esbuild/' ? 'esbuild' : 'vite';
      const path = url === '/vite/' ? join(out, 'vite', 'index.html') : file ? join(out, folder, file[2]!) : undefined;
      if (!path) return void res.writeHead(404).end();
      readFile(path).then(
        (body) => res.writeHead(200, { 'Content-Type': path.endsWith('.html') ? 'text/html' : 'text/javascript' }).end(body),
        () => res.writeHead(404).end(),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    // playwright-core gives Chromium a new empty profile of its own (it refuses --user-data-dir here).
    if (PRESENT) browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await rk?.stop();
    await project?.remove();
  });

  it('both bundles were built with no flags, and the code they load first has no node: import', async () => {
    const esbuilt = await readFile(join(out, 'esbuild', 'page.js'), 'utf8');
    expect(esbuilt).not.toMatch(/from\s*["']node:|require\(["']node:/);
    expect(esbuilt).toContain('a browser has no file system for an outbox');
    const assets = await readdir(join(out, 'vite', 'assets'));
    const entry = assets.find((name) => /^index-.*\.js$/.test(name))!;
    expect(await readFile(join(out, 'vite', 'assets', entry), 'utf8')).not.toMatch(/from\s*["']node:/);
    for (const chunk of assets) expect(await readFile(join(out, 'vite', 'assets', chunk), 'utf8'), chunk).not.toMatch(/from\s*["']node:/);
  });

  for (const bundler of ['esbuild', 'vite'] as const) {
    it(`sends, tags and reads back a PEM (${bundler}); the test kit loads; an outbox says it is not available and the PEM is sent directly`, async () => {
      expect(PRESENT, `${CHROMIUM} is missing: apt-get install chromium`).toBe(true);
      const page = await browser!.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${origin}/${bundler}/`);
      await page.waitForFunction(() => 'rkResult' in globalThis);
      const result = await page.evaluate(() => (globalThis as unknown as { rkResult: Promise<unknown> }).rkResult);
      expect(errors).toEqual([]);
      expect(result).toEqual({
        factory: 'RKClient',
        mock: true,
        status: 'accepted',
        produces: ['browser-artifact'],
        properties: { agent: 'chromium' },
        tagged: true,
        outbox: { status: 'accepted', warning: expect.stringContaining('a browser has no file system for an outbox') },
      });
    });
  }
});
