import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RKClient } from '../../src/index.js';
import { echoServer, expectClean, SECRET } from '../helpers/echoing-server.js';
import { buildRk, rkInProcess, runRk } from './helpers.js';

/**
 * What `rk` prints stays clean of the credential when the server echoes request headers. `rk outbox
 * ls` runs as a process: it must mask a credential it was never given, and this process holds it
 * (the client below registered it), so in here the mask could come from the wrong place. `rk send`
 * and `rk info` are given the credential: they run in this process.
 */
const echo = echoServer();
let base = '';
let main = '';
const root = mkdtempSync(join(tmpdir(), 'rk-cli-redact-'));

beforeAll(async () => {
  [main, base] = await Promise.all([buildRk('cli-redaction'), echo.start()]);
}, 120_000);

afterAll(async () => {
  await echo.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('rk and a server that echoes the credential', { timeout: 60_000 }, () => {
  it('rk outbox ls --json shows the dead letter with the credential masked, even without the credential configured', async () => {
    const dir = join(root, 'outbox');
    echo.answer = { status: 400, style: 'json' };
    const service = new RKClient(`${base}/receiver`, 'svc', { pucAuth: SECRET, retry: false, logger: { warn() {} }, outbox: { dir, fsync: false } });
    expect((await service.sendPem(service.preparePem('train'))).ok).toBe(false);
    await service.close();
    const printed: string[] = [];
    for (const args of [['outbox', 'ls', '--json', '--dir', dir], ['outbox', 'ls', '--dir', dir]]) {
      const listed = await runRk(main, args);
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toContain('refused; you sent');
      expectClean(listed.stdout, `stdout of rk ${args.join(' ')}`);
      expectClean(listed.stderr, `stderr of rk ${args.join(' ')}`);
      printed.push(listed.stdout);
    }
    // The --json listing above, read back: one process fewer than running it again.
    const json = JSON.parse(printed[0]!) as { dead: { message: string }[] };
    expect(json.dead[0]!.message).toContain('x-rk-puc-auth: ***');
  });

  it('rk send and rk info print the refusal without the credential, in text and JSON', async () => {
    for (const [answer, args] of [
      [{ status: 400, style: 'json' }, ['send', '--type', 'train']],
      [{ status: 500, style: 'html' }, ['info']],
      [{ status: 403, style: 'long' }, ['info', '--json']],
    ] as const) {
      echo.answer = answer;
      const outcome = await rkInProcess([...args], { env: { RK_RECEIVER: `${base}/receiver`, RK_QUERY: `${base}/query`, RK_PUC_AUTH: SECRET } });
      expect(outcome.code, `rk ${args.join(' ')}`).not.toBe(0);
      expect(`${outcome.stdout}${outcome.stderr}`).toMatch(/HTTP (400|500|403)/);
      expectClean(outcome.stdout, `stdout of rk ${args.join(' ')}`);
      expectClean(outcome.stderr, `stderr of rk ${args.join(' ')}`);
    }
  });
});
