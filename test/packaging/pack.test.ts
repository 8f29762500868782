import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packedProject, ROOT, run, runOk, type Outcome, type PackedProject } from './packed-project.js';
import { tscInProcess } from './typescript-in-process.js';

/**
 * What a user gets from `npm install recordkeeper-client`: the tarball `npm pack` makes, installed
 * into a fresh ESM project, imported by Node and type-checked against the shipped `.d.ts` with the
 * repo's own TypeScript (tsc's command lines, run in this process: test/packaging/typescript-in-process.ts).
 */
const TIMEOUT_MS = 120_000;
// Build, pack and an install that may have to fetch the two runtime dependencies.
const SETUP_TIMEOUT_MS = 240_000;

const CONSUMER_TS = `
import {
  MockRKClient,
  RKAdmin,
  RKClient,
  RKClientFactory,
  RKError,
  RKHttpError,
  RKQuery,
  VERSION,
  type Artifact,
  type SendAck,
  type ReceiverInfo,
  type Result,
  type StoredPem,
} from 'recordkeeper-client';

const rk = new RKClient('http://127.0.0.1:8082/receiver/', 'consumer', { timeoutMs: 1000, userAuth: 'token' });
const pem = rk
  .preparePem('train', { properties: { epochs: 3 }, tagName: 'production' })
  .usesArtifact(rk.prepareArtifact('dataset-a', { uri: 's3://bucket/a.csv' }))
  .producesArtifact(rk.prepareArtifact('model-a'));
const sent: Result<SendAck> = await rk.sendPem(pem);
if (sent.ok) {
  const status: 'accepted' | 'duplicate' | 'persisted' = sent.value.status;
  console.log(status);
} else if (sent.error instanceof RKHttpError) {
  const detail: [number, string | undefined] = [sent.error.status, sent.error.code];
  console.log(detail);
} else {
  const error: RKError = sent.error;
  console.log(error.kind, error.operation);
}
const info: Result<ReceiverInfo> = await rk.getInfo();
const limit: number | undefined = info.ok ? info.value.pem_size_limit : undefined;

const query = new RKQuery('http://127.0.0.1:8082/query/', { pucAuth: 'puc' });
const pems: Result<StoredPem[]> = await query.getPems({ pageSize: 10, sortField: 'TimestampClient', sortOrder: 'desc', filters: { Type: 'train' } });
const latest: Result<Artifact | null> = await query.getArtifactLatest('model');
const count: Result<number> = await query.getArtifactsCount({ source: 'graphdb' });

const admin = new RKAdmin('http://127.0.0.1:8082/query/', 'http://127.0.0.1:8082/graph-builder/');
const flushed = await admin.graphFlush({ timeoutMs: 60_000 });
const ms: number | undefined = flushed.ok ? flushed.value.durationMs : undefined;

const emitter = RKClientFactory.get('http://127.0.0.1:8082/receiver/', 'consumer');
const mock: boolean = emitter instanceof MockRKClient;
const version: string = VERSION;
console.log(limit, pems, latest, count, ms, mock, version);
`;

/** Each line must be refused by the shipped types; were they \`any\`, the unused directives would fail the check. */
const MISUSE_TS = `
import { RKClient, RKQuery } from 'recordkeeper-client';

const rk = new RKClient('http://127.0.0.1:8082/receiver/', 'consumer');
// @ts-expect-error the event type is a string
rk.preparePem(42);
// @ts-expect-error sortField is one of the fields the spec lists
await new RKQuery('http://127.0.0.1:8082/query/').getPems({ sortField: 'Colour' });
// @ts-expect-error a result must be narrowed with ok before its value is read
(await rk.getInfo()).value.version;
// @ts-expect-error artifact properties are strings
rk.prepareArtifact('dataset-a', { rows: 3 });
`;

/** exactOptionalPropertyTypes: options built from possibly-undefined values, as tsc --init's defaults check them. */
const STRICT_TS = `
import { RKClient, RKQuery, asFailure, type RKOptions } from 'recordkeeper-client';
import { MockRKClient, MockRKQuery } from 'recordkeeper-client/testing';
import { toPythonLiteral } from 'recordkeeper-client/wire';

const puc: string | undefined = process.env.RK_PUC_AUTH;
const options: RKOptions = { pucAuth: puc, userAuth: undefined, timeoutMs: undefined, retry: { maxAttempts: undefined } };
const rk = new RKClient('http://127.0.0.1:8082/receiver', 'strict', options);
const query = new RKQuery('http://127.0.0.1:8082/query', { pucAuth: puc });
const info = await query.getInfo();
if (!info.ok) {
  const error = info.error;
  if (error.kind === 'auth') console.log(error.status);
  else if (error.kind === 'timeout') console.log(error.timeoutMs);
  else console.log(asFailure(error).kind);
}
const mock = new MockRKClient('strict', { retry: false }).inject({ status: 503, times: 2 });
console.log(rk, new MockRKQuery(mock), toPythonLiteral);
`;

/**
 * The natural narrowing, checked with nothing but the package: no @types/node, skipLibCheck off (so
 * every shipped .d.ts is checked), target es2022 and its default lib (no esnext for
 * Symbol.asyncDispose).
 */
const BARE_TS = `
import { RKClient, RKQuery, closeOnSignals, type RKFailure } from 'recordkeeper-client';
import { MockRKClient, MockRKQuery } from 'recordkeeper-client/testing';
import { toPythonLiteral } from 'recordkeeper-client/wire';

const query = new RKQuery('http://127.0.0.1:8082/query');
const listed = await query.getPems({ pageSize: 10 });
if (!listed.ok && listed.error.kind === 'http') {
  const status: number = listed.error.status;
  document.title = String(status);
}
if (!listed.ok) {
  switch (listed.error.kind) {
    case 'timeout': { const ms: number = listed.error.timeoutMs; document.title = String(ms); break; }
    case 'not_found': { const wrong: boolean = listed.error.wrongUrl; document.title = String(wrong); break; }
    case 'connection': { const code: string | undefined = listed.error.code; document.title = String(code); break; }
  }
}
const failure: RKFailure | undefined = listed.ok ? undefined : listed.error;
const rk = new RKClient('http://127.0.0.1:8082/receiver', 'bare');
const stop = closeOnSignals([rk], { signals: ['SIGTERM'] });
stop();
await rk[Symbol.asyncDispose]();
document.title = String([failure, new MockRKQuery(new MockRKClient('bare')), toPythonLiteral(1)]);
`;

const BARE_TSCONFIG = {
  compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: false, types: [] },
  files: ['bare.ts'],
};

const CJS_TS = `
import rkclient = require('recordkeeper-client');
const rk: rkclient.RKClient = new rkclient.RKClient('http://127.0.0.1:8082/receiver', 'cjs');
console.log(typeof rkclient.RKQuery, typeof rk.sendPem);
`;

const TSC_ARGS = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022'];

describe('the npm package', { timeout: TIMEOUT_MS }, () => {
  let packed: PackedProject;
  let project: string;
  let files: string[];
  let tarballPath: string;

  beforeAll(async () => {
    // No rebuild here: the test command has just built dist/, and removing it while other suites
    // (the README's, the runtimes', the server's) read it made them fail at random. The tarball
    // and its install are the ones the other suites use (packOnce, packedProject).
    packed = await packedProject();
    project = packed.dir;
    tarballPath = packed.tarball;
    files = (await runOk('tar', ['-tzf', tarballPath], packed.tmp))
      .split('\n')
      .filter(Boolean)
      .map((path) => path.replace(/^package\//, ''));
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await packed?.remove();
  });

  it('ships the build, its types and the specs', () => {
    for (const file of [
      'package.json',
      'LICENSE',
      'CHANGELOG.md',
      'dist/testing/index.js',
      'dist/testing/index.d.ts',
      'dist/index.js',
      'dist/index.d.ts',
      'openapi/common.yaml',
      'openapi/receiver.yaml',
      'openapi/query.yaml',
      'openapi/graph-builder.yaml',
    ]) {
      expect(files).toContain(file);
    }
  });

  it("ships every file the README links to, so its links work inside node_modules too", async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const relative = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]!).filter((link) => !/^[a-z]+:/i.test(link));
    expect(relative.length).toBeGreaterThan(0);
    expect(relative.filter((link) => !files.includes(link.replace(/^\.\//, '')))).toEqual([]);
  });

  it('ships no source maps (the sources are not shipped for them to point at)', () => {
    expect(files.filter((file) => file.endsWith('.map'))).toEqual([]);
  });

  it('passes publint and @arethetypeswrong/cli (ESM-only profile: require() is Node\'s require(esm), checked below)', async () => {
    const publint = await run(join(ROOT, 'node_modules', '.bin', 'publint'), ['run', tarballPath, '--strict'], ROOT);
    const said = publint.stdout + publint.stderr;
    expect(said).not.toMatch(/Errors:|Warnings:/);
    // Its one suggestion is to move the browser field's file map into conditional exports/imports.
    // Kept on purpose: the map swaps three modules reached by dynamic import from inside the
    // package, which exports cannot reach, and `#imports` would make Node, tsc and vitest resolve
    // those imports through package.json instead of the files beside them (src/browser/README.md).
    const suggestions = [...said.matchAll(/^\d+\. (.*)$/gm)].map((m) => m[1]!);
    expect(suggestions.every((text) => text.startsWith('pkg.browser with an object value'))).toBe(true);
    expect(publint.code).toBe(0);
    const attw = await run(join(ROOT, 'node_modules', '.bin', 'attw'), [tarballPath, '--profile', 'esm-only', '--format', 'ascii'], ROOT);
    expect(attw.code, attw.stdout + attw.stderr).toBe(0);
    expect(attw.stdout).not.toMatch(/💀|❌/);
  });

  it('type-checks a consumer with exactOptionalPropertyTypes under module node16, nodenext and preserve + bundler', { timeout: 240_000 }, async () => {
    await writeFile(join(project, 'strict.ts'), STRICT_TS);
    const variants = [
      ['--module', 'node16', '--moduleResolution', 'node16'],
      ['--module', 'nodenext', '--moduleResolution', 'nodenext'],
      ['--module', 'preserve', '--moduleResolution', 'bundler'],
    ];
    const outcomes = variants.map((args) =>
      // skipLibCheck as tsc --init sets it: the consumer's code is checked against our .d.ts, @types/node is not re-checked three times.
      tscInProcess(['--noEmit', '--strict', '--exactOptionalPropertyTypes', '--noUncheckedIndexedAccess', '--skipLibCheck', '--target', 'es2022', '--types', 'node', ...args, 'strict.ts'], project),
    );
    expect(outcomes.map((o) => o.stdout + o.stderr)).toEqual(['', '', '']);
  });

  it("declarations compile with no @types/node, skipLibCheck off and target es2022; kind narrows a Result's error", async () => {
    await writeFile(join(project, 'bare.ts'), BARE_TS);
    await writeFile(join(project, 'tsconfig.bare.json'), JSON.stringify(BARE_TSCONFIG));
    const check = tscInProcess(['-p', 'tsconfig.bare.json'], project);
    expect(check.stdout + check.stderr).toBe('');
    expect(check.code).toBe(0);
  });

  it('type-checks and runs a CommonJS consumer (require of the ESM build, TypeScript 5.8+ and Node 20.19+)', async () => {
    await writeFile(join(project, 'consumer.cts'), CJS_TS);
    const check = tscInProcess(['--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', 'consumer.cts'], project);
    expect(check.stdout + check.stderr).toBe('');
    const ran = await run(process.execPath, ['consumer.cjs'], project);
    expect(ran.stderr).toBe('');
    expect(ran.stdout.trim()).toBe('function function');
  });

  it('ships no tests, sources, local server or dependencies', () => {
    const unwanted = files.filter(
      (file) => /^(test|src|server|node_modules|scripts)\//.test(file) || (file.endsWith('.ts') && !file.endsWith('.d.ts')),
    );
    expect(unwanted).toEqual([]);
  });

  it('imports as ESM in Node and works', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const script = `
      import { RKClient, RKClientFactory, RKConnectionError, VERSION } from 'recordkeeper-client';
      // One attempt (retry: false) reaches the network as five do, and the same failure, without the 6 s of backoff.
      const rk = new RKClient('http://127.0.0.1:1/receiver/', 'pack-test', { timeoutMs: 3000, insecure: true, retry: false });
      const pem = rk.preparePem('ingest').usesArtifact(rk.prepareArtifact('dataset-a'));
      const info = await rk.getInfo();
      console.log(JSON.stringify({
        VERSION,
        static: RKClient.version,
        id: pem.ID,
        mock: RKClientFactory.get('http://127.0.0.1:1/receiver/', 'pack-test').constructor.name,
        failure: info.ok ? null : [info.error instanceof RKConnectionError, info.error.message],
      }));
    `;
    const stdout = await runOk(process.execPath, ['--input-type=module', '-e', script], project, { RK_MOCK: 'TRUE' });
    const printed = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(printed).toMatchObject({ VERSION: pkg.version, static: pkg.version, mock: 'MockRKClient' });
    expect(printed.id).toMatch(/^[0-9a-f]{32}$/);
    // Reaching the network (through the lazily loaded undici, for `insecure`) proves the runtime dependencies resolve.
    expect(printed.failure).toEqual([true, expect.stringMatching(/^Reading Receiver info failed: could not reach http:\/\/127\.0\.0\.1:1\/receiver/)]);
  });

  it('installs the rk command, which runs from the installed package', async () => {
    expect(files).toContain('bin/rk.js');
    expect(files).toContain('dist/cli/main.js');
    const rk = join(project, 'node_modules', '.bin', 'rk');
    const version = await run(rk, ['--version'], project);
    expect(version).toEqual({ code: 0, stdout: `${JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).version}\n`, stderr: '' });
    const unreachable = await run(rk, ['pems', '--query', 'http://127.0.0.1:1/query'], project);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain('could not reach http://127.0.0.1:1/query');
  });

  it('exposes only the package entry point', async () => {
    const outcome = await run(process.execPath, ['--input-type=module', '-e', "import 'recordkeeper-client/dist/client.js';"], project);
    expect(outcome.code).not.toBe(0);
    expect(outcome.stderr).toContain('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  /**
   * One tsc program over the consumer, the misuse lines with their directives and the same lines
   * without: each file is a module, so its diagnostics are its own, and @types/node, checked with
   * skipLibCheck off, is checked once instead of twice. TypeScript's own lib files
   * (skipDefaultLibCheck) are not checked again here: the bare program above checks them, with the
   * same target and default lib, beside every shipped .d.ts (the one global those declare,
   * SymbolConstructor.asyncDispose, included); what this program adds is @types/node, whose files
   * and ours are still all checked. They were 60 % of this program's check time.
   */
  let consumers: Promise<Outcome> | undefined;
  function checkConsumers(): Promise<Outcome> {
    consumers ??= (async () => {
      await writeFile(join(project, 'consumer.ts'), CONSUMER_TS);
      await writeFile(join(project, 'misuse.ts'), MISUSE_TS);
      await writeFile(join(project, 'misuse-bare.ts'), MISUSE_TS.replace(/^\/\/ @ts-expect-error.*\n/gm, ''));
      return tscInProcess([...TSC_ARGS, '--skipDefaultLibCheck', 'consumer.ts', 'misuse.ts', 'misuse-bare.ts'], project);
    })();
    return consumers;
  }

  it('type-checks a consumer against the shipped .d.ts, and refuses misuse', async () => {
    const outcome = await checkConsumers();
    expect(outcome.stderr).toBe('');
    // Every line tsc printed is about misuse-bare.ts (the next test reads those): none about the others.
    expect(outcome.stdout.split('\n').filter((line) => line && !/^misuse-bare\.ts\(\d+,\d+\): error /.test(line) && !/^\s/.test(line))).toEqual([]);
    expect(outcome.stdout).toMatch(/^misuse-bare\.ts\(/);
  });

  it('refuses each misuse line for the reason given, once the directives are gone', async () => {
    const outcome = await checkConsumers();
    expect(outcome.code).not.toBe(0);
    const errors = [...outcome.stdout.matchAll(/^misuse-bare\.ts\((\d+),\d+\): error (TS\d+)/gm)].map(([, line, code]) => [Number(line), code]);
    expect(errors).toEqual([
      [5, 'TS2345'], // 42 is not a string
      [6, 'TS2322'], // 'Colour' is not a sort field
      [7, 'TS2339'], // no value on the failure branch
      [8, 'TS2322'], // 3 is not a string
    ]);
  });
});
