// Peak RSS of a long listing through each wire (BENCHMARKS.md, "Generated operations and the
// Wire"): a fresh process lists --list PEMs (default 100 000) in pages of 500 with RKQuery from a
// page server in this process, once through the undici wire and once through fetch, --rounds times.
//
//   npm run build && node bench/list-wires.mjs [--list 100000] [--rounds 2]
//
// The undici wire is RKClient's on Node; RKQuery takes it here through the internal settings
// (resolveSettings(..., 'undici')), so the two wires read the very same listing.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { resolve, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(here, '../dist');
const { values: args } = parseArgs({
  options: { list: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '2' }, child: { type: 'string' }, url: { type: 'string' } },
});

if (args.child) {
  const { Service } = await import(pathToFileURL(`${dist}/core/service.js`).href);
  const { resolveSettings } = await import(pathToFileURL(`${dist}/core/settings.js`).href);
  const { queryOperations } = await import(pathToFileURL(`${dist}/generated/operations.js`).href);
  const { query } = await import(pathToFileURL(`${dist}/generated/facts.js`).href);
  const settings = resolveSettings('bench', { logger: { warn: () => {} } }, query.headers, args.child);
  const service = new Service('Query', args.url, queryOperations, query.headers, settings);
  let n = 0;
  for (let pageIndex = 0; ; pageIndex++) {
    const page = await service.run('listPems', () => ({ query: { pageSize: 500, pageIndex } }), undefined, { operation: 'Listing PEMs' });
    if (!page.ok) throw page.error;
    n += page.value.length;
    if (page.value.length < 500) break;
  }
  console.log(`${args.child.padEnd(6)} ${n} PEMs, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MiB`);
  process.exit(0);
}

const total = Number(args.list);
const pem = (i) => ({
  ID: i.toString(16).padStart(32, '0'), Type: 'bench', Predecessor: '', Emitter: 'bench', TimestampClient: '2026-12-01T00:00:00Z',
  TimestampReceived: '2026-12-01T00:00:01Z', Properties: { step: String(i) }, Tag: '', TagNamespace: '', UsesArtifacts: [`dataset-${i}`], ProducesArtifacts: [`model-${i}`],
});
const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const size = Number(url.searchParams.get('pageSize'));
  const index = Number(url.searchParams.get('pageIndex'));
  const items = [];
  for (let i = index * size; i < Math.min(total, (index + 1) * size); i++) items.push(pem(i));
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(items));
});
await new Promise((done) => server.listen(0, '127.0.0.1', done));
const url = `http://127.0.0.1:${server.address().port}/query`;
for (let round = 0; round < Number(args.rounds); round++) {
  for (const wire of ['undici', 'fetch']) {
    await new Promise((done) => spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', wire, '--url', url], { stdio: 'inherit' }).on('exit', done));
  }
}
server.close();
