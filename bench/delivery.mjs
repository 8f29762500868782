// What durability costs: sendPem throughput with and without the outbox (fsync on), beside a raw
// fetch of the same bytes, against the local RK server and against a bare HTTP receiver (which
// isolates the client's own cost). Node 20, plain ESM, on the built client:
//
//   npm run build && node bench/delivery.mjs [--count 1000] [--rounds 3] [--receiver local|plain|both] [--dir /path] [--json]
//
// --client <path to a built index.js> runs another build than ../dist (the default).
// --drain <n> [--concurrency 1,2,4,8] measures, instead of the modes below, how fast a client drains
// a backlog of n PEMs its outbox holds (written while the Receiver was unreachable) at each
// outbox.concurrency, beside n direct sends at the default 8 in flight (fsync on, as by default).
// --drain <n> --faults 0,0.1,0.36 measures instead how fast that backlog drains at the default
// concurrency through a proxy failing each share of POST /pem (scripts/fault-proxy.mjs: the chaos
// run's failures, without its delays, scaled to that share), against the figure the healthy share allows (the 0 %
// rate times 1 - share). --drain-timeout <s> (default 300) bounds each drain.
// Modes run in rotation for --rounds rounds and each figure is the median, so no mode profits from
// going first or last (connection warm-up, the server's database growing, its background loop).
// Client and server share the machine's cores: the figures compare modes, not deployments.
//
// "local" needs the local server built (recordkeeper-local's dist); it is skipped with a note
// otherwise. The outbox folder defaults to os.tmpdir(): fsync cost depends on that filesystem, so
// run with --dir on the disk you care about.
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { failuresAt, startFaultProxy } from '../scripts/fault-proxy.mjs';

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    sequential: { type: 'string', default: '300' },
    receiver: { type: 'string', default: 'both' },
    dir: { type: 'string' },
    json: { type: 'boolean', default: false },
    client: { type: 'string' },
    drain: { type: 'string' },
    concurrency: { type: 'string', default: '1,2,4,8' },
    faults: { type: 'string' },
    'drain-timeout': { type: 'string', default: '300' },
  },
});
const COUNT = Number(args.count);
const SEQUENTIAL = Number(args.sequential);
const ROUNDS = Number(args.rounds);
const IN_FLIGHT = 8; // the client's default maxInFlight; the raw baseline gets the same

const clientUrl = args.client ? new URL(`file://${resolve(args.client)}`).href : '../dist/index.js';
const { RKClient } = await import(clientUrl).catch((error) => {
  console.error(`bench/delivery.mjs needs the built client: run "npm run build" first (${error.message})`);
  process.exit(1);
});
const silent = { warn: () => {} };

/** A receiver that stores by ID in memory and acknowledges: the floor under every client. */
async function startPlainReceiver() {
  const stored = new Map();
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('Content-Type', 'application/json');
      if (req.url === '/receiver/info') {
        res.end(JSON.stringify({ version: 'bench', pem_version: '2.0.0', pem_size_limit: 1048576, auth_required: false, pem_auth_required: false }));
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      const { ID } = JSON.parse(body);
      const status = stored.has(ID) ? 'duplicate' : 'accepted';
      stored.set(ID, body);
      res.end(JSON.stringify({ ID, status }));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    name: 'plain HTTP receiver (in-memory Map, same process)',
    url: `http://127.0.0.1:${server.address().port}/receiver`,
    stop: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}

async function startLocalReceiver() {
  let local;
  try {
    local = await import('recordkeeper-local');
  } catch (error) {
    return { skipped: `local RK server not available (build it first: ${error.message.split('\n')[0]})` };
  }
  const rk = await local.startLocalRK({ memory: true, onError: () => {} });
  return { name: 'local RK (recordkeeper-local, PGlite in memory)', url: rk.receiverUrl, stop: () => rk.stop() };
}

function pemsFor(client, n, tag) {
  return Array.from({ length: n }, (_, i) => {
    const pem = client.preparePem('bench', { properties: { tag, i, note: 'x'.repeat(200) } });
    pem.usesArtifact(client.prepareArtifact(`dataset-${i % 50}`, { uri: `s3://bench/${i % 50}.csv` }));
    return pem;
  });
}

/** Runs `send` over the items with at most `limit` at a time; resolves with each call's ms. */
async function pool(items, limit, send) {
  const times = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      const t0 = performance.now();
      await send(item);
      times.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return times;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(label, make) {
  const { send, pems, done } = await make();
  await pool(pems.warm, IN_FLIGHT, send); // warm up connections, JIT, the size-limit read
  const t0 = performance.now();
  await pool(pems.throughput, IN_FLIGHT, send);
  const seconds = (performance.now() - t0) / 1000;
  const latencies = (await pool(pems.sequential, 1, send)).sort((a, b) => a - b);
  await done?.();
  return {
    mode: label,
    perSecond: pems.throughput.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

function split(client, tag) {
  return {
    warm: pemsFor(client, 200, `${tag}-warm`),
    throughput: pemsFor(client, COUNT, tag),
    sequential: pemsFor(client, SEQUENTIAL, `${tag}-seq`),
  };
}

const MODES = [
  ['raw fetch (baseline)', null],
  ['sendPem, no outbox', {}],
  ['sendPem, outbox, fsync on', { outbox: { fsync: true } }],
  ['sendPem, outbox, fsync off', { outbox: { fsync: false } }],
];

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function runMode(receiver, label, options, outboxRoot, round) {
  if (options === null) {
    return measure(label, async () => {
      const maker = new RKClient(receiver.url, 'bench', { logger: silent });
      return {
        pems: split(maker, `raw-${round}`),
        send: async (pem) => {
          const res = await fetch(`${receiver.url}/pem`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(pem) });
          if (!res.ok) throw new Error(`raw fetch: HTTP ${res.status}`);
          await res.json();
        },
      };
    });
  }
  const outbox = options.outbox ? { outbox: { ...options.outbox, dir: join(outboxRoot, `${round}-${options.outbox.fsync ? 'fsync' : 'nofsync'}`) } } : {};
  return measure(label, async () => {
    const client = new RKClient(receiver.url, 'bench', { logger: silent, ...outbox });
    return {
      pems: split(client, `${label}-${round}`),
      send: async (pem) => {
        const result = await client.sendPem(pem);
        if (!result.ok) throw result.error;
      },
      done: async () => {
        const report = await client.close();
        if (report.pending) throw new Error(`${label}: ${report.pending} PEMs left in the outbox`);
      },
    };
  });
}

async function bench(receiver) {
  const samples = new Map(MODES.map(([label]) => [label, []]));
  const outboxRoot = mkdtempSync(join(args.dir ?? tmpdir(), 'rk-bench-outbox-'));
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order each round.
      const order = MODES.map((_, i) => MODES[(i + round) % MODES.length]);
      for (const [label, options] of order) samples.get(label).push(await runMode(receiver, label, options, outboxRoot, round));
    }
  } finally {
    rmSync(outboxRoot, { recursive: true, force: true });
  }
  return MODES.map(([label]) => {
    const runs = samples.get(label);
    return {
      mode: label,
      perSecond: median(runs.map((r) => r.perSecond)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      rounds: runs.map((r) => Math.round(r.perSecond)),
    };
  });
}

function table(receiver, rows) {
  const base = rows[0].perSecond;
  const lines = [
    `### ${receiver.name}`,
    '',
    `${COUNT} PEMs at ${IN_FLIGHT} in flight for throughput; ${SEQUENTIAL} one at a time for latency; median of ${ROUNDS} rounds in rotation. Node ${process.versions.node}.`,
    '',
    '| mode | PEMs/s | vs raw fetch | latency p50 (ms) | latency p99 (ms) | PEMs/s per round |',
    '|---|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.mode} | ${r.perSecond.toFixed(0)} | ${((r.perSecond / base) * 100).toFixed(0)}% | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.rounds.join(', ')} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

/**
 * A backlog of n PEMs in an outbox folder: written by a client whose Receiver is unreachable (each
 * first attempt is refused at once, so every PEM is kept), which then closes without waiting.
 */
async function fillBacklog(dir, n) {
  const down = new RKClient('http://127.0.0.1:9/receiver', 'bench', { logger: silent, retry: false, outbox: { dir, fsync: false } });
  const pems = pemsFor(down, n, 'backlog');
  await pool(pems, IN_FLIGHT, async (pem) => {
    const result = await down.sendPem(pem);
    if (!result.ok || result.value.status !== 'persisted') throw new Error(`backlog: ${result.ok ? result.value.status : result.error.message}`);
  });
  await down.close({ timeoutMs: 0 });
}

/** Seconds until a new client (default options but `concurrency`) has delivered the whole backlog. */
async function drainOnce(receiver, dir, concurrency, n) {
  const t0 = performance.now();
  const client = new RKClient(receiver.url, 'bench', { logger: silent, outbox: { dir, concurrency } });
  const report = await client.flush({ timeoutMs: 600_000 });
  const seconds = (performance.now() - t0) / 1000;
  await client.close();
  if (report.pending || report.delivered !== n) throw new Error(`drain at concurrency ${concurrency}: ${report.delivered} of ${n} delivered, ${report.pending} pending`);
  return seconds;
}

async function drainBench(receiver, n, concurrencies) {
  const root = mkdtempSync(join(args.dir ?? tmpdir(), 'rk-bench-drain-'));
  const samples = new Map(concurrencies.map((c) => [c, []]));
  const direct = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const order = concurrencies.map((_, i) => concurrencies[(i + round) % concurrencies.length]);
      for (const c of order) {
        const dir = join(root, `${round}-${c}`);
        await fillBacklog(dir, n);
        samples.get(c).push(n / (await drainOnce(receiver, dir, c, n)));
      }
      const client = new RKClient(receiver.url, 'bench', { logger: silent });
      const pems = pemsFor(client, n, `direct-${round}`);
      const t0 = performance.now();
      await pool(pems, IN_FLIGHT, async (pem) => {
        const result = await client.sendPem(pem);
        if (!result.ok) throw result.error;
      });
      direct.push(n / ((performance.now() - t0) / 1000));
      await client.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const lines = [
    `### ${receiver.name}: draining a backlog of ${n} PEMs`,
    '',
    `Median of ${ROUNDS} rounds, concurrencies in rotation; Node ${process.versions.node}; fsync on (the default).`,
    '',
    '| outbox.concurrency | PEMs/s drained | per round |',
    '|---:|---:|---|',
    ...concurrencies.map((c) => `| ${c} | ${median(samples.get(c)).toFixed(0)} | ${samples.get(c).map(Math.round).join(', ')} |`),
    `| (direct sendPem, ${IN_FLIGHT} in flight, no outbox) | ${median(direct).toFixed(0)} | ${direct.map(Math.round).join(', ')} |`,
    '',
  ];
  return lines.join('\n');
}

/**
 * A backlog of n PEMs drained through a proxy failing `rate` of POST /pem, at the default
 * outbox options: PEMs/s delivered (also when the drain times out: delivered / seconds), the
 * requests the proxy saw and the faults it injected.
 */
async function faultyDrain(receiver, dir, n, rate) {
  const proxy = await startFaultProxy(new URL(receiver.url).origin, failuresAt(rate));
  const url = `http://127.0.0.1:${proxy.port}${new URL(receiver.url).pathname}`;
  try {
    const t0 = performance.now();
    const client = new RKClient(url, 'bench', { logger: silent, outbox: { dir } });
    const report = await client.flush({ timeoutMs: Number(args['drain-timeout']) * 1000 });
    const seconds = (performance.now() - t0) / 1000;
    await client.close({ timeoutMs: 0 });
    const { requests, forwarded, ...faults } = proxy.counts;
    return { perSecond: report.delivered / seconds, seconds, delivered: report.delivered, pending: report.pending, requests, faults };
  } finally {
    await proxy.close();
  }
}

async function faultBench(receiver, n, rates) {
  const root = mkdtempSync(join(args.dir ?? tmpdir(), 'rk-bench-faults-'));
  const samples = new Map(rates.map((rate) => [rate, []]));
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const order = rates.map((_, i) => rates[(i + round) % rates.length]);
      for (const rate of order) {
        const dir = join(root, `${round}-${rate}`);
        await fillBacklog(dir, n);
        const run = await faultyDrain(receiver, dir, n, rate);
        samples.get(rate).push(run);
        if (!args.json) console.error(`  round ${round + 1}, ${rate * 100} %: ${JSON.stringify({ ...run, perSecond: Math.round(run.perSecond), seconds: Math.round(run.seconds * 10) / 10 })}`);
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const rateOf = (rate) => median(samples.get(rate).map((r) => r.perSecond));
  const healthy = rateOf(rates.includes(0) ? 0 : rates[0]);
  const lines = [
    `### ${receiver.name}: draining ${n} PEMs through a proxy failing a share of POST /pem`,
    '',
    `Median of ${ROUNDS} round(s), rates in rotation; default outbox options (concurrency 4, fsync on); each drain bounded at ${args['drain-timeout']} s; Node ${process.versions.node}.`,
    '',
    '| failing share | PEMs/s drained | healthy-share rate (0 % x (1 - share)) | drained / healthy-share | delivered, pending, seconds (per round) |',
    '|---:|---:|---:|---:|---|',
    ...rates.map((rate) => {
      const target = healthy * (1 - rate);
      const runs = samples.get(rate).map((r) => `${r.delivered}, ${r.pending}, ${r.seconds.toFixed(1)}`).join('; ');
      return `| ${Math.round(rate * 100)} % | ${rateOf(rate).toFixed(0)} | ${target.toFixed(0)} | ${(rateOf(rate) / target).toFixed(2)} | ${runs} |`;
    }),
    '',
  ];
  return lines.join('\n');
}

const wanted = args.receiver === 'both' ? ['local', 'plain'] : [args.receiver];

/** Runs `measure` against each wanted receiver, started and stopped around it. */
async function eachReceiver(measure) {
  for (const which of wanted) {
    const receiver = which === 'local' ? await startLocalReceiver() : await startPlainReceiver();
    if (receiver.skipped) {
      console.log(`(${receiver.skipped})\n`);
      continue;
    }
    try {
      await measure(receiver);
    } finally {
      await receiver.stop();
    }
  }
}

if (args.drain && args.faults) {
  const rates = args.faults.split(',').map(Number);
  await eachReceiver(async (receiver) => console.log(await faultBench(receiver, Number(args.drain), rates)));
  process.exit(0);
}
if (args.drain) {
  const concurrencies = args.concurrency.split(',').map(Number);
  await eachReceiver(async (receiver) => console.log(await drainBench(receiver, Number(args.drain), concurrencies)));
  process.exit(0);
}
const results = [];
console.log(`Outbox folder: ${args.dir ?? tmpdir()} (fsync cost depends on its filesystem)\n`);
await eachReceiver(async (receiver) => {
  const rows = await bench(receiver);
  results.push({ receiver: receiver.name, rows });
  console.log(table(receiver, rows));
});
if (args.json) console.log(JSON.stringify({ count: COUNT, rounds: ROUNDS, inFlight: IN_FLIGHT, node: process.versions.node, results }, null, 2));
