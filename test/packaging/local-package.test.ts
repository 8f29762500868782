import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packedProject, ROOT, run, runOk, type PackedProject } from './packed-project.js';

/**
 * What the README's "Testing your own code" section promises: `npm run pack:local` makes a
 * recordkeeper-local tarball that installs beside the client's in a user's project, where
 * `startLocalRecordKeeper()` from `recordkeeper-client/testing` starts it, and its bin runs.
 */
describe('the recordkeeper-local package', { timeout: 240_000 }, () => {
  let packed: string;
  let local: string;
  let project: PackedProject;

  beforeAll(async () => {
    packed = await mkdtemp(join(tmpdir(), 'rk-local-pack-'));
    await runOk(process.execPath, [join(ROOT, 'scripts/pack-local.mjs'), '--destination', packed], ROOT);
    local = join(packed, (await readdir(packed)).find((name) => name.startsWith('recordkeeper-local-'))!);
    project = await packedProject({ extra: [local] });
  }, 480_000);

  afterAll(async () => {
    await project?.remove();
    if (packed) await rm(packed, { recursive: true, force: true });
  });

  it("depends on the client's released version, not on the repository", async () => {
    const manifest = JSON.parse((await runOk('tar', ['xzOf', local, 'package/package.json'], packed)).toString()) as Record<string, unknown>;
    expect(manifest.private).toBeUndefined();
    expect((manifest.dependencies as Record<string, string>)['recordkeeper-client']).toMatch(/^\^\d+\.\d+\.\d+/);
    expect(manifest.scripts).toBeUndefined();
    const files = (await runOk('tar', ['tzf', local], packed)).split('\n');
    expect(files).toEqual(expect.arrayContaining(['package/openapi/receiver.yaml', 'package/dist/server/src/index.js', 'package/LICENSE']));
    expect(files.filter((file) => file.endsWith('.map'))).toEqual([]);
  });

  it("starts from a user's test through startLocalRecordKeeper, stores a PEM and reads it back", async () => {
    await writeFile(
      join(project.dir, 'kit.mjs'),
      `
      import { RKClient, RKQuery } from 'recordkeeper-client';
      import { startLocalRecordKeeper } from 'recordkeeper-client/testing';
      const started = performance.now();
      const local = await startLocalRecordKeeper();
      const startMs = performance.now() - started;
      const rk = new RKClient(local.receiverUrl, 'kit');
      const pem = rk.preparePem('train', { properties: { epochs: 2 } });
      const sent = await rk.sendPem(pem);
      const back = await new RKQuery(local.queryUrl).getPem(pem.ID);
      await rk.close();
      await local.stop();
      console.log(JSON.stringify({ sent: sent.ok && sent.value.status, epochs: back.ok && back.value.Properties.epochs, startMs: Math.round(startMs) }));
      `,
    );
    const out = await runOk(process.execPath, ['kit.mjs'], project.dir);
    const printed = JSON.parse(out.trim().split('\n').at(-1)!) as { sent: string; epochs: number; startMs: number };
    expect(printed).toMatchObject({ sent: 'accepted', epochs: 2 });
    console.log(`startLocalRecordKeeper() in the installed project: ${printed.startMs} ms`);
  });

  it('installs the recordkeeper-local command', async () => {
    const help = await run(join(project.dir, 'node_modules', '.bin', 'recordkeeper-local'), ['--help'], project.dir);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--memory');
  });
});
