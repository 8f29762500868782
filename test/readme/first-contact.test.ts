import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../packaging/packed-project.js';

/**
 * The messages the README's error table promises that only a process shows (what it prints as it
 * exits), one test each, each in a node process of its own on the built client. The others, and the
 * test kit's failure injection, need no process: test/unit/first-contact-in-process.test.ts.
 */
describe('first-contact messages', () => {
  it('a process exiting with sends pending warns with the count and what to do', async () => {
    const script = `
      import { RKClient } from './dist/index.js';
      const rk = new RKClient('http://127.0.0.1:1/receiver', 'exit-test', { timeoutMs: 200 });
      void rk.sendPem(rk.preparePem('a'));
      void rk.sendPem(rk.preparePem('b'));
      setTimeout(() => process.exit(0), 300);
    `;
    const stderr = await new Promise<string>((resolve) => {
      execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, timeout: 30_000 }, (_, __, err) => resolve(err));
    });
    expect(stderr).toContain('the process is exiting with 2 PEMs not yet delivered');
    expect(stderr).toContain('await rk.flush()');
  });

  it('a fire-and-forget send that fails after its retries says so on stderr, and how to keep PEMs', async () => {
    const script = `
      import { RKClient } from './dist/index.js';
      const rk = new RKClient('http://127.0.0.1:1/receiver', 'exit-test', { retry: { totalTimeoutMs: 600, baseDelayMs: 50 } });
      void rk.sendPem(rk.preparePem('a'));
    `;
    const stderr = await new Promise<string>((resolve) => {
      execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, timeout: 30_000 }, (_, __, err) => resolve(err));
    });
    expect(stderr).toMatch(/PEM [0-9a-f]{32} dropped \(connection\): Sending PEM failed: could not reach http:\/\/127\.0\.0\.1:1\/receiver/);
    expect(stderr).toContain('to keep PEMs through an outage, use an outbox ({ outbox: { dir } })');
  });

  it('a process whose sends all settled exits without the warning', async () => {
    const script = `
      import { MockRKClient } from './dist/testing/index.js';
      const rk = new MockRKClient('exit-test');
      await rk.sendPem(rk.preparePem('a'));
      process.exit(0);
    `;
    const stderr = await new Promise<string>((resolve) => {
      execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, timeout: 30_000 }, (_, __, err) => resolve(err));
    });
    expect(stderr).not.toContain('exiting with');
  });
});
