import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RKAdmin, RKClient } from '../../src/index.js';
import { startLocalRK, type LocalRK } from '../../server/src/index.js';
import { PEM_ID, rkInProcess, type RkRun } from './helpers.js';

/**
 * `rk` end to end against a local Record Keeper started here, in each reply mode of the server
 * (writes are acknowledged differently, refusals worded differently; reads answer alike, so the
 * listings run on rich replies only), asserting stdout, stderr and exit codes. The command runs
 * in this process (`main(argv, io)`); the process itself (launcher, terminal, signals) is tested
 * in help-local.test.ts and tty.test.ts.
 */
const REPLY_MODES = ['rich', 'reference'] as const;

const CLOSED = 'http://127.0.0.1:1';
const NO_WRITE_ACKS = "the library at this base refuses the reference mode's text acks (Ack getting <Type>, an empty tag reply); main's client accepts any 2xx";

describe.each(REPLY_MODES)('rk against the local Record Keeper (%s replies)', { timeout: 60_000 }, (mode) => {
  let rk: LocalRK;
  let env: Record<string, string>;
  let tmp: string;
  let writesAcknowledged = false;
  const emitter = `cli-${mode}-${Date.now().toString(36)}`;
  const run = (args: string[], options: RkRun = {}) => rkInProcess(args, { ...options, env: { ...env, ...options.env } });

  beforeAll(async () => {
    // No graph loop: the two tests that read the graph flush it first, and a loop every 100 ms cost
    // about a twentieth of a core for as long as the file ran.
    rk = await startLocalRK({ memory: true, graphIntervalMs: 60_000, replies: mode });
    env = { RK_RECEIVER: rk.receiverUrl, RK_QUERY: rk.queryUrl, RK_GRAPH_BUILDER: rk.graphBuilderUrl, RK_EMITTER: emitter };
    tmp = await mkdtemp(join(tmpdir(), 'rk-cli-'));
    // Whether the library at this base reads this reply mode's acknowledgements of writes (the
    // reference mode's text acks): the write tests need it, and say so when they are skipped.
    const probe = new RKClient(rk.receiverUrl, `${emitter}-probe`, { retry: false });
    writesAcknowledged = (await probe.sendPem(probe.preparePem('probe'))).ok;
    await probe.close();
    // The library reads any 2xx as an acknowledgement (issue 7), so writes run in both reply modes.
    expect(writesAcknowledged).toBe(true);
  }, 120_000);

  afterAll(async () => {
    await rk?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  describe('info and doctor', () => {
    it('rk info prints the three infos; --json one document', async () => {
      const human = await run(['info']);
      expect(human).toMatchObject({ code: 0, stderr: '' });
      expect(human.stdout).toContain(`Receiver  ${rk.receiverUrl}`);
      expect(human.stdout).toMatch(/pem_size_limit\s+1048576/);
      expect(human.stdout).toContain(`Graph Builder  ${rk.graphBuilderUrl}`);
      const json = await run(['info', '--json']);
      expect(json.code).toBe(0);
      const document = JSON.parse(json.stdout);
      expect(document.receiver).toMatchObject({ url: rk.receiverUrl, pem_version: '2.0.0', auth_required: false });
      expect(document.query).toMatchObject({ url: rk.queryUrl, version: expect.any(String) });
      expect(document.graphBuilder).toMatchObject({ url: rk.graphBuilderUrl, pems_sync_pct: expect.any(String) });
    });

    it('rk info with one service\'s URL given for another: exit 1, and the hint says which setting to check', async () => {
      const outcome = await run(['info', '--receiver', rk.queryUrl]);
      expect(outcome.code).toBe(1);
      expect(outcome.stdout).toContain('Query service');
      expect(outcome.stderr).toContain('Reading Receiver info failed: HTTP 200 with an unexpected body');
      expect(outcome.stderr).toContain("is --receiver or RK_RECEIVER the right service's base URL");
    });

    it('rk info with nothing configured is a usage error naming the variables', async () => {
      const outcome = await rkInProcess(['info']);
      expect(outcome.code).toBe(2);
      expect(outcome.stdout).toBe('');
      expect(outcome.stderr).toContain('no service URL is configured');
      expect(outcome.stderr).toContain('RK_RECEIVER');
      expect(outcome.stderr).toContain('Usage: rk info');
    });

    it('rk doctor passes every check on a healthy setup', async () => {
      // Healthy includes a graph in sync: PEMs sent by the tests before this one are flushed into it
      // first, or the projection loop may not have reached the last of them yet.
      const flushed = await new RKAdmin(rk.queryUrl, rk.graphBuilderUrl).graphFlush({ timeoutMs: 30_000 });
      expect(flushed.ok).toBe(true);
      const outcome = await run(['doctor']);
      expect(outcome.stderr).toBe('');
      expect(outcome.code).toBe(0);
      for (const check of ['Receiver', 'Query service', 'Graph Builder', 'credential', 'clock', 'size limit', 'graph sync']) {
        expect(outcome.stdout).toMatch(new RegExp(`✓ ${check}`));
      }
      expect(outcome.stdout).toContain('PEMs up to 1.0 MiB');
      expect(outcome.stdout).toMatch(/All good/);
      const json = JSON.parse((await run(['doctor', '--json'])).stdout);
      expect(json.ok).toBe(true);
      expect(json.checks.map((c: { check: string }) => c.check)).toEqual(['Receiver', 'Query service', 'Graph Builder', 'credential', 'clock', 'size limit', 'graph sync']);
    });

    it('rk doctor names what to fix: an unreachable Graph Builder is exit 3, a missing URL says which variable', async () => {
      const down = await run(['doctor'], { env: { RK_GRAPH_BUILDER: `${CLOSED}/graph-builder` } });
      expect(down.code).toBe(3);
      expect(down.stdout).toMatch(/✗ Graph Builder\s+Reading Graph Builder info failed: could not reach/);
      expect(down.stdout).toContain('fix: Is Record Keeper running there? Check --graph-builder or RK_GRAPH_BUILDER');
      expect(down.stdout).toContain('1 problem to fix.');
      const missing = await run(['doctor'], { env: { RK_QUERY: undefined } });
      expect(missing.code).toBe(1);
      expect(missing.stdout).toMatch(/✗ Query service\s+no URL configured/);
      expect(missing.stdout).toContain('fix: pass --query <url> or set RK_QUERY');
    });
  });

  describe('rk send and rk tag set', () => {
    // The writers' own emitter, so the listings below see only the seeded PEMs.
    const writer = `${emitter}-w`;
    const write = (args: string[], options: RkRun = {}) => run(args, { ...options, env: { RK_EMITTER: writer, ...options.env } });
    let sentId: string;

    it('rk send builds a PEM from flags and sends it', async (test) => {
      test.skip(!writesAcknowledged, NO_WRITE_ACKS);
      const outcome = await write([
        'send', '--type', 'train',
        '--uses', `${writer}/dataset=uri=s3://lake/d.parquet`, '--uses', `${writer}/dataset=rows=10`,
        '--produces', `${writer}/model`,
        '--property', 'epochs=40', '--property', 'note=first try',
        '--tag', `${writer}/candidate`,
      ]);
      expect(outcome.stderr).toBe('');
      expect(outcome.code).toBe(0);
      expect(outcome.stdout).toMatch(new RegExp(`^Sent train PEM ([0-9a-f]{32}): accepted \\(tag ${writer}/candidate\\)\\n$`));
      sentId = PEM_ID.exec(outcome.stdout)![0];
      const stored = JSON.parse((await run(['pem', sentId, '--json'])).stdout);
      expect(stored).toMatchObject({ ID: sentId, Type: 'train', Emitter: writer, Properties: { epochs: 40, note: 'first try' }, Tag: 'candidate', TagNamespace: writer, UsesArtifacts: [`${writer}/dataset`], ProducesArtifacts: [`${writer}/model`] });
      const artifact = JSON.parse((await run(['artifacts', '--name', `${writer}/dataset`, '--json'])).stdout);
      expect(artifact).toEqual([expect.objectContaining({ Name: `${writer}/dataset`, Properties: { uri: 's3://lake/d.parquet', rows: '10' } })]);
    });

    it('rk send reads a PEM from a file and from stdin, with --json', async (test) => {
      test.skip(!writesAcknowledged, NO_WRITE_ACKS);
      const file = join(tmp, 'pem.json');
      await writeFile(file, JSON.stringify({ Type: 'evaluate', Predecessor: sentId, UsesArtifacts: [`${writer}/model`], ProducesArtifacts: [{ Name: `${writer}/report`, Properties: { auc: '0.91' } }] }));
      const fromFile = await write(['send', file, '--json']);
      expect(fromFile.code).toBe(0);
      expect(JSON.parse(fromFile.stdout)).toEqual({ ID: expect.stringMatching(/^[0-9a-f]{32}$/), Type: 'evaluate', status: 'accepted' });
      expect(JSON.parse((await run(['pem', JSON.parse(fromFile.stdout).ID, '--json'])).stdout)).toMatchObject({ Predecessor: sentId, ProducesArtifacts: [`${writer}/report`] });
      const fromStdin = await write(['send', '-'], { input: JSON.stringify([{ Type: 'deploy', UsesArtifacts: [`${writer}/model`], Tag: 'release' }, { Type: 'monitor' }]) });
      expect(fromStdin.code).toBe(0);
      expect(fromStdin.stdout).toMatch(new RegExp(`^Sent deploy PEM [0-9a-f]{32}: accepted \\(tag ${writer}/release\\)\nSent monitor PEM [0-9a-f]{32}: accepted \\(tag ${writer}/latest\\)\n$`));
    });

    it('rk send of a complete PEM twice says duplicate; the same ID with other content is refused (1)', async (test) => {
      test.skip(!writesAcknowledged, NO_WRITE_ACKS);
      const dry = await write(['send', '--type', 'ingest', '--produces', `${writer}/raw`, '--dry-run']);
      expect(dry.code).toBe(0);
      const pem = JSON.parse(dry.stdout);
      expect(pem).toMatchObject({ ID: expect.stringMatching(/^[0-9a-f]{32}$/), Type: 'ingest', Emitter: writer, Version: '2.0.0' });
      const file = join(tmp, 'complete.json');
      await writeFile(file, JSON.stringify(pem));
      expect((await write(['send', file])).stdout).toContain(': accepted');
      // A text acknowledgement (reference replies) cannot say "duplicate": it is accepted again.
      expect((await write(['send', file])).stdout).toContain(mode === 'rich' ? ': duplicate' : ': accepted');
      await writeFile(file, JSON.stringify({ ...pem, Type: 'changed' }));
      const conflict = await write(['send', file]);
      expect(conflict.code).toBe(1);
      expect(conflict.stdout).toBe('');
      expect(conflict.stderr).toMatch(/rk: error: Sending PEM failed: HTTP 409/);
    });

    it('rk send usage errors exit 2 with the usage', async () => {
      const noType = await write(['send']);
      expect(noType.code).toBe(2);
      expect(noType.stderr).toContain('rk send needs --type');
      expect(noType.stderr).toContain('Usage: rk send');
      const badUses = await write(['send', '--type', 't', '--uses', 'name=novalue']);
      expect(badUses.code).toBe(2);
      expect(badUses.stderr).toContain('a property needs key=value');
      const both = await write(['send', 'x.json', '--type', 't']);
      expect(both.code).toBe(2);
      const badJson = await write(['send', '-'], { input: '{not json' });
      expect(badJson.code).toBe(2);
      expect(badJson.stderr).toContain('stdin is not JSON');
      // The library refuses the PEM before sending: invalid_input is a usage error too.
      const badPem = await write(['send', '-'], { input: JSON.stringify({ ID: 'nothex', Type: 'x' }) });
      expect(badPem.code).toBe(2);
      expect(badPem.stderr).toContain('pem.Version');
    });

    it('rk tag set moves a tag; an unknown PEM is 1, a malformed ID or a missing argument 2', async (test) => {
      test.skip(!writesAcknowledged, NO_WRITE_ACKS);
      const set = await write(['tag', 'set', `${writer}/production`, sentId]);
      expect(set.code).toBe(0);
      const when = mode === 'rich' ? ' at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC \\(just now\\)' : '\\n';
      expect(set.stdout).toMatch(new RegExp(`^Tagged ${writer}/production -> ${sentId}${when}`));
      expect((await write(['tag', 'get', 'production'])).stdout).toBe(`${sentId}\n`);
      const unknownPem = await write(['tag', 'set', `${writer}/x`, '0'.repeat(32)]);
      expect(unknownPem.code).toBe(1);
      expect(unknownPem.stderr).toMatch(/Setting tag failed: HTTP 404/);
    });

    it('rk tag set usage errors exit 2', async () => {
      expect((await write(['tag', 'set', `${writer}/x`, 'not-an-id'])).code).toBe(2);
      expect((await write(['tag', 'set', `${writer}/x`])).code).toBe(2);
      expect((await write(['tag', 'set', '/x', '0'.repeat(32)])).code).toBe(2);
    });
  });

  // Reads. Their replies are the same in both modes (server/src/replies.ts: reference replies
  // change the acknowledgements of writes, the wording of refusals and /info's capabilities, which
  // rk does not print), so the listings run on rich replies only; what ends in the server's refusal
  // (a PEM or a tag that is not there) runs in both, as its wording differs.
  describe('rk pems, pem, artifacts, tags, tag get and tag ls', () => {
    let trainId: string;

    // Seeded over plain HTTP, as any emitter would, so these reads run in every reply mode.
    beforeAll(async () => {
      const maker = new RKClient('http://127.0.0.1:9/', emitter);
      const artifact = (name: string, properties?: Record<string, string>) => maker.prepareArtifact(`${emitter}/${name}`, properties);
      const train = maker.preparePem('train', { properties: { epochs: 40, note: 'first try' }, tagName: 'candidate' }).usesArtifact(artifact('dataset', { uri: 's3://lake/d.parquet', rows: '10' })).producesArtifact(artifact('model'));
      const evaluate = maker.preparePem('evaluate', { predecessor: train }).usesArtifact(artifact('model')).producesArtifact(artifact('report', { auc: '0.91' }));
      const deploy = maker.preparePem('deploy', { tagName: 'release' }).usesArtifact(artifact('model'));
      const ingest = maker.preparePem('ingest').producesArtifact(artifact('raw'));
      await maker.close();
      const post = async (path: string, body: string) => {
        const response = await fetch(`${rk.receiverUrl}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
        if (!response.ok) throw new Error(`seeding ${path}: HTTP ${response.status} ${await response.text()}`);
      };
      for (const pem of [train, evaluate, deploy, ingest]) await post('/pem', JSON.stringify(pem));
      const b64 = (text: string) => Buffer.from(text).toString('base64').replace(/\//g, '%2F');
      await post(`/tag/${b64(emitter)}/${b64('production')}/${train.ID}`, b64('production'));
      trainId = train.ID;
    });

    it('a PEM that is not there is 1 with the server\'s status and where to look; so is a tag', async () => {
      const missing = await run(['pem', 'f'.repeat(32)]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('Reading PEM failed: HTTP 404');
      expect(missing.stderr).toContain('"rk pems" lists them');
      const noTag = await run(['tag', 'get', `${emitter}/nothing`]);
      expect(noTag.code).toBe(1);
      expect(noTag.stderr).toContain(`no tag ${emitter}/nothing`);
    });

    if (mode === 'rich') {
      it('rk tag get and tag ls', async () => {
        const get = await run(['tag', 'get', `${emitter}/production`]);
        expect(get).toEqual({ code: 0, stdout: `${trainId}\n`, stderr: '' });
        // A name alone is in the emitter's namespace.
        expect((await run(['tag', 'get', 'production'])).stdout).toBe(`${trainId}\n`);
        expect(JSON.parse((await run(['tag', 'get', 'production', '--json'])).stdout)).toEqual({ namespace: emitter, tag: 'production', pemId: trainId });
        const ls = await run(['tag', 'ls', '--namespace', emitter]);
        expect(ls.code).toBe(0);
        expect(ls.stdout.split('\n')[0]).toMatch(/^TAG\s+PEM\s+UPDATED \(UTC\)$/);
        expect(ls.stdout).toMatch(new RegExp(`${emitter}/production\\s+${trainId}`));
      });

      it('rk pems filters, sorts and pages; --all streams NDJSON', async () => {
        const table = await run(['pems', '--emitter', emitter]);
        expect(table.code).toBe(0);
        const lines = table.stdout.trimEnd().split('\n');
        expect(lines[0]).toMatch(/^ID\s+TYPE\s+EMITTER\s+TAG\s+SENT \(UTC\)\s+USES -> PRODUCES$/);
        expect(lines).toHaveLength(1 + 4 + 1);
        expect(lines.at(-1)).toBe('4 PEMs');
        const trainRow = lines.find((line) => line.startsWith(trainId))!;
        expect(trainRow).toMatch(new RegExp(`train\\s+${emitter}\\s+${emitter}/candidate\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d \\((just now|\\d+ s ago)\\)\\s+${emitter}/dataset -> ${emitter}/model`));

        const filtered = JSON.parse((await run(['pems', '--emitter', emitter, '--type', 'train', '--json'])).stdout);
        expect(filtered.map((p: { ID: string }) => p.ID)).toEqual([trainId]);
        const byPredecessor = JSON.parse((await run(['pems', '--predecessor', trainId, '--json'])).stdout);
        expect(byPredecessor.map((p: { Type: string }) => p.Type)).toEqual(['evaluate']);
        const sorted = JSON.parse((await run(['pems', '--emitter', emitter, '--sort', 'Type', '--desc', '--json'])).stdout);
        expect(sorted.map((p: { Type: string }) => p.Type)).toEqual(['train', 'ingest', 'evaluate', 'deploy']);

        const page = await run(['pems', '--emitter', emitter, '--sort', 'Type', '--limit', '3', '--page', '1']);
        expect(page.stdout).toMatch(/\n[0-9a-f]{32}  train /);
        expect(page.stdout.trimEnd().split('\n').at(-1)).toBe('4-4 of 4 PEMs');
        const first = await run(['pems', '--emitter', emitter, '--limit', '2']);
        expect(first.stdout.trimEnd().split('\n').at(-1)).toBe('1-2 of 4 PEMs; next: --page 1, every page: --all');

        const all = await run(['pems', '--emitter', emitter, '--all', '--page-size', '3', '--json']);
        expect(all.code).toBe(0);
        const records = all.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
        expect(records).toHaveLength(4);
        expect(all.stderr).toBe(''); // no progress when stderr is not a terminal
        const allHuman = await run(['pems', '--emitter', emitter, '--all', '--page-size', '3']);
        expect(allHuman.stdout.trimEnd().split('\n')).toHaveLength(1 + 4 + 1);

        expect((await run(['pems', '--emitter', 'nobody-at-all'])).stdout).toBe('No PEMs match.\n');
      });

      it('rk pems refusals and usage errors', async () => {
        // The client knows the sort fields from the spec: refused before any request, as a usage error.
        const badSort = await run(['pems', '--sort', 'Colour']);
        expect(badSort.code).toBe(2);
        expect(badSort.stderr).toMatch(/Listing PEMs failed: sortField must be "ID" or .* got "Colour"/);
        for (const args of [['pems', '--all', '--limit', '2'], ['pems', '--limit', '0'], ['pems', '--desc'], ['pems', '--bogus'], ['pems', 'extra']]) {
          const outcome = await run(args);
          expect(outcome.code, args.join(' ')).toBe(2);
          expect(outcome.stdout).toBe('');
          expect(outcome.stderr).toContain('Usage: rk pems');
        }
      });

      it('rk pem shows one PEM; a malformed ID is 2', async () => {
        const outcome = await run(['pem', trainId]);
        expect(outcome.code).toBe(0);
        expect(outcome.stdout).toContain(`train PEM ${trainId}`);
        expect(outcome.stdout).toMatch(new RegExp(`uses\\s+${emitter}/dataset`));
        expect(outcome.stdout).toMatch(/sent\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \((just now|\d+ s ago)\)/);
        expect(outcome.stdout).toMatch(/epochs\s+40/);
        expect((await run(['pem', 'xyz'])).code).toBe(2);
      });

      it('rk artifacts from the tables and the graph; rk tags', async () => {
        const table = await run(['artifacts', '--name', `${emitter}/`, '--sort', 'Name']);
        expect(table.code).toBe(0);
        const names = table.stdout.trimEnd().split('\n').slice(1, -1).map((line) => line.split(/\s+/)[0]);
        expect(names).toEqual([`${emitter}/dataset`, `${emitter}/model`, `${emitter}/raw`, `${emitter}/report`]);
        expect(table.stdout).toContain('uri=s3://lake/d.parquet');
        const admin = new RKAdmin(rk.queryUrl, rk.graphBuilderUrl);
        const flushed = await admin.graphFlush({ timeoutMs: 30_000 });
        if (!flushed.ok) {
          // The client at this base may not read the reference mode's text reply; the flush still ran.
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
        const graph = JSON.parse((await run(['artifacts', '--name', `${emitter}/`, '--source', 'graphdb', '--json'])).stdout);
        expect(graph.map((a: { Name: string }) => a.Name).sort()).toEqual(names);
        expect((await run(['artifacts', '--source', 'nowhere'])).code).toBe(2);
        const tags = JSON.parse((await run(['tags', '--pem', trainId, '--json'])).stdout);
        expect(tags.map((t: { NamespaceID: string; Tag: string }) => `${t.NamespaceID}/${t.Tag}`).sort()).toEqual([`${emitter}/candidate`, `${emitter}/production`]);
        expect((await run(['tags', '--namespace', emitter, '--limit', '1'])).stdout).toMatch(/1 of \d+ tags/);
      });
    }
  });

  describe('rk outbox', () => {
    it('ls shows waiting entries and dead letters, replay sends them again, purge deletes', async (test) => {
      test.skip(!writesAcknowledged, NO_WRITE_ACKS);
      const dir = join(tmp, 'outbox');
      // A service whose Receiver refused two PEMs: they are dead letters in its outbox.
      const refusing: typeof fetch = async () => new Response(JSON.stringify({ message: 'Type is not allowed today', code: 'unprocessable' }), { status: 422, headers: { 'Content-Type': 'application/json' } });
      const service = new RKClient(rk.receiverUrl, emitter, { outbox: { dir }, fetch: refusing, logger: { warn() {} } });
      const dead = [service.preparePem('outboxed'), service.preparePem('outboxed')];
      for (const pem of dead) expect((await service.sendPem(pem)).ok).toBe(false);
      await service.close();

      const ls = await run(['outbox', 'ls', '--dir', dir]);
      expect(ls.code).toBe(0);
      expect(ls.stdout).toContain(`Outbox ${dir}: 0 PEMs waiting, 2 dead letters`);
      expect(ls.stdout).toMatch(/FILE\s+REASON\s+STATUS\s+DEAD SINCE \(UTC\)\s+MESSAGE/);
      expect(ls.stdout).toMatch(/rejected\s+422\s+.*Type is not allowed today/);
      const listed = JSON.parse((await run(['outbox', 'ls', '--dir', dir, '--json'])).stdout);
      expect(listed).toMatchObject({ dir, waiting: 0, dead: [{ reason: 'rejected', status: 422 }, { reason: 'rejected', status: 422 }] });
      expect(listed.dead.map((d: { ID: string }) => d.ID).sort()).toEqual(dead.map((p) => p.ID).sort());

      // Replay one by name to the real Receiver: it is delivered.
      const first = listed.dead.find((d: { ID: string }) => d.ID === dead[0]!.ID).file;
      const replay = await run(['outbox', 'replay', '--dir', dir, first]);
      expect(replay.stderr).toBe('');
      expect(replay.code).toBe(0);
      expect(replay.stdout).toContain(`Replayed 1 dead letter from ${dir}.`);
      expect(replay.stdout).toContain('0 waiting, 1 dead letter.');
      expect((await run(['pem', dead[0]!.ID])).code).toBe(0);

      expect((await run(['outbox', 'purge', '--dir', dir])).code).toBe(2);
      const purge = await run(['outbox', 'purge', '--dir', dir, '--yes']);
      expect(purge).toMatchObject({ code: 0, stdout: `Deleted 1 dead letter from ${dir}.\n` });
      expect(await readdir(join(dir, 'dead'))).toEqual([]);
      expect((await run(['pem', dead[1]!.ID])).code).toBe(1);

      const nowhere = await run(['outbox', 'ls', '--dir', join(tmp, 'no-such-outbox')]);
      expect(nowhere.code).toBe(2);
      expect(nowhere.stderr).toContain('no outbox folder at');
      expect((await run(['outbox', 'ls'])).code).toBe(2);
    });
  });

  // No server answers here, so the reply mode has nothing to change: once is enough (declared in
  // one mode, not skipped in the other).
  if (mode === 'rich') {
    describe('unreachable services', () => {
      it('every command exits 3 with what to check when the service is not there', async () => {
        const closed = { RK_RECEIVER: `${CLOSED}/receiver`, RK_QUERY: `${CLOSED}/query`, RK_GRAPH_BUILDER: `${CLOSED}/graph-builder` };
        const commands = [['info'], ['send', '--type', 'x'], ['tag', 'get', 'a/b'], ['tag', 'set', 'a/b', '0'.repeat(32)], ['pems'], ['pem', '0'.repeat(32)], ['artifacts'], ['tags']];
        // At once: each waits out its own retry's backoff, not the others'.
        const outcomes = await Promise.all(commands.map((args) => run(args, { env: closed })));
        for (const [i, args] of commands.entries()) {
          const outcome = outcomes[i]!;
          expect(outcome.code, args.join(' ')).toBe(3);
          expect(outcome.stderr, args.join(' ')).toMatch(/could not reach http:\/\/127\.0\.0\.1:1\//);
          expect(outcome.stderr, args.join(' ')).toContain('Is Record Keeper running there?');
        }
      });
    });
  }
});

describe('rk against a Record Keeper that requires credentials', { timeout: 60_000 }, () => {
  let rk: LocalRK;
  let env: Record<string, string>;
  const token = 'tok-s3cr3t-never-printed';
  const pucToken = 'puc-s3cr3t-never-printed';
  const run = (args: string[], options: RkRun = {}) => rkInProcess(args, { ...options, env: { ...env, ...options.env } });

  beforeAll(async () => {
    rk = await startLocalRK({ memory: true, userTokens: [token], pucTokens: [pucToken], graphIntervalMs: 60_000 });
    env = { RK_RECEIVER: rk.receiverUrl, RK_QUERY: rk.queryUrl, RK_GRAPH_BUILDER: rk.graphBuilderUrl };
  }, 120_000);

  afterAll(async () => {
    await rk?.stop();
  });

  it('without a credential the service says no: exit 1 with its message and how to give one', async () => {
    const outcome = await run(['pems']);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(/Listing PEMs failed: HTTP 401/);
    expect(outcome.stderr).toContain('RK_USER_AUTH');
    const doctor = await run(['doctor']);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/✗ credential\s+none given, and the services need one/);
  });

  it('with the credential from the environment or a flag it works, and the credential is printed nowhere, not even with --verbose', async () => {
    const outcomes = [
      await run(['pems', '--verbose'], { env: { RK_USER_AUTH: token } }),
      await run(['doctor', '--verbose'], { env: { RK_PUC_AUTH: pucToken } }),
      await run(['send', '--type', 'x', '--verbose', '--user-auth', token]),
      await run(['info', '--verbose', '--json'], { env: { RK_USER_AUTH: token } }),
    ];
    for (const outcome of outcomes) {
      expect(outcome.code, outcome.stderr).toBe(0);
      expect(outcome.stdout + outcome.stderr).not.toContain(token);
      expect(outcome.stdout + outcome.stderr).not.toContain(pucToken);
    }
    expect(outcomes[0]!.stderr).toContain('user-auth: set (from RK_USER_AUTH)');
    expect(outcomes[1]!.stdout).toMatch(/✓ credential\s+PUC credential from RK_PUC_AUTH is accepted/);
    const wrong = await run(['pems', '--user-auth', 'not-the-token']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr + wrong.stdout).not.toContain('not-the-token');
  });
});
