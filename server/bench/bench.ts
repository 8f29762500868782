/**
 * `npm run bench`: how fast the client sends PEMs and lists them against a local Record Keeper,
 * beside a raw fetch of the same requests to the same server (the ratio is the client's overhead).
 *
 * The server runs as its own process (the built `recordkeeper-local` command, PGlite in memory by
 * default, or `--data-dir` for a data directory), so the numbers of this process are the client's.
 * Everything goes to 127.0.0.1 only, in bounded loops; the server is stopped by its pid at the end.
 *
 *   node server/dist/server/bench/bench.js [--data-dir] [--sequential N] [--parallel N] [--list N]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { RKClient, RKQuery, type Pem } from 'recordkeeper-client';

const here = path.dirname(fileURLToPath(import.meta.url));
const serverBin = path.resolve(here, '..', '..', '..', 'bin', 'recordkeeper-local.js');

interface Measured {
  name: string;
  count: number;
  seconds: number;
  latenciesMs: number[];
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function measure(name: string, count: number, concurrency: number, one: (i: number) => Promise<void>): Promise<Measured> {
  const latenciesMs: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        const t = performance.now();
        await one(i);
        latenciesMs.push(performance.now() - t);
      }
    }),
  );
  return { name, count, seconds: (performance.now() - started) / 1000, latenciesMs: latenciesMs.sort((a, b) => a - b) };
}

async function startServer(args: string[]): Promise<{ child: ChildProcess; receiverUrl: string; queryUrl: string }> {
  const child = spawn(process.execPath, [serverBin, '--port', '0', '--graph-interval', '3600', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const receiver = /Receiver:\s+(\S+)/.exec(output)?.[1];
      const query = /Query:\s+(\S+)/.exec(output)?.[1];
      if (receiver && query) resolve({ child, receiverUrl: receiver, queryUrl: query });
    });
    child.once('exit', (code) => reject(new Error(`recordkeeper-local exited with ${code}: ${output}`)));
  });
}

/** Peak resident set of a process, from /proc (Linux), in MiB. */
function peakRssMiB(pid: number): number | undefined {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

function row(cells: (string | number)[]): string {
  return `| ${cells.join(' | ')} |`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'boolean' },
      sequential: { type: 'string', default: '1000' },
      parallel: { type: 'string', default: '3000' },
      list: { type: 'string', default: '10000' },
      'page-size': { type: 'string', default: '500' },
    },
  });
  const sequential = Number(values.sequential);
  const parallel = Number(values.parallel);
  const listTotal = Number(values.list);
  const pageSize = Number(values['page-size']);
  const dataDir = values['data-dir'] ? mkdtempSync(path.join(tmpdir(), 'rk-bench-')) : undefined;
  const server = await startServer(dataDir ? ['--data-dir', dataDir] : ['--memory']);
  const serverPid = server.child.pid!;
  const stopServer = async () => {
    if (server.child.exitCode === null && server.child.signalCode === null) {
      const exited = new Promise((resolve) => server.child.once('exit', resolve));
      process.kill(serverPid, 'SIGTERM');
      await exited;
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const client = new RKClient(server.receiverUrl, 'bench', { timeoutMs: 60_000 });
    const query = new RKQuery(server.queryUrl, { timeoutMs: 60_000 });
    const makePem = (i: number): Pem =>
      client
        .preparePem('bench', { properties: { i, batch: 'benchmark', note: 'a PEM of a typical size' } })
        .usesArtifact(client.prepareArtifact(`bench-input-${i % 50}`, { uri: `s3://bench/input-${i % 50}.csv` }))
        .producesArtifact(client.prepareArtifact(`bench-output-${i}`, { uri: `s3://bench/output-${i}.bin` }));
    const rawSend = async (pem: Pem) => {
      const response = await fetch(`${server.receiverUrl}/pem`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(pem),
      });
      await response.text();
      if (response.status !== 200) throw new Error(`raw POST /pem answered ${response.status}`);
    };
    const clientSend = async (pem: Pem) => {
      const result = await client.sendPem(pem);
      if (!result.ok) throw result.error;
    };

    // Warm up both paths (JIT, connection pools, the server's caches).
    for (let i = 0; i < 300; i++) {
      await rawSend(makePem(i));
      await clientSend(makePem(i));
    }

    // Raw and client requests alternate in blocks, so the server's warm-up and its growing tables
    // weigh on both alike.
    const results: [Measured, Measured][] = [];
    for (const [label, count, concurrency] of [
      ['sendPem, sequential', sequential, 1],
      ['sendPem, 8 in flight', parallel, 8],
    ] as const) {
      const blocks = 10;
      const size = Math.ceil(count / blocks);
      const raw: Measured = { name: `${label} (raw fetch)`, count: 0, seconds: 0, latenciesMs: [] };
      const viaClient: Measured = { name: `${label} (RKClient)`, count: 0, seconds: 0, latenciesMs: [] };
      for (let block = 0; block < blocks; block++) {
        const rawPems = Array.from({ length: size }, (_, i) => makePem(i));
        const clientPems = Array.from({ length: size }, (_, i) => makePem(i));
        for (const [total, part] of [
          [raw, await measure(label, size, concurrency, (i) => rawSend(rawPems[i]!))],
          [viaClient, await measure(label, size, concurrency, (i) => clientSend(clientPems[i]!))],
        ] as const) {
          total.count += part.count;
          total.seconds += part.seconds;
          total.latenciesMs.push(...part.latenciesMs);
        }
      }
      raw.latenciesMs.sort((a, b) => a - b);
      viaClient.latenciesMs.sort((a, b) => a - b);
      results.push([viaClient, raw]);
    }

    // Fill up to the listing size, then read everything back page by page.
    const stored = await query.getPemsCount();
    if (!stored.ok) throw stored.error;
    const missing = Math.max(0, listTotal - stored.value);
    await measure('fill', missing, 8, (i) => rawSend(makePem(i)));
    const total = listTotal > stored.value ? listTotal : stored.value;
    const pages = Math.ceil(total / pageSize);
    let listed = 0;
    const listClient = await measure(`getPems, ${total} PEMs in pages of ${pageSize} (RKQuery)`, pages, 1, async (pageIndex) => {
      const page = await query.getPems({ pageIndex, pageSize });
      if (!page.ok) throw page.error;
      listed += page.value.length;
    });
    let rawListed = 0;
    const listRaw = await measure(`GET /pems, ${total} PEMs in pages of ${pageSize} (raw fetch)`, pages, 1, async (pageIndex) => {
      const response = await fetch(`${server.queryUrl}/pems?pageIndex=${pageIndex}&pageSize=${pageSize}`);
      rawListed += ((await response.json()) as unknown[]).length;
    });
    if (listed !== total || rawListed !== total) throw new Error(`listed ${listed} and ${rawListed} PEMs, expected ${total}`);
    await client.close();

    const clientRss = process.resourceUsage().maxRSS / 1024;
    const serverRss = peakRssMiB(serverPid);
    const cpu = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown';
    const lines = [
      `Machine: ${cpus().length} cores (nproc), ${cpu}, Node ${process.version}, ${process.platform}`,
      `Server: recordkeeper-local on PGlite ${dataDir ? 'in a data directory' : 'in memory'}, its own process, 127.0.0.1`,
      '',
      row(['what', 'count', 'throughput (/s)', 'p50 ms', 'p99 ms', 'raw fetch (/s)', 'raw p50 ms', 'raw p99 ms', 'client / raw time']),
      row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
    ];
    for (const [viaClient, raw] of [...results, [listClient, listRaw] as [Measured, Measured]]) {
      lines.push(
        row([
          viaClient.name.replace(/ \((RKClient|RKQuery)\)$/, ''),
          viaClient.count,
          (viaClient.count / viaClient.seconds).toFixed(0),
          percentile(viaClient.latenciesMs, 50).toFixed(2),
          percentile(viaClient.latenciesMs, 99).toFixed(2),
          (raw.count / raw.seconds).toFixed(0),
          percentile(raw.latenciesMs, 50).toFixed(2),
          percentile(raw.latenciesMs, 99).toFixed(2),
          (viaClient.seconds / raw.seconds).toFixed(2),
        ]),
      );
    }
    lines.push(
      '',
      `Listing: ${total} PEMs in ${pages} pages, ${(total / listClient.seconds).toFixed(0)} PEMs/s through RKQuery, ${(total / listRaw.seconds).toFixed(0)} PEMs/s raw (pages counted as requests above).`,
      `Peak RSS: benchmark process (client) ${clientRss.toFixed(0)} MiB; server process ${serverRss === undefined ? 'unknown' : `${serverRss.toFixed(0)} MiB`}.`,
    );
    console.log(lines.join('\n'));
  } finally {
    await stopServer();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
