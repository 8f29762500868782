import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * Debian's Chromium driven by playwright-core, as test/browser/ launches it (flags for this closed
 * network), and a page that records its console errors and every request that leaves file:// or
 * the given origin: the lineage page must need no network.
 */
export const CHROMIUM = process.env.RK_CHROMIUM ?? '/usr/bin/chromium';
export const PRESENT = existsSync(CHROMIUM);
export const REQUIRED = process.env.RK_BROWSER_REQUIRED === '1';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}

export interface WatchedPage {
  page: Page;
  errors: string[];
  /** Requests to anywhere but file:// and `allowedOrigin`. */
  outside: string[];
}

export async function watchedPage(browser: Browser, allowedOrigin?: string, viewport = { width: 1400, height: 860 }): Promise<WatchedPage> {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  const outside: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file://') || url.startsWith('data:') || (allowedOrigin && url.startsWith(allowedOrigin))) return route.continue();
    outside.push(url);
    return route.abort();
  });
  return { page, errors, outside };
}

/** Waits until the page has drawn (window.rkPage.ready) and one frame has painted. */
export async function untilDrawn(page: Page, timeout = 30_000): Promise<void> {
  await page.waitForFunction(() => (globalThis as unknown as PageGlobals).rkPage?.ready === true, undefined, { timeout });
  await page.evaluate(() => new Promise((resolve) => (globalThis as unknown as PageGlobals).requestAnimationFrame(() => (globalThis as unknown as PageGlobals).requestAnimationFrame(() => resolve(null)))));
}

/** What the page puts on window (page/lineage/main.ts), typed for page.evaluate in a Node-typed test. */
export interface PageGlobals {
  rkPage?: {
    ready: boolean;
    renderMs: number;
    drawn(): { nodes: number; edges: number };
    cy: {
      nodes(selector?: string): { length: number; map<T>(f: (n: { id(): string; data(k: string): unknown; renderedPosition(): { x: number; y: number } }) => T): T[] };
      getElementById(id: string): { renderedPosition(): { x: number; y: number }; hasClass(c: string): boolean; data(k: string): unknown; empty(): boolean };
    };
  };
  requestAnimationFrame(callback: () => void): void;
}

/** The page's own view of the node with this key, from window.rkPage.cy. */
export async function nodeState(page: Page, key: string): Promise<{ x: number; y: number; future: boolean; superseded: boolean; tagged: string } | null> {
  return page.evaluate((k) => {
    const cy = (globalThis as unknown as PageGlobals).rkPage!.cy;
    const node = cy.getElementById(k);
    if (node.empty()) return null;
    const { x, y } = node.renderedPosition();
    return { x, y, future: node.hasClass('future'), superseded: node.hasClass('superseded'), tagged: String(node.data('tagged') ?? '') };
  }, key);
}
