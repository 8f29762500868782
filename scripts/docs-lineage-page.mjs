// The docs build's example lineage page (issue 22): the example pipeline (examples/pipeline.ts)
// run against an in-memory local Record Keeper, "why does production run what it runs" explained,
// and written with toHtml as docs/lineage-example.html, linked from docs/index.html, so a reader
// sees what RK answers before installing anything. Needs the built client and local RK
// (`npm run build:all`); scripts/docs.mjs calls it after writing the index.
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './apis.mjs';

const PAGE = 'lineage-example.html';

export async function addLineagePage(out) {
  const built = (file) => pathToFileURL(path.join(ROOT, file)).href;
  let client, server, example;
  try {
    client = await import(built('dist/index.js'));
    server = await import(built('server/dist/server/src/index.js'));
    example = await import(built('server/dist/examples/pipeline.js'));
  } catch (error) {
    throw new Error(`docs: the example lineage page needs the built client and local RK (npm run build:all): ${error instanceof Error ? error.message : error}`);
  }
  const rk = await server.startLocalRK({ memory: true });
  try {
    await example.runPipeline({ urls: rk, print: () => {} });
    const query = new client.RKQuery(rk.queryUrl);
    const lineage = new client.RKLineage(query);
    const loaded = await lineage.load();
    if (!loaded.ok) throw loaded.error;
    const why = lineage.explain({ namespace: 'churn-pipeline', tag: 'production' });
    const pems = new Map();
    for (const step of why.steps) {
      const pem = await query.getPem(step.pem);
      if (pem.ok) pems.set(step.pem, pem.value);
    }
    const html = await client.toHtml(why, { index: lineage.index, pems, title: 'Example: why does churn-pipeline/production run what it runs?' });
    await fs.writeFile(path.join(out, PAGE), html);
  } finally {
    await rk.stop();
  }
  const indexFile = path.join(out, 'index.html');
  const index = await fs.readFile(indexFile, 'utf8');
  const section = `  <h2>See an answer</h2>
  <ul>
    <li><a href="./${PAGE}">The example pipeline's lineage</a> — what <code>rk view churn-pipeline/production</code> shows for
    <code>npm start</code>'s two rounds of ingest, train, evaluate and deploy: the graph in time order, the explain summary, and a
    time slider that moves the production tag back to the first deploy.</li>
  </ul>
`;
  await fs.writeFile(indexFile, index.replace('</body>', `${section}</body>`));
  console.log(`docs: wrote ${path.relative(ROOT, path.join(out, PAGE))} and linked it from index.html`);
}
