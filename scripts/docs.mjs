// Builds the API reference: one self-contained Redoc page per spec, the TypeScript reference
// (TypeDoc, into docs/api; an undocumented public symbol fails the build), an index that links
// them, and the guides (docs-guides.mjs). docs/ is build output (gitignored).
// The TypeScript reference is reused when the docs test (or an earlier run) built it from the
// same inputs (docs-api.mjs), so a CI run, which runs that test first, runs TypeDoc once.
import fs from 'node:fs/promises';
import path from 'node:path';
import { APIS, REDOCLY_ENV, ROOT, bin, run } from './apis.mjs';
import { specsWithSamples } from './docs-samples.mjs';
import { addLineagePage } from './docs-lineage-page.mjs';
import { addGuides } from './docs-guides.mjs';
import { apiReferenceIsCurrent, buildApiReference } from './docs-api.mjs';

const OUT = path.join(ROOT, 'docs');

const ABOUT = {
  receiver: 'Accepts PEMs (provenance events) and moves tags. Used by RKClient.',
  query: 'Reads PEMs, artifacts and tags back, queries the lineage graph, runs maintenance reports. Used by RKQuery and RKAdmin.',
  'graph-builder': 'Keeps the lineage graph in step with the stored PEMs. Used by RKAdmin.',
};

const escapeHtml = (s) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

async function buildOne(api, source = api.alias) {
  const output = path.join(OUT, `${api.name}.html`);
  const code = await run(
    bin('redocly'),
    [
      'build-docs',
      // The spec bundled with its TypeScript samples (docs-samples.mjs), or else the alias.
      source,
      '--output',
      output,
      // Embed Redoc's JS instead of loading it from cdn.redocly.com when the
      // page is opened: the pages then work offline and from file://, and do
      // not depend on the CDN's copy matching the installed CLI. (Building
      // needs no network either way.) Costs ~2.5 MB per page.
      '--inlineBundle',
      // Otherwise the page reports usage to Redocly from readers' browsers.
      '--openapi.disableTelemetry=true',
    ],
    { env: REDOCLY_ENV },
  );
  if (code !== 0) throw new Error(`docs: redocly build-docs failed for ${api.alias} (exit ${code})`);
  // Redoc puts the spec's info.title in <title>; reusing it spares a YAML parser.
  const html = await fs.readFile(output, 'utf8');
  const title = /<title>([^<]*)<\/title>/.exec(html)?.[1]?.trim() || escapeHtml(api.name);
  return { ...api, title };
}

/** TypeDoc with typedoc.config.mjs; validation warnings (an undocumented export) are errors. */
async function buildTypeScriptReference() {
  if (apiReferenceIsCurrent()) {
    console.log('docs: docs/api is already built from the current sources (by the docs test or an earlier run); TypeDoc not run again');
    return;
  }
  const { code } = await buildApiReference({ echo: true });
  if (code !== 0) throw new Error(`docs: typedoc failed (exit ${code}): every public export needs a doc comment`);
}

function indexPage(pages) {
  const items = pages
    .map(
      (p) =>
        `    <li><a href="./${p.name}.html">${p.title}</a> <code>${escapeHtml(p.alias)}</code> — ` +
        `${escapeHtml(ABOUT[p.name] ?? '')}</li>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Record Keeper APIs</title>
<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;line-height:1.5}li{margin-bottom:.75rem}</style></head>
<body>
  <h1>Record Keeper APIs</h1>
  <p>The three services recordkeeper-client talks to, from the OpenAPI specs in <code>openapi/</code>.</p>
  <ul>
${items}
  </ul>
  <h2>TypeScript</h2>
  <ul>
    <li><a href="./api/index.html">recordkeeper-client API reference</a> — RKClient, RKQuery, RKAdmin, the error classes,
    the options and the test kit (<code>recordkeeper-client/testing</code>), from the doc comments in <code>src/</code>.</li>
  </ul>
</body>
</html>
`;
}

try {
  await fs.mkdir(OUT, { recursive: true });
  // One at a time: each build-docs takes a few hundred MB, and their logs stay readable.
  const pages = [];
  // Every operation's facade call as a TypeScript sample, from src/facade-operations.ts.
  const samples = await specsWithSamples();
  for (const api of APIS) pages.push(await buildOne(api, samples.files[api.name]));
  await samples.cleanup();
  await buildTypeScriptReference();
  await fs.writeFile(path.join(OUT, 'index.html'), indexPage(pages));
  await addLineagePage(OUT);
  await addGuides(ROOT, OUT);
  console.log(`docs: wrote ${path.relative(ROOT, OUT)}/index.html, ${APIS.map((a) => `${a.name}.html`).join(', ')} api/ and guides/`);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
