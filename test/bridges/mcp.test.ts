import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMcpServer, type RKMcpServer } from '../../src/bridges/mcp-server.js';
import { RKLineage, type PemPayload } from '../../src/index.js';
import { MockRKClient, MockRKQuery } from '../../src/testing/index.js';

/** `rk mcp`'s server, driven by the SDK's own client over an in-memory transport pair. */
const pem = (ID: string, Type: string, TimestampClient: string, uses: string[], produces: string[], extra: Partial<PemPayload> = {}): PemPayload => ({
  ID,
  Type,
  Predecessor: null,
  Emitter: 'churn-pipeline',
  TimestampClient,
  Properties: { note: Type },
  Version: '2.0.0',
  Tag: 'latest',
  TagNamespace: 'churn-pipeline',
  UsesArtifacts: uses.map((Name) => ({ Name, Properties: {}, CreatedAt: null })),
  ProducesArtifacts: produces.map((Name) => ({ Name, Properties: {}, CreatedAt: null })),
  ...extra,
});
const INGEST = '1'.repeat(32);
const TRAIN = '2'.repeat(32);
const DEPLOY_1 = '3'.repeat(32);
const RETRAIN = '4'.repeat(32);
const DEPLOY_2 = '5'.repeat(32);

async function connected(allowSend: boolean): Promise<{ client: Client; server: RKMcpServer; rk: MockRKClient }> {
  const rk = new MockRKClient('churn-pipeline', { logger: { warn: () => {} } });
  for (const p of [
    pem(INGEST, 'ingest', '2026-12-01 10:00:00', ['raw/customers.csv'], ['dataset/customers']),
    pem(TRAIN, 'train', '2026-12-01 11:00:00', ['dataset/customers'], ['model/churn'], { Emitter: 'trainer' }),
    pem(DEPLOY_1, 'deploy', '2026-12-01 12:00:00', ['model/churn'], ['deployment/prod'], { Tag: 'production' }),
    pem(RETRAIN, 'train', '2026-12-02 11:00:00', ['dataset/customers', 'model/churn'], ['model/churn'], { Emitter: 'trainer' }),
    pem(DEPLOY_2, 'deploy', '2026-12-02 12:00:00', ['model/churn'], ['deployment/prod'], { Tag: 'production' }),
  ]) {
    const sent = await rk.sendPem(p);
    expect(sent.ok).toBe(true);
  }
  const query = new MockRKQuery(rk);
  const lineage = new RKLineage(query);
  expect((await lineage.load()).ok).toBe(true);
  const server = await createMcpServer({ lineage, query, client: rk, allowSend });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(clientSide);
  return { client, server, rk };
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<{ value: any; isError: boolean }> {
  const result = (await client.callTool({ name, arguments: args })) as { content: { type: string; text: string }[]; isError?: boolean };
  expect(result.content).toHaveLength(1);
  expect(result.content[0]!.type).toBe('text');
  // Compact JSON: no pretty-printing.
  expect(result.content[0]!.text).not.toMatch(/\n/);
  return { value: JSON.parse(result.content[0]!.text), isError: result.isError === true };
}

describe('rk mcp (read-only)', () => {
  let client: Client;
  let server: RKMcpServer;
  beforeEach(async () => {
    ({ client, server } = await connected(false));
  });
  afterEach(async () => {
    await client.close();
    await server.close();
  });

  it('lists the six read tools with their input schemas, and no send_pem', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['explain', 'lineage', 'state_at', 'tag_history', 'get_pem', 'search_pems']);
    for (const tool of tools) {
      expect(tool.description!.length).toBeGreaterThan(40);
      expect(tool.inputSchema.type).toBe('object');
    }
    expect(tools.find((t) => t.name === 'get_pem')!.inputSchema.required).toEqual(['id']);
  });

  it('explain: the steps behind a tag, now and at an earlier time, with the IDs for the next question', async () => {
    const now = await call(client, 'explain', { target: 'churn-pipeline/production' });
    expect(now.isError).toBe(false);
    expect(now.value.target).toBe(`pem:${DEPLOY_2}`);
    expect(now.value.steps.map((s: { pem: string }) => s.pem)).toEqual([INGEST, TRAIN, RETRAIN, DEPLOY_2]);
    expect(now.value.sources.map((s: { name: string }) => s.name)).toEqual(['raw/customers.csv']);
    const before = await call(client, 'explain', { namespace: 'churn-pipeline', tag: 'production', at: '2026-12-01 18:00:00' });
    expect(before.value.target).toBe(`pem:${DEPLOY_1}`);
    expect(before.value.steps.map((s: { type: string }) => s.type)).toEqual(['ingest', 'train', 'deploy']);
  });

  it('lineage: upstream and downstream as nodes and edges', async () => {
    const down = await call(client, 'lineage', { target: INGEST, direction: 'downstream' });
    expect(down.value.direction).toBe('downstream');
    expect(down.value.nodes.filter((n: { pem?: string }) => n.pem).map((n: { pem: string }) => n.pem).sort()).toEqual([INGEST, TRAIN, DEPLOY_1, RETRAIN, DEPLOY_2].sort());
    const near = await call(client, 'lineage', { target: INGEST, direction: 'downstream', maxHops: 0 });
    expect(near.value.nodes.filter((n: { pem?: string }) => n.pem).map((n: { pem: string }) => n.pem)).toEqual([INGEST]);
    expect(down.value.edges).toContainEqual(['produced', `pem:${INGEST}`, `artifact:${INGEST}:dataset/customers`]);
    const up = await call(client, 'lineage', { target: 'artifact:deployment/prod' });
    expect(up.value.nodes[0]).toEqual({ artifact: 'deployment/prod', producer: DEPLOY_2, hop: 0 });
  });

  it('state_at: tags and artifact versions at a time', async () => {
    const state = await call(client, 'state_at', { at: '2026-12-02 11:30:00', namespaces: ['churn-pipeline'] });
    expect(state.value.tags.find((t: { tag: string }) => t.tag === 'production').pem).toBe(DEPLOY_1);
    expect(state.value.artifacts.find((a: { name: string }) => a.name === 'model/churn').producer).toBe(RETRAIN);
  });

  it('tag_history: every move, and only those up to a time', async () => {
    const all = await call(client, 'tag_history', { namespace: 'churn-pipeline', tag: 'production' });
    expect(all.value.moves.map((m: { pem: string }) => m.pem)).toEqual([DEPLOY_1, DEPLOY_2]);
    const early = await call(client, 'tag_history', { namespace: 'churn-pipeline', tag: 'production', at: '2026-12-01 23:00:00' });
    expect(early.value.moves.map((m: { pem: string }) => m.pem)).toEqual([DEPLOY_1]);
  });

  it('get_pem: the PEM whole (a UUID is accepted), refused before it existed', async () => {
    const read = await call(client, 'get_pem', { id: '22222222-2222-2222-2222-222222222222' });
    expect(read.value).toMatchObject({ ID: TRAIN, Type: 'train', Emitter: 'trainer', Properties: { note: 'train' }, UsesArtifacts: ['dataset/customers'] });
    const early = await call(client, 'get_pem', { id: TRAIN, at: '2026-12-01 10:30:00' });
    expect(early.isError).toBe(true);
    expect(early.value.error).toMatch(/did not exist yet/);
  });

  it('search_pems: by type, emitter, artifact and time, newest first', async () => {
    const trains = await call(client, 'search_pems', { type: 'train' });
    expect(trains.value.pems.map((p: { id: string }) => p.id)).toEqual([RETRAIN, TRAIN]);
    const byEmitter = await call(client, 'search_pems', { emitter: 'churn-pipeline', from: '2026-12-01T11:30:00Z', to: '2026-12-02 11:59:59' });
    expect(byEmitter.value).toMatchObject({ total: 1, pems: [{ id: DEPLOY_1 }] });
    const users = await call(client, 'search_pems', { artifact: 'model/churn', at: '2026-12-02 11:00:00', limit: 1 });
    expect(users.value.total).toBe(3);
    expect(users.value.pems.map((p: { id: string }) => p.id)).toEqual([RETRAIN]);
  });

  it('a bad call is an error answer that says what to do, and send_pem is refused', async () => {
    const unknown = await call(client, 'explain', { target: 'nowhere' });
    expect(unknown.isError).toBe(true);
    expect(unknown.value.error).toMatch(/not a PEM ID, an artifact Name or a namespace\/tag/);
    const send = await call(client, 'send_pem', { pem: {} });
    expect(send.isError).toBe(true);
    expect(send.value.error).toMatch(/read-only.*--allow-send/);
  });
});

describe('rk mcp --allow-send', () => {
  it('offers send_pem, and what it sends is found by the next question', async () => {
    const { client, server, rk } = await connected(true);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('send_pem');
      const ID = '6'.repeat(32);
      const sent = await call(client, 'send_pem', { pem: pem(ID, 'evaluate', '2026-12-03 09:00:00', ['model/churn'], ['report/churn']) });
      expect(sent).toEqual({ isError: false, value: { ID, status: 'accepted' } });
      expect(rk.receiver.pems.map((p) => p.ID)).toContain(ID);
      const found = await call(client, 'search_pems', { type: 'evaluate' });
      expect(found.value.pems.map((p: { id: string }) => p.id)).toEqual([ID]);
      const bad = await call(client, 'send_pem', { pem: { ID: 'x' } });
      expect(bad.isError).toBe(true);
      expect(bad.value.error).toMatch(/pem\.Version must be "2\.0\.0"/);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
