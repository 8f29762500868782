// Builds the API reference: one self-contained Redoc page per spec (the Redoc script is inlined, so
// the pages work offline and the build needs no network), and an index that links them.
import fs from 'node:fs/promises';
import path from 'node:path';
import { APIS, ROOT, bin, run } from './apis.mjs';

const OUT = path.join(ROOT, 'docs');

const ABOUT = {
  receiver: 'Accepts PEMs (provenance events) and moves tags. Used by RKClient.',
  query: 'Reads PEMs, artifacts and tags back, queries the lineage graph, runs maintenance reports. Used by RKQuery and RKAdmin.',
  'graph-builder': 'Keeps the lineage graph in step with the stored PEMs. Used by RKAdmin.',
};

await fs.mkdir(OUT, { recursive: true });
for (const api of APIS) {
  const output = path.join(OUT, `${api.name}.html`);
  const code = await run(bin('redocly'), ['build-docs', api.alias, '--inlineBundle', '-o', output]);
  if (code !== 0) {
    console.error(`docs: redocly build-docs failed for ${api.alias} (exit ${code})`);
    process.exit(code);
  }
}

const items = APIS.map(
  (api) => `    <li><a href="${api.name}.html">${api.name}</a> — ${ABOUT[api.name] ?? ''}</li>`,
).join('\n');
await fs.writeFile(
  path.join(OUT, 'index.html'),
  `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Record Keeper APIs</title>
<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:3rem auto;line-height:1.5}</style></head>
<body>
  <h1>Record Keeper APIs</h1>
  <p>The three services recordkeeper-client talks to, from the OpenAPI specs in <code>openapi/</code>.</p>
  <ul>
${items}
  </ul>
</body>
</html>
`,
);
console.log(`docs: wrote ${path.relative(ROOT, OUT)}/index.html and ${APIS.map((a) => `${a.name}.html`).join(', ')}`);
