// The client's own cost (issue 13), on the built client, Node 20, plain ESM:
//
//   npm run build && node --expose-gc bench/client-perf.mjs [--count 1000] [--rounds 5] [--heap 100000] [--outbox-heap 0] [--list 100000] [--json]
//
// 1. sendPem against a bare node:http receiver (its own process, answers at once) beside the floor,
//    undici.request on a keep-alive Pool with the same bytes and headers: 1 and 8 in flight,
//    blocks of --count PEMs alternating floor / client, median of --rounds rounds. The client runs
//    with its defaults on: retries, the retry budget, deadlines, a `retry` and a `delivered`
//    listener ("events on").
// 2. Heap after GC before and after --heap sends with a client signal, and the listeners left on
//    that signal (events.getEventListeners); with --outbox-heap n, the same over n durable sends
//    (an outbox in os.tmpdir(), fsync off: the heap, not the disk, is measured).
// 3. Importing the client: median of 5 fresh processes, in-process time of `await import(...)`.
// 4. Listing --list PEMs with RKQuery.pems() (pages of 500) in a fresh process against a bare page
//    server (its own process, serving generated PEMs): peak RSS of the listing process. Seeding
//    100 000 PEMs into the local RK over HTTP takes minutes; the page server isolates the client.
import { spawn } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { resolve, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '5' },
    heap: { type: 'string', default: '100000' },
    'outbox-heap': { type: 'string', default: '0' },
    list: { type: 'string', default: '100000' },
    json: { type: 'boolean', default: false },
    child: { type: 'string' },
    url: { type: 'string' },
  },
});
const clientPath = resolve(here, '../dist/index.js');

// ---- child roles -------------------------------------------------------------------------------
if (args.child === 'receiver' || args.child === 'pages') {
  const { createServer } = await import('node:http');
  const info = JSON.stringify({ version: 'bench', pem_version: '2.0.0', pem_size_limit: 1048576, auth_required: false, pem_auth_required: false });
  // A stored PEM as GET /pems answers it (every field the spec requires).
  const pem = (i) => ({
    ID: i.toString(16).padStart(32, '0'),
    Type: 'bench',
    Predecessor: '',
    Emitter: 'bench',
    TimestampClient: '2026-12-01T00:00:00Z',
    TimestampReceived: '2026-12-01T00:00:01Z',
    Properties: { step: String(i) },
    Tag: '',
    TagNamespace: '',
    UsesArtifacts: [`dataset-${i}`],
    ProducesArtifacts: [`model-${i}`],
  });
  const total = Number(args.list);
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('Content-Type', 'application/json');
      if (req.url.endsWith('/info')) return res.end(info);
      if (args.child === 'pages') {
        const url = new URL(req.url, 'http://x');
        const size = Number(url.searchParams.get('pageSize') ?? total);
        const index = Number(url.searchParams.get('pageIndex') ?? 0);
        const items = [];
        for (let i = index * size; i < Math.min(total, (index + 1) * size); i++) items.push(pem(i));
        return res.end(JSON.stringify(items));
      }
      // The ID sits at the start of the client's JSON; no parse, the floor's server does the same.
      const text = Buffer.concat(chunks).toString('utf8');
      const at = text.indexOf('"ID":"');
      res.end(`{"ID":"${text.slice(at + 6, at + 38)}","status":"accepted"}`);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('disconnect', () => process.exit(0));
} else if (args.child === 'import') {
  const t = performance.now();
  await import(clientPath);
  console.log(JSON.stringify({ ms: performance.now() - t }));
} else if (args.child === 'list') {
  const { RKQuery } = await import(clientPath);
  const query = new RKQuery(args.url, { logger: { warn: () => {} } });
  let n = 0;
  let pages = 0;
  const heap = () => {
    globalThis.gc?.();
    return process.memoryUsage().heapUsed / 2 ** 20;
  };
  const rssBefore = process.memoryUsage().rss / 2 ** 20;
  const heapBefore = heap();
  const t = performance.now();
  for await (const pem of query.pems({ pageSize: 500, onProgress: (p) => (pages = p.pages) })) if (pem.ID) n++;
  const ms = performance.now() - t;
  console.log(JSON.stringify({ items: n, pages, ms, rssBeforeMiB: rssBefore, heapBeforeMiB: heapBefore, heapAfterMiB: heap(), maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
}

function startChild(role, extra = []) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', role, ...extra], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve) => child.once('message', (m) => resolve({ port: m.port, stop: () => child.kill() })));
}

function runChild(role, extra = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', role, ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`${role} exited ${code}`))));
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const id = () => randomBytes(16).toString('hex');

async function pool(n, inFlight, one) {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      await one();
    }
  };
  const t = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  return performance.now() - t;
}

async function main() {
  const COUNT = Number(args.count);
  const ROUNDS = Number(args.rounds);
  const { RKClient, RKQuery, VERSION } = await import(clientPath);
  const undici = await import('undici');
  const receiver = await startChild('receiver');
  const base = `http://127.0.0.1:${receiver.port}/receiver`;
  const results = { node: process.version, count: COUNT, rounds: ROUNDS, throughput: [] };

  // The floor: the same bytes and headers sendPem sends, on a keep-alive Pool.
  const floorPool = new undici.Pool(`http://127.0.0.1:${receiver.port}`);
  const rk = new RKClient(base, 'bench', { logger: { warn: () => {} } });
  let retries = 0;
  rk.on('retry', () => retries++);
  rk.on('delivered', () => {});
  const sample = () => rk.preparePem('bench', { artifacts: [rk.prepareArtifact('dataset', { rows: '1' })] });
  // The floor sends the bytes of one prepared PEM with a fresh ID: the wire alone, no preparation.
  const template = JSON.stringify(sample());
  const oldId = JSON.parse(template).ID;
  const floorOne = async () => {
    const ID = id();
    const body = template.replace(oldId, ID);
    const res = await floorPool.request({
      path: '/receiver/pem',
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': `recordkeeper-client-${VERSION}`, 'Idempotency-Key': ID, 'X-RK-Attempt': '1' },
      body,
    });
    await res.body.text();
  };
  // PEMs are prepared before each timed block (preparePem is the caller's step, not sendPem's),
  // as the floor's bytes are.
  let prepared = [];
  const prepare = (n) => (prepared = Array.from({ length: n }, sample));
  const clientOne = async () => {
    const r = await rk.sendPem(prepared.pop() ?? sample());
    if (!r.ok) throw r.error;
  };
  // Warm-up both paths (JIT, sockets, the client's /info).
  await pool(500, 8, floorOne);
  await pool(500, 8, clientOne);
  for (const inFlight of [1, 8]) {
    const floor = [];
    const client = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? ['floor', 'client'] : ['client', 'floor'];
      for (const which of order) {
        if (which === 'client') prepare(COUNT);
        const ms = await pool(COUNT, inFlight, which === 'floor' ? floorOne : clientOne);
        (which === 'floor' ? floor : client).push(ms);
      }
    }
    const f = median(floor);
    const c = median(client);
    results.throughput.push({ inFlight, floorPerSec: Math.round((COUNT / f) * 1000), clientPerSec: Math.round((COUNT / c) * 1000), ratio: +(c / f).toFixed(2) });
  }
  results.retries = retries;
  results.cpuPerPemUs = await cpuPerPem(clientOne, floorOne, COUNT, prepare);

  // Heap and listeners: 100 000 sends with a client signal.
  const controller = new AbortController();
  const signalled = new RKClient(base, 'bench', { logger: { warn: () => {} }, signal: controller.signal });
  const gc = globalThis.gc;
  const heapAfterGc = () => {
    gc?.();
    gc?.();
    return process.memoryUsage().heapUsed;
  };
  const HEAP = Number(args.heap);
  const warm = async (n) => pool(n, 8, async () => void (await signalled.sendPem(sample())));
  await warm(2000);
  const before = heapAfterGc();
  await warm(HEAP);
  const after = heapAfterGc();
  results.heap = {
    sends: HEAP,
    gcExposed: typeof gc === 'function',
    beforeMiB: +(before / 2 ** 20).toFixed(2),
    afterMiB: +(after / 2 ** 20).toFixed(2),
    bytesPerPem: +((after - before) / HEAP).toFixed(2),
    listenersOnClientSignal: getEventListeners(controller.signal, 'abort').length,
  };
  await signalled.close();
  const OUTBOX_HEAP = Number(args['outbox-heap']);
  if (OUTBOX_HEAP > 0) {
    // The durable send's signals: the same client signal, over sends that go through the outbox.
    const dir = mkdtempSync(join(tmpdir(), 'rk-perf-outbox-'));
    const outboxSignal = new AbortController();
    const durable = new RKClient(base, 'bench', { logger: { warn: () => {} }, signal: outboxSignal.signal, outbox: { dir, fsync: false } });
    const send = async (n) => pool(n, 8, async () => {
      const r = await durable.sendPem(sample());
      if (!r.ok) throw r.error;
    });
    await send(2000);
    const start = heapAfterGc();
    await send(OUTBOX_HEAP);
    const end = heapAfterGc();
    results.outboxHeap = {
      sends: OUTBOX_HEAP,
      beforeMiB: +(start / 2 ** 20).toFixed(2),
      afterMiB: +(end / 2 ** 20).toFixed(2),
      bytesPerPem: +((end - start) / OUTBOX_HEAP).toFixed(2),
      // One is the client's own: its signal stops the outbox's drainer.
      listenersOnClientSignal: getEventListeners(outboxSignal.signal, 'abort').length,
    };
    await durable.close();
    rmSync(dir, { recursive: true, force: true });
  }
  await rk.close();
  await floorPool.close();
  receiver.stop();

  // Import time, 5 fresh processes.
  const imports = [];
  for (let i = 0; i < 5; i++) imports.push((await runChild('import')).ms);
  results.importMs = +median(imports).toFixed(1);

  // Listing with the iterator against a page server.
  const pages = await startChild('pages', ['--list', args.list]);
  results.listing = await runChild('list', ['--url', `http://127.0.0.1:${pages.port}/query`, '--list', args.list]);
  pages.stop();
  void RKQuery;

  if (args.json) {
    console.log(JSON.stringify(results, null, 2));
    return;
  }
  console.log(`client performance (${process.version}, ${COUNT} PEMs per block, median of ${ROUNDS} rounds, receiver in its own process)`);
  console.log('| in flight | undici.request floor (/s) | sendPem (/s) | sendPem / floor time |');
  console.log('| ---: | ---: | ---: | ---: |');
  for (const t of results.throughput) console.log(`| ${t.inFlight} | ${t.floorPerSec} | ${t.clientPerSec} | ${t.ratio} |`);
  console.log(`CPU per PEM (process CPU time / PEMs, 8 in flight): sendPem ${results.cpuPerPemUs.client} µs, floor ${results.cpuPerPemUs.floor} µs; retries during the run: ${retries}`);
  const h = results.heap;
  console.log(`heap after GC (gc exposed: ${h.gcExposed}): ${h.beforeMiB} MiB before, ${h.afterMiB} MiB after ${h.sends} sends with a client signal (${h.bytesPerPem} B/PEM); listeners left on the client signal: ${h.listenersOnClientSignal}`);
  const o = results.outboxHeap;
  if (o) console.log(`heap after GC, outbox (fsync off): ${o.beforeMiB} MiB before, ${o.afterMiB} MiB after ${o.sends} durable sends with a client signal (${o.bytesPerPem} B/PEM); listeners on the client signal: ${o.listenersOnClientSignal} (the client's own, which stops the drainer)`);
  console.log(`import of the client (in-process, median of 5 fresh processes): ${results.importMs} ms`);
  const l = results.listing;
  console.log(
    `listing ${l.items} PEMs with RKQuery.pems({ pageSize: 500 }) (${l.pages} pages, bare page server): ${Math.round(l.ms)} ms, ` +
      `peak RSS of the listing process ${l.maxRssMiB.toFixed(1)} MiB (${l.rssBeforeMiB.toFixed(1)} MiB before the first page), ` +
      `heap after GC ${l.heapBeforeMiB.toFixed(1)} MiB before, ${l.heapAfterMiB.toFixed(1)} MiB after`,
  );
}

async function cpuPerPem(clientOne, floorOne, n, prepare) {
  const measure = async (one, before) => {
    before?.();
    const start = process.cpuUsage();
    await pool(n, 8, one);
    const used = process.cpuUsage(start);
    return Math.round((used.user + used.system) / n);
  };
  return { floor: await measure(floorOne), client: await measure(clientOne, () => prepare(n)) };
}

if (!args.child) await main();
