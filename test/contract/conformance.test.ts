import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { ConformanceReport, OperationReport } from '../../src/conformance/index.js';
import { startLocalRK, type LocalRK } from '../../server/src/index.js';

/**
 * `rk conformance`, run in-process through main(): against the local Record Keeper in both reply
 * modes (nothing drifts), and against a proxy in front of it that changes some replies (each
 * change is named at its operation and JSON path, breaking this client or not). The credential is
 * one the local RK requires, and must appear nowhere in what rk prints.
 */

const CREDENTIAL = 's3cret-conformance-credential';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function rk(argv: string[], urls: { receiver: string; query: string; graphBuilder: string }): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const env = { RK_RECEIVER: urls.receiver, RK_QUERY: urls.query, RK_GRAPH_BUILDER: urls.graphBuilder, RK_USER_AUTH: CREDENTIAL, NO_COLOR: '1' };
  const code = await main(['conformance', ...argv], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: Readable.from([]),
    env,
  });
  return { code, stdout, stderr };
}

function urlsOf(base: string) {
  return { receiver: `${base}/receiver`, query: `${base}/query`, graphBuilder: `${base}/graph-builder` };
}

function operation(report: ConformanceReport, operationId: string): OperationReport {
  const found = report.operations.find((op) => op.operationId === operationId);
  if (!found) expect.fail(`no ${operationId} in the report`);
  return found;
}

/** One local RK per reply mode for the whole file (the drifting server stands in front of the rich one). */
const locals: Partial<Record<'rich' | 'reference', LocalRK>> = {};
beforeAll(async () => {
  const [rich, reference] = await Promise.all(
    (['rich', 'reference'] as const).map((replies) => startLocalRK({ memory: true, replies, userTokens: [CREDENTIAL], pemAuth: true, graphIntervalMs: 60_000 })),
  );
  Object.assign(locals, { rich, reference });
}, 120_000);
afterAll(async () => {
  await Promise.all(Object.values(locals).map((local) => local.stop()));
});

describe.each(['rich', 'reference'] as const)('rk conformance against the local Record Keeper (%s replies)', { timeout: 60_000 }, (replies) => {

  it('finds no drift in the reads and, with --write, in the writes; exit 0', async () => {
    const local = locals[replies]!;
    const urls = { receiver: local.receiverUrl, query: local.queryUrl, graphBuilder: local.graphBuilderUrl };
    const reads = await rk(['--json'], urls);
    expect(reads.stderr).toBe('');
    expect(reads.code).toBe(0);
    const readReport = JSON.parse(reads.stdout) as ConformanceReport;
    expect(readReport.counts).toMatchObject({ drift: 0, breaking: 0, nonBreaking: 0 });
    expect(operation(readReport, 'listPems').outcome).toBe('ok');
    expect(operation(readReport, 'sendPem')).toMatchObject({ outcome: 'skipped', note: 'a write: runs only with --write' });

    const writes = await rk(['--write', '--json'], urls);
    expect(writes.code).toBe(0);
    const report = JSON.parse(writes.stdout) as ConformanceReport;
    const notOk = report.operations.filter((op) => op.outcome !== 'ok').map((op) => op.operationId);
    // Everything is called and conforms but the three that erase or rebuild, and (reference replies)
    // readLineage, ours, which /info lists only in rich replies, as the real RK lists nothing.
    expect(notOk.sort()).toEqual([...(replies === 'reference' ? ['readLineage'] : []), 'cleanDatabases', 'rebuildGraph', 'removeUnconnectedArtifacts'].sort());
    if (replies === 'reference') expect(operation(report, 'readLineage')).toMatchObject({ outcome: 'skipped' });
    expect(operation(report, 'getPem').status).toBe(200);
    expect(operation(report, 'getTag').status).toBe(200);
    expect(report.versions).toEqual({ receiver: expect.any(String), query: expect.any(String), 'graph-builder': expect.any(String) });

    const text = await rk(['--write'], urls);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^query\s+getReport\s+GET \/report\/\{report_id\}\s+ok\s+200$/m);
    expect(text.stdout).toContain('No drift: every reply checked is what the specs document.');
    for (const run of [reads, writes, text]) expect(run.stdout + run.stderr).not.toContain(CREDENTIAL);
  });
});

/** What the drifting server does to one reply: a new status, media type or body. */
type Change = (reply: { status: number; type: string; body: string }) => { status: number; type: string; body: string };

const json = (body: string) => JSON.parse(body) as Record<string, unknown>;

const CHANGES: Record<string, Change> = {
  // A field the client requires goes missing; another appears.
  'GET /receiver/info': (r) => {
    const { pem_size_limit: _gone, ...rest } = json(r.body);
    return { ...r, body: JSON.stringify({ ...rest, region: 'eu-west' }) };
  },
  // A count of the wrong type.
  'GET /query/pems_count': (r) => ({ ...r, body: JSON.stringify({ pems_count: String(json(r.body).pems_count) }) }),
  // A proxy's HTML page where JSON belongs.
  'GET /query/artifacts': (r) => ({ ...r, type: 'text/html', body: '<html><body>Gateway says hi</body></html>' }),
  // A value outside the documented pattern, in the first PEM of the list.
  'GET /query/pems': (r) => {
    const pems = JSON.parse(r.body) as Record<string, unknown>[];
    pems[0]!.TimestampClient = '2026-12-07T01:02:03Z';
    return { ...r, body: JSON.stringify(pems) };
  },
  // An "ours" reply: another 2xx and the reference's text. The client takes any 2xx.
  'POST /receiver/pem': (r) => ({ status: 201, type: 'text/plain', body: 'Ack getting rk-conformance' }),
  // A documented refusal that echoes the credential: reported, scrubbed, not drift.
  'GET /query/tags_count': () => ({ status: 401, type: 'application/json', body: JSON.stringify({ message: `unknown credential ${CREDENTIAL}`, code: 'unauthorized' }) }),
};

/** A loopback proxy in front of the local RK that applies CHANGES to the replies it passes on. */
async function startDriftingServer(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string' && name !== 'host' && name !== 'content-length') headers.set(name, value);
      const upstream = await fetch(`${target}${req.url}`, { method: req.method!, headers, ...(chunks.length ? { body: Buffer.concat(chunks) } : {}) });
      let reply = { status: upstream.status, type: upstream.headers.get('content-type') ?? '', body: await upstream.text() };
      const change = CHANGES[`${req.method} ${new URL(req.url!, 'http://x').pathname}`];
      if (change) reply = change(reply);
      res.writeHead(reply.status, reply.type ? { 'content-type': reply.type } : {}).end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('rk conformance against a Record Keeper that drifts', { timeout: 60_000 }, () => {
  let drifting: Awaited<ReturnType<typeof startDriftingServer>>;
  beforeAll(async () => {
    // In front of the rich-mode local RK of the first suite: one start fewer.
    drifting = await startDriftingServer(`http://127.0.0.1:${locals.rich!.port}`);
  }, 120_000);
  afterAll(async () => {
    await drifting?.close();
  });

  it('names each drift at its operation and JSON path, breaking this client or not; exit 1', async () => {
    const run = await rk(['--write', '--json'], urlsOf(drifting.url));
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as ConformanceReport;
    const drifts = report.operations.flatMap((op) => op.drifts.map((d) => ({ operation: op.operationId, where: d.where, breaks: d.breaks })));
    expect(drifts).toEqual(
      expect.arrayContaining([
        { operation: 'getReceiverInfo', where: '$.pem_size_limit', breaks: true },
        { operation: 'getReceiverInfo', where: '$.region', breaks: false },
        { operation: 'countPems', where: '$.pems_count', breaks: true },
        { operation: 'listArtifacts', where: 'content-type', breaks: true },
        { operation: 'listPems', where: '$[0].TimestampClient', breaks: false },
        { operation: 'sendPem', where: 'status', breaks: false },
      ]),
    );
    // Nothing else drifts: the rest of the replies are the local RK's own.
    expect(drifts).toHaveLength(6);
    expect(operation(report, 'countPems').drifts[0]!.problem).toBe('must be integer');
    expect(operation(report, 'listArtifacts').drifts[0]!.problem).toMatch(/^is text\/html; the spec lists application\/json/);
    expect(operation(report, 'countTags')).toMatchObject({ outcome: 'skipped', status: 401 });
    expect(operation(report, 'countTags').note).toBe('refused with 401 (documented): unknown credential ***; the success reply was not checked');
    expect(report.counts).toMatchObject({ drift: 5, breaking: 3, nonBreaking: 3 });
    expect(run.stdout + run.stderr).not.toContain(CREDENTIAL);
  });

  it('prints the drifts under their operations, and what to report', async () => {
    const run = await rk(['--write'], urlsOf(drifting.url));
    expect(run.code).toBe(1);
    const lines = run.stdout.split('\n');
    const row = lines.findIndex((l) => /^receiver\s+getReceiverInfo\s+GET \/info\s+drift\s+200\s+2 drifts$/.test(l));
    expect(row).toBeGreaterThan(0);
    expect(lines.slice(row + 1, row + 3)).toEqual([
      '    $.pem_size_limit: is missing (the spec requires it) (breaks this client)',
      '    $.region: is not in the spec (an extra field) (does not break it)',
    ]);
    expect(run.stdout).toContain('5 with drift (3 breaking this client, 3 not)');
    expect(run.stdout).toContain('What to report to the maintainers');
    expect(run.stdout + run.stderr).not.toContain(CREDENTIAL);
  });
});
