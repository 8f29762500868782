import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPipeline, type PipelineOutcome } from '../../examples/pipeline.js';
import { startLocalRK, type LocalRK } from '../../server/src/index.js';
import { main } from '../../src/cli/main.js';

/**
 * `rk paths`, `rk impact` and `--engine` on the lineage commands, run in-process through
 * `main(argv, io)` against a local RK holding the example pipeline: the memory, server and replica
 * engines must print the same JSON. One reply mode: these commands only read, and known replies
 * are the same in both modes (server/test/reference-requests-suite.ts checks that).
 */

async function rk(argv: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
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

describe('rk paths, rk impact and --engine', { timeout: 120_000 }, () => {
  let local: LocalRK;
  let env: Record<string, string>;
  let pipeline: PipelineOutcome;
  let source: string;

  beforeAll(async () => {
    local = await startLocalRK({ memory: true });
    env = { RK_QUERY: local.queryUrl, RK_RECEIVER: local.receiverUrl, RK_GRAPH_BUILDER: local.graphBuilderUrl };
    pipeline = await runPipeline({ urls: local, print: () => {} });
    source = pipeline.explanation.sources.find((s) => s.reason === 'no-producer')!.name;
  }, 120_000);

  afterAll(async () => {
    await local?.stop();
  });

  it('rk impact <data source> lists the deployed model with a path from the source', async () => {
    const text = await rk(['impact', source], env);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`${pipeline.deployedPemId}  churn-pipeline/production`);
    const json = JSON.parse((await rk(['impact', source, '--json'], env)).stdout);
    const hit = json.hits.find((h: { pem: string }) => h.pem === pipeline.deployedPemId);
    expect(hit.tags).toContainEqual({ namespace: 'churn-pipeline', tag: 'production' });
    expect(hit.path[0]).toMatch(new RegExp(`^artifact:-:${source.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    expect(hit.path.at(-1)).toBe(`pem:${pipeline.deployedPemId}`);
  });

  it('rk paths <source> <tag> lists causal paths ending at the deployed PEM, whichever order they are given in', async () => {
    const forward = JSON.parse((await rk(['paths', source, 'churn-pipeline/production', '--json'], env)).stdout);
    expect(forward.paths.length).toBeGreaterThan(0);
    for (const path of forward.paths) expect(path.nodes.at(-1)).toBe(`pem:${pipeline.deployedPemId}`);
    const backward = JSON.parse((await rk(['paths', 'churn-pipeline/production', source, '--json'], env)).stdout);
    expect(backward).toEqual({ ...forward, reversed: true });
    const text = await rk(['paths', source, 'churn-pipeline/production'], env);
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
      const memory = await rk([...argv, '--json', '--engine', 'memory'], env);
      const server = await rk([...argv, '--json', '--engine', 'server'], env);
      expect(memory.code, argv.join(' ')).toBe(0);
      expect(server.stdout, argv.join(' ')).toBe(memory.stdout);
    }
  });

  it('rk sync --dir copies the store; --engine replica (or RK_LINEAGE_DIR) then prints what --engine memory prints; a wrong --engine is a usage error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rk-replica-cli-'));
    try {
      const first = await rk(['sync', '--dir', dir, '--json'], env);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      const report = JSON.parse(first.stdout);
      expect(report).toMatchObject({ dir, phase: 'load', resumed: false });
      expect(report.size).toBeGreaterThan(5);
      expect(report.added).toBe(report.size);
      const again = JSON.parse((await rk(['sync', '--json'], { ...env, RK_LINEAGE_DIR: dir })).stdout);
      expect(again).toMatchObject({ added: 0, size: report.size });
      const text = await rk(['sync', '--dir', dir], env);
      expect(text.stdout).toMatch(new RegExp(`PEMs\\s+${report.size}`));
      for (const argv of [
        ['lineage', 'churn-pipeline/production'],
        ['lineage', source, '--down'],
        ['explain', 'churn-pipeline/production'],
        ['impact', source],
        ['paths', source, 'churn-pipeline/production'],
        ['diff', pipeline.previousDeployPemId, pipeline.deployedPemId],
      ]) {
        const memory = await rk([...argv, '--json', '--engine', 'memory'], env);
        const replica = await rk([...argv, '--json', '--engine', 'replica', '--dir', dir], env);
        expect(memory.code, argv.join(' ')).toBe(0);
        expect(replica.stderr, argv.join(' ')).toBe('');
        expect(replica.stdout, argv.join(' ')).toBe(memory.stdout);
      }
      const fromEnv = await rk(['explain', 'churn-pipeline/production', '--json'], { ...env, RK_LINEAGE_DIR: dir });
      expect(fromEnv.stdout).toBe((await rk(['explain', 'churn-pipeline/production', '--json', '--engine', 'memory'], env)).stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const noDir = await rk(['sync'], env);
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toMatch(/rk sync needs a directory/);
    const wrong = await rk(['lineage', 'churn-pipeline/production', '--engine', 'disk'], env);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--engine must be memory, server or replica/);
  });
});
