// npm run chaos: PEMs through a fault-injecting proxy in front of the local RK, with and without an
// outbox, then a kill -9 loop of the server on a data directory. Prints, per run, what was sent,
// acknowledged, stored, stored twice and lost. Lost and duplicates must be 0; the exit code says so.
// Not part of npm test (it takes a few minutes). Plain ESM on the built client and server:
//
//   npm run build:all && node scripts/chaos.mjs [--count 10000] [--kills 6] [--json]
//
// Faults, each drawn per POST /pem: drop (connection destroyed before forwarding), commit-then-reset
// (forwarded and stored, then the connection destroyed without an answer), delay (0.2-1.5 s before
// forwarding), 503, 429 with Retry-After: 1. Everything else is forwarded unchanged.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CHAOS_FAULTS, startFaultProxy } from './fault-proxy.mjs';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    kills: { type: 'string', default: '6' },
    'kill-count': { type: 'string', default: '2000' },
    json: { type: 'boolean', default: false },
  },
});
const COUNT = Number(args.count);
const KILLS = Number(args.kills);
const KILL_COUNT = Number(args['kill-count']);

const { RKClient, RKQuery } = await import(join(ROOT, 'dist/index.js'));
const { startLocalRK } = await import(join(ROOT, 'server/dist/server/src/index.js'));

const FAULTS = CHAOS_FAULTS;

const RETRY = { maxAttempts: 30, baseDelayMs: 50, maxDelayMs: 1000, maxRetryAfterMs: 2000, totalTimeoutMs: 120_000, budget: false };

/** Every stored PEM of `emitter`, as ID -> how many rows carry it. */
async function storedIds(queryUrl, emitter) {
  const query = new RKQuery(queryUrl, { timeoutMs: 60_000 });
  const listed = await query.getPems({ filters: { Emitter: emitter } });
  if (!listed.ok) throw listed.error;
  const ids = new Map();
  for (const pem of listed.value) ids.set(pem.ID, (ids.get(pem.ID) ?? 0) + 1);
  return ids;
}

function tally(name, sentIds, acked, ids, extra = {}) {
  let lost = 0;
  let lostAcked = 0;
  for (const id of sentIds) {
    if (!ids.has(id)) {
      lost++;
      if (acked.has(id)) lostAcked++;
    }
  }
  let duplicates = 0;
  for (const n of ids.values()) duplicates += n - 1;
  const strangers = [...ids.keys()].filter((id) => !sentIds.has(id)).length;
  return { run: name, sent: sentIds.size, acknowledged: acked.size, stored: ids.size, duplicates: duplicates + strangers, lost, lostAcknowledged: lostAcked, ...extra };
}

async function proxyRun(name, useOutbox) {
  const rk = await startLocalRK({ memory: true, port: 0, graphIntervalMs: 60_000 });
  const proxy = await startFaultProxy(new URL(rk.receiverUrl).origin, FAULTS);
  const dir = useOutbox ? mkdtempSync(join(tmpdir(), 'rk-chaos-outbox-')) : undefined;
  const emitter = `chaos-${name}-${Date.now()}`;
  const started = Date.now();
  const client = new RKClient(`http://127.0.0.1:${proxy.port}/receiver`, emitter, {
    retry: RETRY,
    maxInFlight: 32,
    timeoutMs: 5000,
    logger: { warn() {}, debug() {} },
    ...(dir ? { outbox: { dir, fsync: false, maxBackoffMs: 2000, pollIntervalMs: 200, concurrency: 16 } } : {}),
  });
  const sentIds = new Set();
  const acked = new Set();
  const statuses = {};
  const sends = [];
  for (let i = 0; i < COUNT; i++) {
    const pem = client.preparePem('chaos', { properties: { i } });
    pem.usesArtifact(client.prepareArtifact(`chaos/${name}/${i % 50}`, { uri: `s3://chaos/${i % 50}` }));
    sentIds.add(pem.ID);
    sends.push(
      client.sendPem(pem).then((result) => {
        const status = result.ok ? result.value.status : `failed: ${result.error.kind}`;
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (result.ok && result.value.status !== 'persisted') acked.add(pem.ID);
      }),
    );
  }
  await Promise.all(sends);
  client.on('delivered', (event) => acked.add(event.ID));
  const flushed = await client.flush({ timeoutMs: 240_000 });
  const stats = client.stats();
  await client.close({ timeoutMs: 5000 });
  // PEMs the outbox delivered are acknowledged too (the drainer's acks).
  const ids = await storedIds(rk.queryUrl, emitter);
  if (useOutbox) for (const id of sentIds) if (ids.has(id) && !acked.has(id)) acked.add(id);
  await proxy.close();
  await rk.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  return tally(name, sentIds, acked, ids, {
    seconds: Math.round((Date.now() - started) / 100) / 10,
    results: statuses,
    faults: { ...proxy.counts },
    attempts: stats.attempts,
    pending: flushed.pending,
  });
}

/** The server as a child process on a data directory, killed with SIGKILL and restarted. */
async function killRun() {
  const dataDir = mkdtempSync(join(tmpdir(), 'rk-chaos-data-'));
  const outbox = mkdtempSync(join(tmpdir(), 'rk-chaos-outbox-'));
  const port = await freePort();
  let child;
  const start = () =>
    new Promise((resolveStart, reject) => {
      child = spawn(process.execPath, [join(ROOT, 'server/bin/recordkeeper-local.js'), '--data-dir', dataDir, '--port', String(port), '--graph-interval', '60'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('Stop with')) resolveStart();
      });
      child.on('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
    });
  await start();
  const emitter = `chaos-kill-${Date.now()}`;
  const base = `http://127.0.0.1:${port}`;
  const client = new RKClient(`${base}/receiver`, emitter, {
    retry: RETRY,
    timeoutMs: 5000,
    logger: { warn() {}, debug() {} },
    outbox: { dir: outbox, fsync: true, maxBackoffMs: 1000, pollIntervalMs: 200 },
  });
  const sentIds = new Set();
  const acked = new Set();
  client.on('delivered', (event) => acked.add(event.ID));
  let kills = 0;
  const sending = (async () => {
    for (let i = 0; i < KILL_COUNT; i++) {
      const pem = client.preparePem('chaos-kill', { properties: { i } });
      sentIds.add(pem.ID);
      const result = await client.sendPem(pem);
      if (result.ok && result.value.status !== 'persisted') acked.add(pem.ID);
    }
  })();
  const killing = (async () => {
    for (let k = 0; k < KILLS; k++) {
      await new Promise((r) => setTimeout(r, 700 + Math.random() * 800));
      const pid = child.pid;
      child.removeAllListeners('exit');
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(pid, 'SIGKILL');
      await exited;
      kills++;
      await new Promise((r) => setTimeout(r, 200));
      await start();
    }
  })();
  await Promise.all([sending, killing]);
  const flushed = await client.flush({ timeoutMs: 120_000 });
  await client.close({ timeoutMs: 5000 });
  const ids = await storedIds(`${base}/query`, emitter);
  child.removeAllListeners('exit');
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(outbox, { recursive: true, force: true });
  return tally('kill -9 loop (outbox, --data-dir)', sentIds, acked, ids, { kills, pending: flushed.pending });
}

function freePort() {
  return new Promise((r) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => r(port));
    });
  });
}

const runs = [];
const began = Date.now();
runs.push(await proxyRun('direct (no outbox)', false));
runs.push(await proxyRun('outbox', true));
runs.push(await killRun());
const ok = runs.every((r) => r.lost === 0 && r.duplicates === 0);
if (args.json) console.log(JSON.stringify({ runs, ok }, null, 2));
else {
  console.log(`chaos: ${COUNT} PEMs per proxy run, faults per POST /pem ${JSON.stringify(FAULTS)}; ${KILL_COUNT} PEMs over ${KILLS} kill -9 of the server`);
  for (const r of runs) {
    console.log(`\n${r.run}`);
    console.log(`  sent ${r.sent}  acknowledged ${r.acknowledged}  stored ${r.stored}  duplicates ${r.duplicates}  lost ${r.lost} (of them acknowledged: ${r.lostAcknowledged})`);
    const rest = Object.fromEntries(Object.entries(r).filter(([k]) => !['run', 'sent', 'acknowledged', 'stored', 'duplicates', 'lost', 'lostAcknowledged'].includes(k)));
    console.log(`  ${JSON.stringify(rest)}`);
  }
  console.log(`\n${ok ? 'OK' : 'FAILED'}: lost ${runs.reduce((n, r) => n + r.lost, 0)}, duplicates ${runs.reduce((n, r) => n + r.duplicates, 0)} (${Math.round((Date.now() - began) / 1000)} s)`);
}
process.exitCode = ok ? 0 : 1;
