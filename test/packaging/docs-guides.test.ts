import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without declarations
import { addGuides, docsHref } from '../../scripts/docs-guides.mjs';
import { ROOT } from './packed-project.js';

/** The guides in the docs build: every guides/*.md becomes a page, listed on the index, links kept working. */
describe('the guides in the docs build', () => {
  it('renders every guide, whoever added it, and lists each on the index page', async () => {
    const out = await mkdtemp(join(tmpdir(), 'rk-docs-'));
    try {
      await writeFile(join(out, 'index.html'), '<html><body><h1>Record Keeper APIs</h1></body></html>');
      const written = (await addGuides(ROOT, out)) as { page: string; title: string }[];
      const guides = readdirSync(join(ROOT, 'guides')).filter((f) => f.endsWith('.md'));
      expect(written.map((g) => g.page).sort()).toEqual(guides.map((f) => f.replace(/\.md$/, '.html')).sort());
      const index = await readFile(join(out, 'index.html'), 'utf8');
      for (const guide of written) expect(index).toContain(`<a href="./guides/${guide.page}">`);
      const errors = await readFile(join(out, 'guides', 'errors.html'), 'utf8');
      expect(errors).toContain('<title>Errors · recordkeeper-client</title>');
      expect(errors).toContain('<a href="../index.html">README</a>');
      expect(errors).toContain('<a href="delivery.html">');
      expect(errors).toMatch(/<table>[\s\S]*RKAuthError/);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('points links at guide pages, the index, or the repository', () => {
    expect(docsHref('lineage.md#semantics')).toBe('lineage.html#semantics');
    expect(docsHref('../README.md')).toBe('../index.html');
    expect(docsHref('../BENCHMARKS.md')).toBe('https://github.com/recordkeeper/recordkeeper-client/blob/main/BENCHMARKS.md');
    expect(docsHref('https://no-color.org')).toBe('https://no-color.org');
  });

  it('every relative link of a guide names a file that exists', () => {
    for (const name of readdirSync(join(ROOT, 'guides')).filter((f) => f.endsWith('.md'))) {
      const text = readFileSync(join(ROOT, 'guides', name), 'utf8');
      for (const [, href] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:|^#/.test(href!)) continue;
        expect(() => readFileSync(join(ROOT, 'guides', href!.split('#')[0]!)), `${name} links to ${href}`).not.toThrow();
      }
    }
  });
});
