import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_OF, ALLOWED, type Action, type CredentialKind } from '../src/permissions.js';
import { b64, fileStore, hexId, makePem, startHarness, type Harness } from './helpers/harness.js';

/**
 * Credentials: 401 without one where needed, 403 without the right, /info telling the truth, and
 * the permission table (below). Each suite's server has its own credentials on the file's one
 * store, emptied for it.
 */
const store = fileStore();

describe('auth', { timeout: 60_000 }, () => {
  let h: Harness;
  const user = { 'X-RK-User-Auth': 'user-secret' };
  const puc = { 'X-RK-PUC-Auth': 'puc-secret' };
  const admin = { 'X-RK-PUC-Auth': 'admin-secret' };

  beforeAll(async () => {
    h = await startHarness({ storage: await store(), userTokens: ['user-secret'], pucTokens: ['puc-secret'], adminTokens: ['admin-secret'] });
  }, 120_000);
  afterAll(async () => h?.stop());
  afterEach(() => expect(h.validator.violations()).toEqual([]));

  it('reports that calls need a credential and PEMs do not', async () => {
    const info = await h.call('receiver', 'GET', '/info');
    expect(info.json).toMatchObject({ auth_required: true, pem_auth_required: false });
    expect((await h.call('query', 'GET', '/info', { headers: user })).json).toMatchObject({ auth_required: true });
  });

  it('lets a PEM through without a credential but not a tag', async () => {
    const pem = makePem();
    expect((await h.call('receiver', 'POST', '/pem', { body: pem })).status).toBe(200);
    const path = `/tag/${b64('ns')}/${b64('t')}/${pem.ID}`;
    const refused = await h.call('receiver', 'POST', path);
    expect(refused.status).toBe(401);
    expect(refused.json).toEqual({ code: 'unauthorized', message: 'A credential is required: send X-RK-User-Auth or X-RK-PUC-Auth' });
    expect((await h.call('receiver', 'POST', path, { headers: puc })).status).toBe(200);
  });

  it('answers 401 without a credential or with an unknown one on every Query and Graph Builder call', async () => {
    for (const [service, method, path, body] of [
      ['query', 'GET', '/info', undefined],
      ['query', 'GET', '/pems', undefined],
      ['query', 'POST', '/query', { query: 'MATCH (a:Artifact) RETURN count(a)', type: 'r' }],
      ['graph-builder', 'GET', '/info', undefined],
      ['graph-builder', 'POST', '/flush', {}],
    ] as const) {
      expect((await h.call(service, method, path, { body })).status, path).toBe(401);
      const unknown = await h.call(service, method, path, { body, headers: { 'X-RK-User-Auth': 'guess' } });
      expect(unknown.status).toBe(401);
      expect(unknown.json.message).toContain('X-RK-User-Auth');
      expect((await h.call(service, method, path, { body, headers: user })).status, path).toBeLessThan(300);
    }
  });

  it('prefers the user credential when both are sent, like the clients', async () => {
    expect((await h.call('query', 'GET', '/info', { headers: { 'X-RK-User-Auth': 'wrong', ...puc } })).status).toBe(401);
    expect((await h.call('query', 'GET', '/info', { headers: { ...user, 'X-RK-PUC-Auth': 'wrong' } })).status).toBe(200);
  });

  it('lets only an admin credential erase everything: 403 for others, nothing erased', async () => {
    await h.call('receiver', 'POST', '/pem', { body: makePem() });
    const before = await h.call('query', 'GET', '/pems_count', { headers: user });
    for (const headers of [user, puc]) {
      const refused = await h.call('query', 'POST', '/clean', { body: {}, headers });
      expect(refused.status).toBe(403);
      expect(refused.json.code).toBe('forbidden');
    }
    expect((await h.call('query', 'POST', '/clean', { body: {} })).status).toBe(401);
    expect((await h.call('query', 'GET', '/pems_count', { headers: user })).json).toEqual(before.json);
    expect((await h.call('query', 'POST', '/clean', { body: {}, headers: admin })).status).toBe(200);
    expect((await h.call('query', 'GET', '/pems_count', { headers: admin })).json).toEqual({ pems_count: 0 });
  });
});

describe('auth with --pem-auth', { timeout: 60_000 }, () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ storage: await store(), pucTokens: ['machine'], pemAuth: true });
  }, 120_000);
  afterAll(async () => h?.stop());
  afterEach(() => expect(h.validator.violations()).toEqual([]));

  it('needs a credential to send a PEM and says so in /info', async () => {
    expect((await h.call('receiver', 'GET', '/info')).json).toMatchObject({ auth_required: true, pem_auth_required: true });
    const pem = makePem();
    expect((await h.call('receiver', 'POST', '/pem', { body: pem })).status).toBe(401);
    expect((await h.call('query', 'GET', '/pems_count', { headers: { 'X-RK-PUC-Auth': 'machine' } })).json).toEqual({ pems_count: 0 });
    expect((await h.call('receiver', 'POST', '/pem', { body: pem, headers: { 'X-RK-PUC-Auth': 'machine' } })).status).toBe(200);
  });
});

describe('no credentials configured', { timeout: 60_000 }, () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ storage: await store() });
  }, 120_000);
  afterAll(async () => h?.stop());

  it('needs none, ignores any sent, and allows /clean', async () => {
    expect(h.rk.replies).toBe('rich'); // the default reply mode
    expect((await h.call('receiver', 'GET', '/info')).json).toMatchObject({ auth_required: false, pem_auth_required: false });
    expect((await h.call('query', 'GET', '/info', { headers: { 'X-RK-User-Auth': 'anything' } })).json).toMatchObject({ auth_required: false });
    expect((await h.call('query', 'POST', '/clean', { body: {} })).status).toBe(200);
    expect(h.validator.violations()).toEqual([]);
  });

  it('refuses --pem-auth without a credential to check', async () => {
    const { startLocalRK } = await import('../src/index.js');
    await expect(startLocalRK({ memory: true, pemAuth: true })).rejects.toThrow(/--pem-auth needs at least one credential/);
  });
});

describe('auth with reference replies', { timeout: 60_000 }, () => {
  let h: Harness;
  const textType = 'text/plain; charset=utf-8';
  beforeAll(async () => {
    h = await startHarness({ storage: await store(), userTokens: ['user-secret'], adminTokens: ['admin-secret'], replies: 'reference' });
  }, 120_000);
  afterAll(async () => h?.stop());
  afterEach(() => expect(h.validator.violations()).toEqual([]));

  it('answers 401 and 403 as one line of text', async () => {
    const missing = await h.call('query', 'GET', '/pems');
    expect({ status: missing.status, type: missing.headers.get('content-type'), text: missing.text }).toEqual({
      status: 401,
      type: textType,
      text: 'A credential is required: send X-RK-User-Auth or X-RK-PUC-Auth',
    });
    const forbidden = await h.call('query', 'POST', '/clean', { body: {}, headers: { 'X-RK-User-Auth': 'user-secret' } });
    expect({ status: forbidden.status, type: forbidden.headers.get('content-type'), text: forbidden.text }).toEqual({
      status: 403,
      type: textType,
      text: 'This operation needs an admin credential',
    });
    const cleaned = await h.call('query', 'POST', '/clean', { body: {}, headers: { 'X-RK-User-Auth': 'admin-secret' } });
    expect({ status: cleaned.status, text: cleaned.text }).toEqual({ status: 200, text: 'OK' });
  });
});

describe('a credential that is sent is checked wherever it is sent', { timeout: 60_000 }, () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ storage: await store(), pucTokens: ['machine'] });
  }, 120_000);
  afterAll(async () => h?.stop());
  afterEach(() => expect(h.validator.violations()).toEqual([]));

  it('refuses an unknown one even where none is needed, so a mistyped token shows at once', async () => {
    expect((await h.call('receiver', 'GET', '/info')).json).toMatchObject({ auth_required: true, pem_auth_required: false });
    const info = await h.call('receiver', 'GET', '/info', { headers: { 'X-RK-PUC-Auth': 'typo' } });
    expect({ status: info.status, message: info.json.message }).toEqual({ status: 401, message: 'The credential in X-RK-PUC-Auth is not known to this Record Keeper' });
    const pem = makePem();
    expect((await h.call('receiver', 'POST', '/pem', { body: pem, headers: { 'X-RK-PUC-Auth': 'typo' } })).status).toBe(401);
    expect((await h.call('receiver', 'POST', '/pem', { body: pem })).status).toBe(200);
  });
});

/**
 * Issue 19: which credential may do what is one table in server/README.md and one in code
 * (src/permissions.ts), and the server follows it: a PUC (machine) credential can no longer
 * rebuild the graph or remove artifacts.
 */

const readme = readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'README.md'), 'utf8');

/** The README's Permissions table: action -> the credentials with "yes". */
function readmeTable(): Record<string, CredentialKind[]> {
  const lines = readme.slice(readme.indexOf('### Permissions')).split('\n');
  const start = lines.findIndex((line) => line.startsWith('| '));
  const end = lines.findIndex((line, i) => i > start && !line.startsWith('|'));
  const rows = lines.slice(start, end).filter((line) => !line.startsWith('| ---'));
  const [header, ...body] = rows.map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
  expect(header).toEqual(['action', 'operations', 'user', 'PUC', 'admin', 'no credential']);
  const kinds: CredentialKind[] = ['user', 'puc', 'admin'];
  return Object.fromEntries(body.map((cells) => [cells[0]!, kinds.filter((_, i) => cells[2 + i] === 'yes')]));
}

describe('the permission table', () => {
  it('is the same in server/README.md and in the code, action by action', () => {
    expect(readmeTable()).toEqual(Object.fromEntries(Object.entries(ALLOWED).map(([action, kinds]) => [action, [...kinds]])));
  });

  it('keeps a PUC credential from rebuilding the graph, removing artifacts and erasing everything', () => {
    expect(ACTION_OF.rebuildGraph).toBe('rebuild');
    expect(ACTION_OF.removeUnconnectedArtifacts).toBe('remove unconnected');
    for (const action of ['rebuild', 'remove unconnected', 'clean'] as const) expect(ALLOWED[action]).not.toContain('puc');
    expect(ALLOWED['remove unconnected']).toEqual(['admin']);
  });
});

describe('the server follows the permission table', { timeout: 120_000 }, () => {
  let h: Harness;
  const headers: Record<CredentialKind, Record<string, string>> = {
    user: { 'X-RK-User-Auth': 'person' },
    puc: { 'X-RK-PUC-Auth': 'pipeline' },
    admin: { 'X-RK-PUC-Auth': 'root' },
  };

  beforeAll(async () => {
    h = await startHarness({ storage: await store(), userTokens: ['person'], pucTokens: ['pipeline'], adminTokens: ['root'] });
  }, 120_000);
  afterAll(async () => h?.stop());
  afterEach(() => expect(h.validator.violations()).toEqual([]));

  it('answers each action with 403 exactly for the credentials the table leaves out', async () => {
    const pem = makePem();
    expect((await h.call('receiver', 'POST', '/pem', { body: pem, headers: headers.puc })).status).toBe(200);
    // One call per action; `clean` comes last in the table, and the admin's clean is left to the end.
    const as = (kind: CredentialKind): Record<Action, () => Promise<{ status: number; json: any }>> => ({
      read: () => h.call('query', 'GET', `/pem/${pem.ID}`, { headers: headers[kind] }),
      send: () => h.call('receiver', 'POST', '/pem', { body: makePem(), headers: headers[kind] }),
      tag: () => h.call('receiver', 'POST', `/tag/${b64('ns')}/${b64(kind)}/${pem.ID}`, { headers: headers[kind] }),
      flush: () => h.call('graph-builder', 'POST', '/flush', { body: {}, headers: headers[kind] }),
      verify: () => h.call('graph-builder', 'POST', '/verify', { body: { check_pems: true, check_artifacts: true }, headers: headers[kind] }),
      rebuild: () => h.call('graph-builder', 'POST', '/rebuild', { body: {}, headers: headers[kind] }),
      // An unknown report: 404 past the permission check, 403 before it.
      'remove unconnected': () => h.call('query', 'POST', `/remove_unconnected_artifacts/${hexId()}`, { body: {}, headers: headers[kind] }),
      clean: () => h.call('query', 'POST', '/clean', { body: {}, headers: headers[kind] }),
    });
    const seen: string[] = [];
    for (const action of Object.keys(ALLOWED) as Action[]) {
      for (const kind of ['puc', 'user', 'admin'] as const) {
        if (action === 'clean' && kind === 'admin') continue;
        const answer = await as(kind)[action]();
        const allowed = ALLOWED[action].includes(kind);
        seen.push(`${action}/${kind}: ${answer.status === 403 ? 'refused' : 'allowed'}`);
        if (allowed) expect(answer.status, `${action} as ${kind}`).not.toBe(403);
        else {
          expect(answer.status, `${action} as ${kind}`).toBe(403);
          expect(answer.json.code).toBe('forbidden');
        }
      }
    }
    expect(seen).toContain('rebuild/puc: refused');
    expect(seen).toContain('remove unconnected/user: refused');
    expect(seen).toContain('rebuild/user: allowed');
    const refusal = await as('puc').rebuild();
    expect(refusal.json.message).toBe(
      'This operation (rebuild) needs a user or an admin credential; a PUC credential may read, send, tag, flush, verify',
    );
    // Nothing the refused calls asked for happened: the PEM and its tags are still there.
    expect((await h.call('query', 'GET', `/pem/${pem.ID}`, { headers: headers.user })).status).toBe(200);
    expect((await as('admin').clean()).status).toBe(200);
    expect((await h.call('query', 'GET', '/pems_count', { headers: headers.puc })).json).toEqual({ pems_count: 0 });
  });
});
