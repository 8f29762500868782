// The guides (guides/*.md: every file there, whoever added it) as pages of the docs build:
// docs/guides/<name>.html, one per guide, with links between guides and to the README kept working,
// and a "Guides" list added to docs/index.html. scripts/docs.mjs calls addGuides once.
import fs from 'node:fs/promises';
import path from 'node:path';
import MarkdownIt from 'markdown-it';

const REPOSITORY = 'https://github.com/recordkeeper/recordkeeper-client/blob/main/';

const escapeHtml = (s) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

/**
 * Where a link of a guide points in the built docs: another guide's page, the docs index for the
 * README, and the repository for any other file of it (CHANGELOG.md, server/README.md).
 */
export function docsHref(href) {
  if (/^[a-z][a-z0-9+.-]*:|^#/i.test(href)) return href;
  const [file, anchor] = href.split('#');
  const hash = anchor === undefined ? '' : `#${anchor}`;
  if (/^[\w.-]+\.md$/.test(file)) return `${file.replace(/\.md$/, '.html')}${hash}`;
  if (file === '../README.md') return `../index.html${hash}`;
  return `${REPOSITORY}${path.posix.normalize(path.posix.join('guides', file))}${hash}`;
}

/** One guide as a page: its first heading is the title. */
export function renderGuide(markdown) {
  const md = new MarkdownIt({ html: false, linkify: false });
  const defaultLink = md.renderer.rules.link_open ?? ((tokens, idx, options, env, self) => self.renderToken(tokens, idx, options));
  md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    const token = tokens[idx];
    const href = token.attrGet('href');
    if (href) token.attrSet('href', docsHref(href));
    return defaultLink(tokens, idx, options, env, self);
  };
  const title = /^# (.+)$/m.exec(markdown)?.[1]?.replace(/`/g, '') ?? 'Guide';
  const body = md.render(markdown);
  const html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} · recordkeeper-client</title>
<style>body{font-family:system-ui,sans-serif;max-width:56rem;margin:3rem auto;padding:0 1rem;line-height:1.5}pre{background:#f5f5f5;padding:.75rem;overflow-x:auto}code{font-size:.9em}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.25rem .5rem;vertical-align:top}</style></head>
<body>
${body}</body>
</html>
`;
  return { title, html };
}

/** Renders every guides/*.md into `out`/guides and lists them in `out`/index.html (when it exists). */
export async function addGuides(root, out) {
  const dir = path.join(root, 'guides');
  const names = (await fs.readdir(dir)).filter((name) => name.endsWith('.md')).sort();
  await fs.mkdir(path.join(out, 'guides'), { recursive: true });
  const written = [];
  for (const name of names) {
    const { title, html } = renderGuide(await fs.readFile(path.join(dir, name), 'utf8'));
    const page = `${name.replace(/\.md$/, '')}.html`;
    await fs.writeFile(path.join(out, 'guides', page), html);
    written.push({ page, title });
  }
  const index = path.join(out, 'index.html');
  const current = await fs.readFile(index, 'utf8').catch(() => undefined);
  if (current !== undefined) {
    const items = written.map((g) => `    <li><a href="./guides/${g.page}">${escapeHtml(g.title)}</a></li>`).join('\n');
    await fs.writeFile(index, current.replace('</body>', `  <h2>Guides</h2>\n  <ul>\n${items}\n  </ul>\n</body>`));
  }
  return written;
}
