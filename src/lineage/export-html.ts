import type { LineageGraphSource } from './export-graph.js';
import { toPageData, type LineagePageData, type LineagePageOptions } from './page-data.js';

/**
 * The lineage as one self-contained HTML page: the graph (Cytoscape.js with a dagre layout, left
 * to right in time order), the explain summary, node details, search and, when the index is
 * given, a time slider that shows tags and artifact versions as `stateAt` says they were. Script,
 * style and data are inlined: the file opens from disk or an incident ticket with no network.
 *
 *   writeFileSync('why.html', await toHtml(lineage.explain(target), { index: lineage.index }));
 *
 * It resolves a Promise because the page's script (half a megabyte with Cytoscape.js) is loaded
 * on the first call, not with the library: importing the client stays as fast as before.
 */
export async function toHtml(source: LineageGraphSource, options: LineagePageOptions = {}): Promise<string> {
  return pageHtml(toPageData(source, options));
}

/** The page for data already computed (`rk view` serves it with `live` set). */
export async function pageHtml(data: LineagePageData): Promise<string> {
  const { PAGE_SCRIPT, PAGE_STYLE } = await import('./page-asset.js');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="recordkeeper-client">
<title>${escapeHtml(data.title)}</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<noscript><p>This lineage page needs JavaScript to draw the graph. The data is in the rk-data script element of this file.</p></noscript>
<script type="application/json" id="rk-data">${jsonForScript(data)}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

/** JSON that cannot end its <script> element or open a comment: `<`, `>` and `&` as \u escapes. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
