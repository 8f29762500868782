import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_OF, ALLOWED, type Action, type CredentialKind } from '../src/permissions.js';
import { b64, hexId, makePem, startHarness, type Harness } from './helpers/harness.js';

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
    h = await startHarness({ userTokens: ['person'], pucTokens: ['pipeline'], adminTokens: ['root'] });
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
