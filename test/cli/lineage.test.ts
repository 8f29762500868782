import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPipeline, type PipelineOutcome } from '../../examples/pipeline.js';
import { startLocalRK, type LocalRK } from '../../server/src/index.js';
import { main } from '../../src/cli/main.js';
import { rkInProcess, type RkRun } from './helpers.js';

/**
 * `rk lineage`, `explain`, `state-at`, `diff` and `export` against a local Record Keeper holding
 * the example pipeline (ingest, train, evaluate, deploy; two days later a retrain and a second
 * deploy, both deploys tagged churn-pipeline/production). Then `rk paths`, `rk impact` and
 * `--engine` on the same store: the memory, server and replica engines must print the same JSON.
 */
// The whole file on rich replies: the lineage commands only read, and reads are the same in both
// modes (the reference mode changes write acknowledgements, which rk.test.ts runs in both); but
// reference replies list no capabilities in /info, so the server engine takes the REST reads
// there: the last suite runs --engine server, paths and impact against them.

/** main(argv, io) with exactly this environment (the engine tests set RK_LINEAGE_DIR or leave it out). */
async function rkMain(argv: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: Readable.from([]),
    env,
  });
  return { code, stdout, stderr };
}

/** A local RK in memory holding the example pipeline, and the environment rk finds it by. */
async function pipelineRK(replies: 'rich' | 'reference'): Promise<{ rk: LocalRK; env: Record<string, string>; pipeline: PipelineOutcome }> {
  // No graph loop: the lineage reads never touch the graph, and an idle loop costs CPU all along.
  const rk = await startLocalRK({ memory: true, replies, graphIntervalMs: 60_000 });
  const env = { RK_RECEIVER: rk.receiverUrl, RK_QUERY: rk.queryUrl, RK_GRAPH_BUILDER: rk.graphBuilderUrl };
  return { rk, env, pipeline: await runPipeline({ urls: rk, print: () => {} }) };
}

describe('rk lineage commands', { timeout: 60_000 }, () => {
  let rk: LocalRK;
  let env: Record<string, string>;
  let pipeline: PipelineOutcome;
  const run = (args: string[], options: RkRun = {}) => rkInProcess(args, { ...options, env: { ...env, ...options.env } });

  beforeAll(async () => {
    ({ rk, env, pipeline } = await pipelineRK('rich'));
  }, 120_000);

  afterAll(async () => {
    await rk?.stop();
  });

  it('rk lineage <ns/tag> draws the deployed model\'s upstream tree', async () => {
    const outcome = await run(['lineage', 'churn-pipeline/production']);
    expect(outcome.stderr).toBe('');
    expect(outcome.code).toBe(0);
    const lines = outcome.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^deploy ${pipeline.deployedPemId}  churn-pipeline  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC \\(`));
    expect(outcome.stdout).toMatch(/[├└]── uses model\/churn\n/);
    expect(outcome.stdout).toMatch(/[├└]── produced by retrain [0-9a-f]{32}  churn-pipeline/);
    expect(outcome.stdout).toMatch(/[├└]── follows evaluate [0-9a-f]{32}/);
    expect(outcome.stdout).toMatch(/raw\/customers-\d{4}-\d\d-\d\d\.csv {2}\(no known producer\)/);
    const json = JSON.parse((await run(['lineage', 'churn-pipeline/production', '--json'])).stdout);
    expect(json).toMatchObject({ direction: 'upstream', start: `pem:${pipeline.deployedPemId}` });
    // deploy, evaluate, retrain, the second ingest, and through model/churn the first train and ingest.
    expect(json.nodes.filter((n: { kind: string }) => n.kind === 'pem')).toHaveLength(6);
  });

  it('rk lineage --down from an artifact, --hops limits the walk, --at picks the tag of that time', async () => {
    const down = await run(['lineage', 'dataset/customers', '--down', '--json']);
    expect(down.code).toBe(0);
    expect(JSON.parse(down.stdout).direction).toBe('downstream');
    const human = await run(['lineage', 'dataset/customers', '--down']);
    expect(human.stdout).toMatch(/used by (train|retrain|evaluate) [0-9a-f]{32}/);
    const short = await run(['lineage', 'churn-pipeline/production', '--hops', '1']);
    expect(short.code).toBe(0);
    expect(short.stdout).toMatch(/truncated \(maxHops\).*raise --hops/);
    const before = await run(['lineage', 'churn-pipeline/production', '--at', pipeline.stateBefore.at, '--json']);
    expect(JSON.parse(before.stdout).start).toBe(`pem:${pipeline.previousDeployPemId}`);
    const byId = await run(['lineage', pipeline.previousDeployPemId, '--json']);
    expect(JSON.parse(byId.stdout).start).toBe(`pem:${pipeline.previousDeployPemId}`);
  });

  it('rk explain says which model, trained by whom, on which sources', async () => {
    const outcome = await run(['explain', 'churn-pipeline/production']);
    expect(outcome.stderr).toBe('');
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toMatch(new RegExp(`^Why deploy ${pipeline.deployedPemId}`));
    expect(outcome.stdout).toContain('Steps, oldest first:');
    expect(outcome.stdout).toMatch(/ 1\. ingest [0-9a-f]{32}  churn-pipeline/);
    expect(outcome.stdout).toMatch(/Models:\n {2}model\/churn: produced by [0-9a-f]{32}; trained by churn-pipeline/);
    expect(outcome.stdout).toMatch(/Data sources:\n {2}raw\/customers-/);
    const json = JSON.parse((await run(['explain', 'churn-pipeline/production', '--json'])).stdout);
    expect(json.target).toBe(`pem:${pipeline.deployedPemId}`);
    expect(json.models.map((m: { name: string }) => m.name)).toContain('model/churn');
    expect(json.steps.length).toBe(pipeline.explanation.steps.length);
  });

  it('rk state-at <time> shows where the tags pointed and which versions were current', async () => {
    const outcome = await run(['state-at', pipeline.stateBefore.at, '--namespace', 'churn-pipeline']);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toContain(`State at ${pipeline.stateBefore.at} UTC`);
    expect(outcome.stdout).toMatch(new RegExp(`churn-pipeline/production\\s+${pipeline.previousDeployPemId}`));
    expect(outcome.stdout).toMatch(/model\/churn\s+[0-9a-f]{32}\s+retrain/);
    const json = JSON.parse((await run(['state-at', pipeline.stateBefore.at, '--json'])).stdout);
    expect(json.at).toBe(pipeline.stateBefore.at);
    expect(json.tags.find((t: { tag: string }) => t.tag === 'production').pem).toBe(pipeline.previousDeployPemId);
    expect((await run(['state-at', 'yesterday-ish'])).code).toBe(2);
    expect((await run(['state-at', '1 h ago'])).code).toBe(0);
  });

  it('rk diff compares two ancestries', async () => {
    const outcome = await run(['diff', `pem:${pipeline.previousDeployPemId}`, 'churn-pipeline/production']);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toMatch(/^\+ raw\/customers-\d{4}-\d\d-\d\d\.csv \(no known producer\)$/m);
    expect(outcome.stdout).toMatch(/^~ model\/churn: versions only in a: none; only in b: retrain [0-9a-f]{32}$/m);
    expect(outcome.stdout).toMatch(/^PEMs: 4 only in b, 2 only in a$/m);
    const json = JSON.parse((await run(['diff', 'churn-pipeline/production', 'churn-pipeline/production', '--at-a', pipeline.stateBefore.at, '--json'])).stdout);
    expect(json.rebound.map((r: { name: string }) => r.name)).toContain('model/churn');
    expect((await run(['diff', 'churn-pipeline/production', 'churn-pipeline/production'])).stdout).toBe('No difference in the ancestry.\n');
    expect((await run(['diff', 'only-one'])).code).toBe(2);
  });

  it('rk export writes Mermaid, DOT, PROV-JSON, Cytoscape and JSON', async () => {
    const mermaid = await run(['export', 'churn-pipeline/production', '--format', 'mermaid']);
    expect(mermaid.code).toBe(0);
    expect(mermaid.stdout).toMatch(/^flowchart LR\n/);
    expect((await run(['export', 'churn-pipeline/production'])).stdout).toBe(mermaid.stdout);
    expect((await run(['export', 'churn-pipeline/production', '--format', 'dot'])).stdout).toMatch(/^digraph/);
    const prov = JSON.parse((await run(['export', 'churn-pipeline/production', '--format', 'prov-json'])).stdout);
    expect(Object.keys(prov.activity).length).toBe(6);
    const cytoscape = JSON.parse((await run(['export', 'churn-pipeline/production', '--format', 'cytoscape'])).stdout);
    expect(cytoscape.elements.nodes.length).toBeGreaterThan(6);
    const json = JSON.parse((await run(['export', 'model/churn', '--down', '--format', 'json'])).stdout);
    expect(json.direction).toBe('downstream');
    const bad = await run(['export', 'churn-pipeline/production', '--format', 'png']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--format must be one of mermaid, dot, prov-json, cytoscape, json');
  });

  it('an unknown target is 1 with where to look, bad flags 2, an unreachable Query service 3', async () => {
    // Started first, checked last: it waits out a retry's backoff while the others run.
    const unreachable = run(['lineage', 'churn-pipeline/production'], { env: { RK_QUERY: 'http://127.0.0.1:1/query' } });
    const unknown = await run(['lineage', 'no-such/thing']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('"rk pems", "rk artifacts" and "rk tags" list what there is');
    expect((await run(['explain', '0'.repeat(32)])).code).toBe(1);
    expect((await run(['lineage', 'churn-pipeline/production', '--hops', 'many'])).code).toBe(2);
    expect((await run(['lineage'])).code).toBe(2);
    const down = await unreachable;
    expect(down.code).toBe(3);
    expect(down.stderr).toContain('could not reach http://127.0.0.1:1/query');
  });

  describe('rk paths, rk impact and --engine', { timeout: 120_000 }, () => {
    let source: string;
    beforeAll(() => {
      source = pipeline.explanation.sources.find((s) => s.reason === 'no-producer')!.name;
    });
    // What --engine memory prints for a command, run once: the server and the replica engine are
    // both compared with it, and the store does not change in between.
    const memoryRuns = new Map<string, ReturnType<typeof rkMain>>();
    const memoryRun = (argv: string[]) => {
      const key = JSON.stringify(argv);
      if (!memoryRuns.has(key)) memoryRuns.set(key, rkMain([...argv, '--json', '--engine', 'memory'], env));
      return memoryRuns.get(key)!;
    };

    it('rk impact <data source> lists the deployed model with a path from the source', async () => {
      const text = await rkMain(['impact', source], env);
      expect(text.stderr).toBe('');
      expect(text.code).toBe(0);
      expect(text.stdout).toContain(`${pipeline.deployedPemId}  churn-pipeline/production`);
      const json = JSON.parse((await rkMain(['impact', source, '--json'], env)).stdout);
      const hit = json.hits.find((h: { pem: string }) => h.pem === pipeline.deployedPemId);
      expect(hit.tags).toContainEqual({ namespace: 'churn-pipeline', tag: 'production' });
      expect(hit.path[0]).toMatch(new RegExp(`^artifact:-:${source.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
      expect(hit.path.at(-1)).toBe(`pem:${pipeline.deployedPemId}`);
    });

    it('rk paths <source> <tag> lists causal paths ending at the deployed PEM, whichever order they are given in', async () => {
      const forward = JSON.parse((await rkMain(['paths', source, 'churn-pipeline/production', '--json'], env)).stdout);
      expect(forward.paths.length).toBeGreaterThan(0);
      for (const path of forward.paths) expect(path.nodes.at(-1)).toBe(`pem:${pipeline.deployedPemId}`);
      const backward = JSON.parse((await rkMain(['paths', 'churn-pipeline/production', source, '--json'], env)).stdout);
      expect(backward).toEqual({ ...forward, reversed: true });
      const text = await rkMain(['paths', source, 'churn-pipeline/production'], env);
      expect(text.stdout).toMatch(/^\d+ path\(s\) from /);
    });

    it('--engine server prints what --engine memory prints, command by command', async () => {
      for (const argv of [
        ['lineage', 'churn-pipeline/production'],
        ['lineage', source, '--down'],
        ['explain', 'churn-pipeline/production'],
        ['impact', source],
        ['paths', source, 'churn-pipeline/production'],
        ['diff', pipeline.previousDeployPemId, pipeline.deployedPemId],
        ['export', 'churn-pipeline/production', '--format', 'mermaid'],
      ]) {
        const memory = await memoryRun(argv);
        const server = await rkMain([...argv, '--json', '--engine', 'server'], env);
        expect(memory.code, argv.join(' ')).toBe(0);
        expect(server.stdout, argv.join(' ')).toBe(memory.stdout);
      }
    });

    it('rk sync --dir copies the store; --engine replica (or RK_LINEAGE_DIR) then prints what --engine memory prints; a wrong --engine is a usage error', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'rk-replica-cli-'));
      try {
        const first = await rkMain(['sync', '--dir', dir, '--json'], env);
        expect(first.stderr).toBe('');
        expect(first.code).toBe(0);
        const report = JSON.parse(first.stdout);
        expect(report).toMatchObject({ dir, phase: 'load', resumed: false });
        expect(report.size).toBeGreaterThan(5);
        expect(report.added).toBe(report.size);
        const again = JSON.parse((await rkMain(['sync', '--json'], { ...env, RK_LINEAGE_DIR: dir })).stdout);
        expect(again).toMatchObject({ added: 0, size: report.size });
        const text = await rkMain(['sync', '--dir', dir], env);
        expect(text.stdout).toMatch(new RegExp(`PEMs\\s+${report.size}`));
        for (const argv of [
          ['lineage', 'churn-pipeline/production'],
          ['lineage', source, '--down'],
          ['explain', 'churn-pipeline/production'],
          ['impact', source],
          ['paths', source, 'churn-pipeline/production'],
          ['diff', pipeline.previousDeployPemId, pipeline.deployedPemId],
        ]) {
          const memory = await memoryRun(argv);
          const replica = await rkMain([...argv, '--json', '--engine', 'replica', '--dir', dir], env);
          expect(memory.code, argv.join(' ')).toBe(0);
          expect(replica.stderr, argv.join(' ')).toBe('');
          expect(replica.stdout, argv.join(' ')).toBe(memory.stdout);
        }
        const fromEnv = await rkMain(['explain', 'churn-pipeline/production', '--json'], { ...env, RK_LINEAGE_DIR: dir });
        expect(fromEnv.stdout).toBe((await memoryRun(['explain', 'churn-pipeline/production'])).stdout);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const noDir = await rkMain(['sync'], env);
      expect(noDir.code).toBe(2);
      expect(noDir.stderr).toMatch(/rk sync needs a directory/);
      const wrong = await rkMain(['lineage', 'churn-pipeline/production', '--engine', 'disk'], env);
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toMatch(/--engine must be memory, server or replica/);
    });
  });
});

// Reference replies answer /info as the real RK does (no capabilities), so there the server engine
// keeps to the REST reads a real RK has: the path a user meets against a real RK.
describe('rk paths, rk impact and --engine server against reference replies', { timeout: 120_000 }, () => {
  let rk: LocalRK;
  let env: Record<string, string>;
  let pipeline: PipelineOutcome;

  beforeAll(async () => {
    ({ rk, env, pipeline } = await pipelineRK('reference'));
  }, 120_000);

  afterAll(async () => {
    await rk?.stop();
  });

  it('--engine server prints what --engine memory prints, for paths and impact too', async () => {
    const source = pipeline.explanation.sources.find((s) => s.reason === 'no-producer')!.name;
    for (const argv of [
      ['explain', 'churn-pipeline/production'],
      ['impact', source],
      ['paths', source, 'churn-pipeline/production'],
      ['lineage', source, '--down'],
    ]) {
      const memory = await rkMain([...argv, '--json', '--engine', 'memory'], env);
      const server = await rkMain([...argv, '--json', '--engine', 'server'], env);
      expect(memory.code, argv.join(' ')).toBe(0);
      expect(server.stderr, argv.join(' ')).toBe('');
      expect(server.stdout, argv.join(' ')).toBe(memory.stdout);
    }
    const impact = JSON.parse((await rkMain(['impact', source, '--json', '--engine', 'server'], env)).stdout);
    expect(impact.hits.map((h: { pem: string }) => h.pem)).toContain(pipeline.deployedPemId);
  });
});

