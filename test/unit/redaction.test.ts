import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RKAdmin, RKClient, RKError, RKHttpError, RKQuery, RKUnexpectedResponseError } from '../../src/index.js';
import { redact } from '../../src/core/redact.js';
import { echoServer, expectClean, SECRET, type Answer } from '../helpers/echoing-server.js';

/**
 * A server (or a proxy in front of it) that echoes the request headers into its error pages must
 * not put the credential into any text the client produces: messages, stacks, `serverMessage`,
 * bodies and headers of errors, log lines, dead-letter reasons.
 */

describe('credentials stay out of every text the client produces', () => {
  const echo = echoServer();
  let base = '';
  const dirs: string[] = [];
  beforeAll(async () => {
    base = await echo.start();
  });
  afterAll(async () => {
    await echo.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('10 of 10 errors from echoing error pages, and every log line, are clean', async () => {
    const lines: string[] = [];
    const logger = { warn: (m: string) => lines.push(m), debug: (m: string) => lines.push(m) };
    const options = { pucAuth: SECRET, retry: false as const, logger, debug: true, timeoutMs: 5000 };
    const rk = new RKClient(`${base}/receiver`, 'echo-test', options);
    const query = new RKQuery(`${base}/query`, options);
    const admin = new RKAdmin(`${base}/query`, `${base}/graph-builder`, options);
    const cases: [Answer, () => Promise<{ ok: boolean; error?: unknown }>][] = [
      [{ status: 400, style: 'json' }, () => rk.sendPem(rk.preparePem('train'))],
      [{ status: 409, style: 'text' }, () => rk.setTag('ns', 'tag', 'a'.repeat(32))],
      [{ status: 500, style: 'html' }, () => rk.getInfo()],
      [{ status: 404, style: 'page' }, () => query.getPem('b'.repeat(32))],
      [{ status: 503, style: 'nested' }, () => query.getPems()],
      [{ status: 401, style: 'json', headerEcho: true }, () => query.getArtifacts()],
      [{ status: 403, style: 'text' }, () => admin.graphRebuild()],
      [{ status: 422, style: 'long' }, () => query.queryGraph('MATCH (n) RETURN n')],
      [{ status: 429, style: 'html', headerEcho: true }, () => admin.getReport('5f0c6c1e-2a4b-4c5d-9e8f-0a1b2c3d4e5f')],
      [{ status: 200, style: 'text' }, () => query.getPemsCount()],
    ];
    let clean = 0;
    for (const [answer, call] of cases) {
      echo.answer = answer;
      const result = await call();
      expect(result.ok, `${answer.status} ${answer.style}`).toBe(false);
      const error = result.error as RKError;
      expect(error).toBeInstanceOf(RKError);
      expectClean(error.message, `message of ${error.operation}`);
      expectClean(error.stack, `stack of ${error.operation}`);
      if (error instanceof RKHttpError) {
        expect(error.status).toBe(answer.status);
        expectClean(error.serverMessage ?? '', `serverMessage of ${error.operation}`);
        expectClean(error.body, `body of ${error.operation}`);
        expectClean([...error.headers.entries()], `headers of ${error.operation}`);
      } else {
        expect(error).toBeInstanceOf(RKUnexpectedResponseError);
        expectClean((error as RKUnexpectedResponseError).body, `body of ${error.operation}`);
      }
      clean++;
    }
    // The server did echo the credential every time; the client scrubbed it every time.
    expect(echo.echoed).toBe(10);
    expect(clean).toBe(10);
    // Still useful: the explanation is there, with the credential masked.
    echo.answer = { status: 400, style: 'json' };
    const refused = await rk.sendPem(rk.preparePem('train'));
    expect(!refused.ok && refused.error.message).toContain('x-rk-puc-auth: ***');
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) expectClean(line, 'a log line');
    await rk.close();
  });

  it('dead-letter reasons are clean, and the outbox is readable by its owner only', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rk-redact-'));
    dirs.push(root);
    const dir = join(root, 'outbox');
    const warned: string[] = [];
    echo.answer = { status: 400, style: 'json' };
    const rk = new RKClient(`${base}/receiver`, 'echo-test', { pucAuth: SECRET, retry: false, logger: { warn: (m) => warned.push(m) }, outbox: { dir, fsync: false } });
    const sent = await rk.sendPem(rk.preparePem('train'));
    expect(sent.ok).toBe(false);
    const letters = await rk.outbox!.deadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0]!.message).toContain('***');
    expectClean(letters[0]!.message, 'the dead letter message');
    for (const name of readdirSync(join(dir, 'dead'))) {
      expectClean(readFileSync(join(dir, 'dead', name), 'utf8'), `dead/${name}`);
      expect(statSync(join(dir, 'dead', name)).mode & 0o777, `dead/${name}`).toBe(0o600);
    }
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'dead')).mode & 0o777).toBe(0o700);
    for (const line of warned) expectClean(line, 'a warning');
    expect(warned.some((line) => line.includes('open to other users'))).toBe(false);
    await rk.close();
  });

  it('an existing outbox open to other users gets a warning naming the folder and the fix', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rk-redact-'));
    dirs.push(root);
    const dir = join(root, 'shared-outbox');
    mkdirSync(dir, { mode: 0o755 });
    const warned: string[] = [];
    const rk = new RKClient(`${base}/receiver`, 'echo-test', { retry: false, logger: { warn: (m) => warned.push(m) }, outbox: { dir, fsync: false } });
    await rk.outbox!.size();
    await rk.close({ timeoutMs: 0 });
    expect(warned.filter((line) => line.includes('open to other users'))).toEqual([
      `the outbox folder ${dir} is open to other users (mode 0755); its PEMs and dead-letter reasons may be sensitive: chmod 700 ${dir}`,
    ]);
  });

  it('a short credential is masked as a whole word only, a long one wherever it appears; both credentials given are masked', () => {
    const short = new RKClient(`${base}/receiver`, 'e', { userAuth: 'pip' });
    expect(redact('token pip; pipeline "pip"')).toBe('token ***; pipeline "***"');
    const long = new RKClient(`${base}/receiver`, 'e', { userAuth: 'abcdefghijklmnop1234' });
    expect(redact('xxabcdefghijklmnop1234yy')).toBe('xx***yy');
    // Both credentials given are held, also the PUC one that is not sent (userAuth wins).
    const both = new RKClient(`${base}/receiver`, 'e', { userAuth: 'user-credential-0123456789', pucAuth: 'puc-credential-not-sent-42' });
    expect(redact('a=puc-credential-not-sent-42 b=user-credential-0123456789')).toBe('a=*** b=***');
    for (const client of [short, long, both]) expect(client.emitterId).toBe('e');
  });
});
