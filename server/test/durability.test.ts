import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { newestSource } from '../../test/helpers/build-client.js';
import { b64, makePem, startHarness, waitForReport, type Harness } from './helpers/harness.js';

const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tempDirs: string[] = [];
const children: ChildProcess[] = [];

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'rk-durable-'));
  tempDirs.push(dir);
  return dir;
}

afterAll(() => {
  // Every process this file started is stopped by its pid.
  for (const child of children) if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** Everything the Query service can tell about the stored data. */
async function snapshot(h: Harness) {
  const get = async (path: string) => (await h.call('query', 'GET', path)).json;
  return { pems: await get('/pems'), artifacts: await get('/artifacts'), tags: await get('/tags'), counts: await h.counts() };
}

describe('durability of a PGlite data directory', { timeout: 120_000 }, () => {
  it('has everything written before a restart after it', async () => {
    const dataDir = tempDir();
    const first = await startHarness({ dataDir });
    const pems = [makePem({ Type: 'ingest' }), makePem({ Type: 'train' }), makePem({ Type: 'deploy', Properties: { ünï: 'cödé', n: [1, 2.5] } })];
    for (const pem of pems) expect((await first.call('receiver', 'POST', '/pem', { body: pem })).status).toBe(200);
    await first.call('receiver', 'POST', `/tag/${b64('prod')}/${b64('current')}/${pems[1]!.ID}`);
    const check = await first.call('query', 'POST', '/verify_artifact_connections', { body: {} });
    const report = await waitForReport(first, check.json.report_id);
    await first.call('graph-builder', 'POST', '/flush', { body: {} });
    const before = await snapshot(first);
    await first.stop();

    const second = await startHarness({ dataDir });
    try {
      expect(await snapshot(second)).toEqual(before);
      expect(before.counts).toEqual({ pems: 3, artifacts: 3, tags: 2 });
      expect((await second.call('query', 'GET', `/report/${check.json.report_id}`)).json).toEqual(report);
      expect((await second.call('graph-builder', 'GET', '/info')).json).toMatchObject({ neo4j_pems_count: 3, pems_sync_pct: '100.0' });
      // The same PEM sent again after the restart is still recognised.
      expect((await second.call('receiver', 'POST', '/pem', { body: pems[0] })).json.status).toBe('duplicate');
      expect(second.validator.violations()).toEqual([]);
    } finally {
      await second.stop();
    }
    expect(first.validator.violations()).toEqual([]);
  });
});

/** Starts the built `recordkeeper-local` command and reads the base URLs it prints. */
async function startCommand(args: string[]): Promise<{ child: ChildProcess; urls: Record<string, string>; output: () => string }> {
  const child = spawn(process.execPath, [path.join(serverDir, 'bin', 'recordkeeper-local.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const urls = await new Promise<Record<string, string>>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const found = Object.fromEntries([...output.matchAll(/^\s+(Receiver|Query|Graph Builder):\s+(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
      if (Object.keys(found).length === 3) resolve(found);
    });
    child.once('exit', (code) => reject(new Error(`recordkeeper-local exited with ${code}: ${output}`)));
  });
  return { child, urls, output: () => output };
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

describe('the recordkeeper-local command', { timeout: 180_000 }, () => {
  it('serves from its build, keeps every acknowledged PEM through a kill -9, and stops cleanly on SIGTERM', async () => {
    // `npm test` has just built the server (build:all), which fails the run if it does not build;
    // built again here only when src/ changed since, so a run alone after an edit runs no stale code.
    // The build's .tsbuildinfo is the mark: an incremental build rewrites only the outputs that changed.
    const built = path.join(serverDir, 'dist', 'tsconfig.build.tsbuildinfo');
    if (!existsSync(path.join(serverDir, 'dist', 'server', 'src', 'cli.js')) || !existsSync(built) || statSync(built).mtimeMs < newestSource(path.join(serverDir, 'src'))) {
      const tsc = path.join(serverDir, '..', 'node_modules', 'typescript', 'bin', 'tsc');
      const build = spawnSync(process.execPath, [tsc, '-b', path.join(serverDir, 'tsconfig.build.json')], { encoding: 'utf8' });
      expect(build.status, build.stdout + build.stderr).toBe(0);
    }

    const dataDir = tempDir();
    const first = await startCommand(['--data-dir', dataDir, '--port', '0']);
    expect(first.output()).toContain(`PGlite (${dataDir})`);
    const receiver = first.urls.Receiver!;
    const acknowledged: string[] = [];
    for (let i = 0; i < 20; i++) {
      const pem = makePem({ Type: `step-${i}` });
      const response = await fetch(`${receiver}/pem`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(pem) });
      expect(response.status).toBe(200);
      acknowledged.push(pem.ID);
    }
    // No chance to shut down: whatever was acknowledged must already be on disk.
    process.kill(first.child.pid!, 'SIGKILL');
    expect((await exited(first.child)).signal).toBe('SIGKILL');

    const second = await startCommand(['--data-dir', dataDir, '--port', '0']);
    const stored = (await (await fetch(`${second.urls.Query}/pems`)).json()) as { ID: string }[];
    expect(stored.map((p) => p.ID)).toEqual(acknowledged);

    process.kill(second.child.pid!, 'SIGTERM');
    expect(await exited(second.child)).toEqual({ code: 0, signal: null });
    expect(second.output()).toContain('SIGTERM: stopping...');
    expect(second.output()).toContain('Stopped.');
  });

  it('explains a bad option and exits with 2', () => {
    // Runs from the build the test above checked.
    const result = spawnSync(process.execPath, [path.join(serverDir, 'bin', 'recordkeeper-local.js'), '--port', 'eighty'], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--port must be a whole number');
  });
});
