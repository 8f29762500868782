import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { closest, splitTime } from '../../src/cli/suggest.js';

/**
 * A user's mistakes at the command line, run in-process through `main(argv, io)` (no child
 * process: what is printed and the exit code are the point, not the process): each is a usage
 * error or a failure that says what to do, printed once, never with a stack trace.
 */
async function rk(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const stdin = new PassThrough();
  stdin.end();
  const code = await main(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin,
    env: { NO_COLOR: '1', ...env },
  });
  return { code, stdout, stderr };
}

const NO_STACK = /\n\s+at |bug in rk|unexpected failure/;

describe('rk, given a mistake', () => {
  it('a URL without a scheme is a usage error (exit 2) that says what to write', async () => {
    const flag = await rk(['pems', '--query', '127.0.0.1:8082/query']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('rk: error: --query "127.0.0.1:8082/query" has no scheme');
    expect(flag.stderr).toContain('hint: write --query http://127.0.0.1:8082/query (or https:// for a TLS server)');
    expect(flag.stderr).not.toMatch(NO_STACK);

    const variable = await rk(['send', '--type', 'train'], { RK_RECEIVER: 'localhost:8082/receiver' });
    expect(variable.code).toBe(2);
    expect(variable.stderr).toContain('hint: set RK_RECEIVER=http://localhost:8082/receiver');

    const scheme = await rk(['info', '--query', 'ftp://host/query']);
    expect(scheme.code).toBe(2);
    expect(scheme.stderr).toContain('uses ftp://; Record Keeper is reached over http:// or https://');
  });

  it('a mistyped command or flag gets "did you mean"', async () => {
    const command = await rk(['pmes']);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain('unknown command "pmes"');
    expect(command.stderr).toContain('did you mean "rk pems"?');

    const sub = await rk(['tag', 'sett', 'ns/a', '0'.repeat(32)]);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toContain('did you mean "rk tag set"?');

    const flag = await rk(['send', '--tpye', 'train', '--receiver', 'http://127.0.0.1:1/receiver']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("Unknown option '--tpye'");
    expect(flag.stderr).toContain('did you mean --type?');

    const far = await rk(['zzzzzz']);
    expect(far.stderr).not.toContain('did you mean');
    expect(far.stderr).toContain('rk --help lists the commands');
  });

  it('a time split by the shell gets a quoting hint', async () => {
    const split = await rk(['state-at', '2026-11-30', '11:59:59', '--query', 'http://127.0.0.1:1/query']);
    expect(split.code).toBe(2);
    expect(split.stderr).toContain('the time "2026-11-30 11:59:59" arrived as two arguments');
    expect(split.stderr).toContain('quote it: rk state-at ... "2026-11-30 11:59:59"');

    const flag = await rk(['lineage', 'model/churn', '--at', '2026-11-30', '11:59', '--query', 'http://127.0.0.1:1/query']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('"2026-11-30 11:59"');
  });

  it('an unreachable Receiver is reported once, with what to check, exit 3', async () => {
    const sent = await rk(['send', '--type', 'train', '--receiver', 'http://127.0.0.1:1/receiver', '--retries', '0', '--timeout', '2000']);
    expect(sent.code).toBe(3);
    expect(sent.stderr.match(/could not reach http:\/\/127\.0\.0\.1:1\/receiver/g)).toHaveLength(1);
    expect(sent.stderr).toContain('hint: Is Record Keeper running there? Check --receiver or RK_RECEIVER');
    expect(sent.stderr).not.toMatch(NO_STACK);
  });
});

describe('did you mean, and split times', () => {
  it('finds slips of the keyboard, not other words', () => {
    expect(closest('pmes', ['pems', 'pem', 'tags'])).toBe('pems');
    expect(closest('expalin', ['explain', 'export'])).toBe('explain');
    expect(closest('expl', ['lineage', 'explain'])).toBe('explain');
    expect(closest('zzzzzz', ['pems', 'tags'])).toBeUndefined();
  });

  it('sees a date and a time of day that arrived as two arguments', () => {
    expect(splitTime(['2026-11-30', '11:59:59'])).toBe('2026-11-30 11:59:59');
    expect(splitTime(['@2026-11-30', '11:59:59Z'])).toBe('@2026-11-30 11:59:59Z');
    expect(splitTime(['2026-11-30 11:59:59'])).toBeUndefined();
    expect(splitTime(['model/churn', '12:00'])).toBeUndefined();
  });
});
