import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRk, cleanEnv, runRk } from './helpers.js';

/**
 * `rk` in a real pseudo-terminal, made by util-linux `script`: colour and the progress indicator
 * appear on a terminal, and never with NO_COLOR, never in a pipe, never on a redirected stdout.
 * The Query service is a small server of this file's: a listing of one PEM, in the form the local
 * RK answers it (what is tested is how rk paints it), and one that takes 1.2 s per page.
 */
const ESC = '\u001b[';
const hasScript = await new Promise<boolean>((resolve) => execFile('script', ['--version'], (error) => resolve(!error)));

/** Runs a shell command line inside a pseudo-terminal; resolves with everything the terminal showed. */
function inTerminal(commandLine: string, env: NodeJS.ProcessEnv): Promise<{ code: number; screen: string }> {
  return new Promise((resolve) => {
    execFile('script', ['-qfec', commandLine, '/dev/null'], { env, timeout: 30_000 }, (error, stdout) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, screen: stdout });
    });
  });
}

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

// On CI a missing `script` fails the suite (the spawn fails) rather than skipping it.
const skipped = !hasScript && process.env.CI !== 'true';
describe.skipIf(skipped)(`rk on a terminal${skipped ? ' (util-linux `script` is missing: apt-get install util-linux; CI fails instead)' : ' (script pseudo-terminal)'}`, { timeout: 60_000 }, () => {
  let main: string;
  let listing: Server;
  let listingUrl: string;
  let slow: Server;
  let slowUrl: string;
  let tmp: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    main = await buildRk('cli-tty');
    // One train PEM, as GET /query/pems and /query/pems_count of the local RK answer it.
    const pem = { ID: '01a250894c3d7090a5e667224a5b130e', Type: 'train', Predecessor: null, Emitter: 'tty', TimestampClient: '2026-12-07 12:45:04', TimestampReceived: '2026-12-07 12:45:05', Properties: {}, Tag: 'latest', TagNamespace: 'tty', UsesArtifacts: [], ProducesArtifacts: [] };
    listing = createServer((request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify(request.url?.startsWith('/query/pems_count') ? { pems_count: 1 } : [pem]));
    });
    await new Promise<void>((resolve) => listing.listen(0, '127.0.0.1', resolve));
    listingUrl = `http://127.0.0.1:${(listing.address() as AddressInfo).port}/query`;
    // A Query service that takes 1.2 s per page: long enough for the progress indicator (shown after
    // a second; when both are due, Node runs the timer before it reads the reply).
    slow = createServer((request, response) => {
      setTimeout(() => {
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.end(request.url?.startsWith('/query/pems_count') ? '{"pems_count": 0}' : '[]');
      }, 1200);
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/query`;
    tmp = await mkdtemp(join(tmpdir(), 'rk-tty-'));
    env = cleanEnv({ RK_QUERY: listingUrl, TERM: 'xterm-256color' });
  }, 120_000);

  afterAll(async () => {
    await new Promise((resolve) => (listing ? listing.close(resolve) : resolve(undefined)));
    await new Promise((resolve) => (slow ? slow.close(resolve) : resolve(undefined)));
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('colours a table on a terminal', async () => {
    const { code, screen } = await inTerminal(`${quote(process.execPath)} ${quote(main)} pems`, env);
    expect(code).toBe(0);
    expect(screen).toContain(`${ESC}1mID${ESC}22m`);
    expect(screen).toContain(`${ESC}1mtrain${ESC}22m`);
  });

  it('no colour with NO_COLOR, nor when piped', async () => {
    const noColour = await inTerminal(`${quote(process.execPath)} ${quote(main)} pems`, { ...env, NO_COLOR: '1' });
    expect(noColour.code).toBe(0);
    expect(noColour.screen).toMatch(/ID\s+TYPE/);
    expect(noColour.screen).not.toContain(ESC);
    const piped = await runRk(main, ['pems'], { env: { RK_QUERY: listingUrl, TERM: 'xterm-256color' } });
    expect(piped.code).toBe(0);
    expect(piped.stdout).toMatch(/ID\s+TYPE/);
    expect(piped.stdout + piped.stderr).not.toContain(ESC);
  });

  it('shows progress on the terminal for a slow --all listing, erases it, and never writes it to stdout or a pipe', async () => {
    // The four runs at once: each waits on the slow Query service, not on the others.
    const file = join(tmp, 'out.txt');
    const [shown, redirected, onePage, piped] = await Promise.all([
      inTerminal(`${quote(process.execPath)} ${quote(main)} pems --all --query ${quote(slowUrl)}`, env),
      // stdout redirected to a file, stderr still the terminal: progress on the terminal only.
      inTerminal(`${quote(process.execPath)} ${quote(main)} pems --all --query ${quote(slowUrl)} > ${quote(file)}`, env),
      // Any wait over a second, not only --all: one slow page.
      inTerminal(`${quote(process.execPath)} ${quote(main)} pems --query ${quote(slowUrl)}`, env),
      // Not a terminal at all: no progress anywhere.
      runRk(main, ['pems', '--all', '--query', slowUrl]),
    ]);
    expect(shown.code).toBe(0);
    expect(shown.screen).toContain('Listing PEMs...');
    expect(shown.screen).toContain(`\r${ESC}2K`);
    expect(shown.screen).toContain('No PEMs match.');

    expect(redirected.code).toBe(0);
    expect(redirected.screen).toContain('Listing PEMs...');
    const written = await readFile(file, 'utf8');
    expect(written).toBe('No PEMs match.\n');

    expect(onePage.screen).toContain('Listing PEMs...');

    expect(piped).toEqual({ code: 0, stdout: 'No PEMs match.\n', stderr: '' });
  });
});
