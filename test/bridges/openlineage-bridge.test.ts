import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRK, type LocalRK } from '../../server/src/index.js';
import { RKClient, RKQuery } from '../../src/index.js';
import { startOpenLineageBridge, type OpenLineageBridge } from '../../src/bridges/openlineage-bridge.js';
import { buildRk, cleanEnv, rkInProcess } from '../cli/helpers.js';

/**
 * The OpenLineage bridge end to end: events posted as the OpenLineage http transport posts them
 * (one JSON event to /api/v1/lineage, an array to /api/v1/lineage/batch, gzip when the transport's
 * `compression: gzip` is set) reach a local Record Keeper through the outbox, and `rk explain`
 * answers over them. Then `rk import openlineage`, `rk export --format openlineage` and
 * `rk bridge openlineage` as commands, and `rk mcp` over stdio on the same Record Keeper. The
 * commands run in this process (`main(argv, io)`); `rk bridge openlineage` (SIGTERM) and `rk mcp`
 * (stdout holds only the protocol) run as processes, since the process is the point there.
 */
mkdirSync(join(process.cwd(), '.tmp'), { recursive: true });
const tmp = mkdtempSync(join(process.cwd(), '.tmp', 'ol-bridge-'));
const PRODUCER = 'https://github.com/OpenLineage/OpenLineage/tree/1.33.0/integration/spark';
const SCHEMA = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';

const dataset = (namespace: string, name: string) => ({ namespace, name, facets: { schema: { _producer: PRODUCER, _schemaURL: 'https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json', fields: [{ name: 'id', type: 'long' }] } } });
function event(eventType: string, runId: string, job: string, time: string, inputs: object[], outputs: object[]) {
  return { eventType, eventTime: time, producer: PRODUCER, schemaURL: SCHEMA, run: { runId }, job: { namespace: 'spark-prod', name: job }, inputs, outputs };
}
const RUN_LOAD = '0193f0a1-0000-7000-8000-000000000001';
const RUN_TRAIN = '0193f0a1-0000-7000-8000-000000000002';
const RUN_SCORE = '0193f0a1-0000-7000-8000-000000000003';
const raw = dataset('s3://landing', 'customers/2026-12-06.parquet');
const table = dataset('postgres://warehouse:5432', 'shop.public.customers');
const model = dataset('s3://models', 'churn/v7');
const scores = dataset('postgres://warehouse:5432', 'shop.public.churn_scores');
const loadStart = event('START', RUN_LOAD, 'load_customers', '2026-12-06T01:00:00.000Z', [raw], []);
const loadDone = event('COMPLETE', RUN_LOAD, 'load_customers', '2026-12-06T01:10:00.000Z', [], [table]);
const trainDone = event('COMPLETE', RUN_TRAIN, 'train_churn', '2026-12-06T02:00:00.000Z', [table], [model]);
const scoreDone = event('COMPLETE', RUN_SCORE, 'score_churn', '2026-12-06T03:00:00.000Z', [table, model], [scores]);

const post = (url: string, body: unknown, init: { gzip?: boolean; headers?: Record<string, string> } = {}) => {
  const json = JSON.stringify(body);
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(init.gzip ? { 'Content-Encoding': 'gzip' } : {}), ...init.headers },
    body: init.gzip ? gzipSync(json) : json,
  });
};

let rk: LocalRK;
let main: string;
let env: Record<string, string>;
beforeAll(async () => {
  // No graph loop: nothing here reads the graph, and an idle loop costs CPU all along.
  [rk, main] = await Promise.all([startLocalRK({ memory: true, graphIntervalMs: 60_000 }), buildRk('ol-bridge')]);
  env = { RK_RECEIVER: rk.receiverUrl, RK_QUERY: rk.queryUrl, RK_EMITTER: 'ol-test' };
}, 300_000);
afterAll(async () => {
  await rk?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the OpenLineage bridge against a local Record Keeper', { timeout: 60_000 }, () => {
  let bridge: OpenLineageBridge;
  let client: RKClient;
  const pemId = (runId: string) => runId.replaceAll('-', '');

  beforeAll(async () => {
    client = new RKClient(rk.receiverUrl, 'ol-bridge', { outbox: { dir: join(tmp, 'outbox') } });
    bridge = await startOpenLineageBridge({ client, port: 0, maxBodyBytes: 64 * 1024, logger: { warn: () => {} } });
  });
  afterAll(async () => {
    await bridge?.close();
  });

  it('takes single events, a gzip batch, folds START into COMPLETE, and the PEMs reach RK', async () => {
    const start = await post(`${bridge.url}/api/v1/lineage`, loadStart);
    expect(start.status).toBe(201);
    expect(await start.json()).toEqual({ received: 1, recorded: 0, folded: 1, skipped: 0 });
    const done = await post(`${bridge.url}/api/v1/lineage`, loadDone);
    expect(done.status).toBe(201);
    expect(await done.json()).toMatchObject({ recorded: 1 });
    const batch = await post(`${bridge.url}/api/v1/lineage/batch`, [trainDone, scoreDone], { gzip: true });
    expect(batch.status).toBe(201);
    expect(await batch.json()).toEqual({ received: 2, recorded: 2, folded: 0, skipped: 0 });
    const report = await client.flush({ timeoutMs: 20_000 });
    expect(report.pending).toBe(0);

    const query = new RKQuery(rk.queryUrl);
    const load = await query.getPem(pemId(RUN_LOAD));
    expect(load.ok && load.value).toMatchObject({
      Type: 'load_customers',
      Emitter: 'spark-prod',
      TimestampClient: '2026-12-06 01:10:00',
      // The input named only on START is folded into the run's PEM.
      UsesArtifacts: ['s3://landing/customers/2026-12-06.parquet'],
      ProducesArtifacts: ['postgres://warehouse:5432/shop.public.customers'],
    });
    const count = await query.getPemsCount();
    expect(count.ok && count.value).toBe(3);
  });

  it('a replayed batch is acknowledged again and stores nothing twice', async () => {
    const again = await post(`${bridge.url}/api/v1/lineage/batch`, [loadStart, loadDone, trainDone, scoreDone]);
    expect(again.status).toBe(201);
    await client.flush({ timeoutMs: 20_000 });
    const count = await new RKQuery(rk.queryUrl).getPemsCount();
    expect(count.ok && count.value).toBe(3);
  });

  it('rk explain answers over the bridged events', async () => {
    const outcome = await rkInProcess(['explain', 'postgres://warehouse:5432/shop.public.churn_scores', '--json'], { env });
    expect(outcome.code, outcome.stderr).toBe(0);
    const explanation = JSON.parse(outcome.stdout) as { steps: { type: string; pem: string }[]; sources: { name: string }[] };
    expect(explanation.steps.map((s) => s.type)).toEqual(['load_customers', 'train_churn', 'score_churn']);
    expect(explanation.steps.map((s) => s.pem)).toEqual([RUN_LOAD, RUN_TRAIN, RUN_SCORE].map(pemId));
    expect(explanation.sources.map((s) => s.name)).toEqual(['s3://landing/customers/2026-12-06.parquet']);
    const byTag = await rkInProcess(['explain', 'spark-prod/score_churn', '--json'], { env });
    expect(byTag.code, byTag.stderr).toBe(0);
    expect(JSON.parse(byTag.stdout)).toMatchObject({ target: `pem:${pemId(RUN_SCORE)}` });
  });

  it('answers 400 with the reason for a malformed event (recording the valid ones of a batch), 413 over the body limit, 404 and 405 elsewhere', async () => {
    const bad = await post(`${bridge.url}/api/v1/lineage`, { ...scoreDone, eventTime: 'soon' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/eventTime.*ISO 8601/);
    const notJson = await fetch(`${bridge.url}/api/v1/lineage`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"eventType": ' });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: string }).error).toMatch(/not JSON/);
    const mixed = await post(`${bridge.url}/api/v1/lineage/batch`, [trainDone, { ...trainDone, run: {} }]);
    expect(mixed.status).toBe(400);
    expect(await mixed.json()).toMatchObject({ recorded: 1, rejected: [{ index: 1, reason: expect.stringMatching(/run\.runId/) }] });
    const huge = await post(`${bridge.url}/api/v1/lineage`, { ...trainDone, pad: 'x'.repeat(70 * 1024) });
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { error: string }).error).toMatch(/over 65536 bytes/);
    const bomb = await post(`${bridge.url}/api/v1/lineage`, { ...trainDone, pad: 'x'.repeat(200 * 1024) }, { gzip: true });
    expect(bomb.status).toBe(413);
    expect((await fetch(`${bridge.url}/api/v1/other`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(`${bridge.url}/api/v1/lineage`)).status).toBe(405);
  });
});

describe('the bridge when Record Keeper is down', { timeout: 30_000 }, () => {
  it('answers 201 once the event is in the outbox, 503 with Retry-After when the outbox is full, and shuts down gracefully', async () => {
    const dir = join(tmp, 'down-outbox');
    // Nothing listens on port 9: every event stays in the outbox.
    const client = new RKClient('http://127.0.0.1:9/receiver', 'ol-bridge', { outbox: { dir, maxEntries: 1 }, logger: { warn: () => {} } });
    const bridge = await startOpenLineageBridge({ client, port: 0, retryAfterSeconds: 7, logger: { warn: () => {} } });
    const first = await post(`${bridge.url}/api/v1/lineage`, trainDone);
    expect(first.status).toBe(201);
    expect(readdirSync(dir).filter((f) => f.endsWith('.pem'))).toHaveLength(1);
    const full = await post(`${bridge.url}/api/v1/lineage`, scoreDone);
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toBe('7');
    expect(((await full.json()) as { error: string }).error).toMatch(/could not be kept now.*outbox/);
    const closed = bridge.close({ timeoutMs: 500 });
    await closed;
    await expect(post(`${bridge.url}/api/v1/lineage`, trainDone)).rejects.toThrow();
    expect(bridge.stats()).toMatchObject({ recorded: 1, deferred: 1 });
    // The outbox kept the event for the next start.
    expect(readdirSync(dir).filter((f) => f.endsWith('.pem'))).toHaveLength(1);
  });
});

describe('rk import openlineage, rk export --format openlineage and rk bridge openlineage', { timeout: 90_000 }, () => {
  it('imports a file (reporting the event that cannot map, sending the others), and a replay stores nothing twice', async () => {
    const file = join(tmp, 'events.ndjson');
    const other = event('COMPLETE', '0193f0a1-0000-7000-8000-00000000000a', 'report_churn', '2026-12-06T04:00:00Z', [scores], [dataset('s3://reports', 'churn.html')]);
    writeFileSync(file, [loadStart, { ...other, job: { namespace: 'spark-prod' } }, other, loadDone].map((e) => JSON.stringify(e)).join('\n') + '\n');
    const first = await rkInProcess(['import', 'openlineage', file], { env });
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/line 2: OpenLineage COMPLETE event of run 0193f0a1-0000-7000-8000-00000000000a: .*job.*needs a namespace and a name/);
    expect(first.stdout).toMatch(/line 3: report_churn PEM 0193f0a100007000800000000000000a \(run .*\): accepted/);
    expect(first.stdout).toMatch(/line 4: load_customers PEM .*: duplicate/);
    expect(first.stderr).toMatch(/4 events: 1 PEM sent, 1 already stored, 1 folded into their run, 0 skipped, 1 refused/);
    const again = await rkInProcess(['import', 'openlineage', file], { env });
    expect(again.stderr).toMatch(/0 PEMs sent, 2 already stored/);
  });

  it('exports a walk as NDJSON RunEvents; imported into another Record Keeper, rk explain answers the same', async () => {
    const target = 'postgres://warehouse:5432/shop.public.churn_scores';
    const exported = await rkInProcess(['export', target, '--format', 'openlineage'], { env });
    expect(exported.code, exported.stderr).toBe(0);
    const events = exported.stdout.trim().split('\n').map((line) => JSON.parse(line) as { job: { name: string }; run: { runId: string; facets: Record<string, { properties?: unknown }> } });
    expect(events.map((e) => e.job.name).sort()).toEqual(['load_customers', 'score_churn', 'train_churn']);
    // Read whole from the Query service: the Properties ride along.
    expect(events.find((e) => e.job.name === 'train_churn')!.run.facets['recordkeeper_pem']!.properties).toMatchObject({ openlineage: { eventType: 'COMPLETE', runId: RUN_TRAIN } });
    const other = await startLocalRK({ memory: true, graphIntervalMs: 60_000 });
    try {
      const otherEnv = { RK_RECEIVER: other.receiverUrl, RK_QUERY: other.queryUrl };
      const imported = await rkInProcess(['import', 'openlineage', '-'], { env: otherEnv, input: exported.stdout });
      expect(imported.code, imported.stderr).toBe(0);
      expect(imported.stderr).toMatch(/3 events: 3 PEMs sent, 0 already stored/);
      const [here, there] = await Promise.all([rkInProcess(['explain', target, '--json'], { env }), rkInProcess(['explain', target, '--json'], { env: otherEnv })]);
      expect(there.code, there.stderr).toBe(0);
      expect(JSON.parse(there.stdout)).toEqual(JSON.parse(here.stdout));
    } finally {
      await other.stop();
    }
  });

  it('rk bridge openlineage listens, records, and stops on SIGTERM with a summary', async () => {
    const child = spawn(process.execPath, [main, 'bridge', 'openlineage', '--listen', '127.0.0.1:0', '--outbox', join(tmp, 'cli-outbox'), '--json'], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const line = stdout.split('\n')[0];
        if (stdout.includes('\n')) resolve((JSON.parse(line!) as { url: string }).url);
      });
      child.once('exit', () => reject(new Error(`the bridge exited: ${stderr}`)));
    });
    const response = await post(`${url}/api/v1/lineage`, event('COMPLETE', '0193f0a1-0000-7000-8000-00000000000b', 'cli_job', '2026-12-06T05:00:00Z', [], []));
    expect(response.status).toBe(201);
    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
    expect(stderr).toMatch(/Stopped: 1 events recorded/);
    const stored = await new RKQuery(rk.queryUrl).getPem('0193f0a100007000800000000000000b');
    expect(stored.ok && stored.value.Type).toBe('cli_job');
  });
});

describe('rk mcp over stdio', { timeout: 60_000 }, () => {
  it('serves the bridged lineage to the SDK client: tools listed, explain and get_pem answered, stdout only protocol', async () => {
    const transport = new StdioClientTransport({ command: process.execPath, args: [main, 'mcp'], env: cleanEnv(env) as Record<string, string>, stderr: 'pipe' });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(['explain', 'lineage', 'state_at', 'tag_history', 'get_pem', 'search_pems']);
      const why = (await client.callTool({ name: 'explain', arguments: { target: 'postgres://warehouse:5432/shop.public.churn_scores' } })) as { content: { text: string }[] };
      expect(JSON.parse(why.content[0]!.text).steps.map((s: { type: string }) => s.type)).toEqual(['load_customers', 'train_churn', 'score_churn']);
      const read = (await client.callTool({ name: 'get_pem', arguments: { id: RUN_TRAIN } })) as { content: { text: string }[] };
      expect(JSON.parse(read.content[0]!.text)).toMatchObject({ Type: 'train_churn', Emitter: 'spark-prod' });
      expect(stderr).toMatch(/rk mcp: serving \d+ PEMs .* over stdio \(read-only\)/);
    } finally {
      await client.close();
    }
  });
});

describe('rk explain --trace', { timeout: 60_000 }, () => {
  it('lists the PEMs stamped with the trace, oldest first, and explains the newest', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const send = (ID: string, Type: string, time: string, span: string, uses: string[], produces: string[]) =>
      fetch(`${rk.receiverUrl}/pem`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          ID, Type, Predecessor: null, Emitter: 'api', TimestampClient: time, Properties: { traceparent: `00-${traceId}-${span}-01` }, Version: '2.0.0', Tag: 'latest', TagNamespace: 'api',
          UsesArtifacts: uses.map((Name) => ({ Name, Properties: {}, CreatedAt: null })), ProducesArtifacts: produces.map((Name) => ({ Name, Properties: {}, CreatedAt: null })),
        }),
      });
    expect((await send('7'.repeat(32), 'score_request', '2026-12-06 06:00:00', '00f067aa0ba902b7', ['s3://models/churn/v7'], ['request/42'])).ok).toBe(true);
    expect((await send('8'.repeat(32), 'respond', '2026-12-06 06:00:01', '00f067aa0ba902b8', ['request/42'], ['response/42'])).ok).toBe(true);
    const outcome = await rkInProcess(['explain', '--trace', traceId, '--json'], { env });
    expect(outcome.code, outcome.stderr).toBe(0);
    const answer = JSON.parse(outcome.stdout) as { pems: { ID: string }[]; explanation: { target: string; steps: { type: string }[] } };
    expect(answer.pems.map((p) => p.ID)).toEqual(['7'.repeat(32), '8'.repeat(32)]);
    expect(answer.explanation.target).toBe(`pem:${'8'.repeat(32)}`);
    expect(answer.explanation.steps.map((s) => s.type)).toEqual(['load_customers', 'train_churn', 'score_request', 'respond']);
    const none = await rkInProcess(['explain', '--trace', 'f'.repeat(32)], { env });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no PEM carries trace f{32}/);
    const neither = await rkInProcess(['explain'], { env });
    expect(neither.code).toBe(2);
    expect(neither.stderr).toMatch(/needs a target .* or --trace <trace-id>/);
  });
});
