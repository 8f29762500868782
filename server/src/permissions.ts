import type { OperationId } from './types.js';

/**
 * Who may do what when credentials are configured: the one table the server enforces (auth.ts
 * reads it) and server/README.md's "Permissions" table states (test/auth.test.ts checks
 * that the two say the same). With no credential configured, everyone may do everything.
 *
 * A PUC credential belongs to machine code (a pipeline): it reads, sends, tags, waits for the
 * graph and checks it, but does not drop the graph or delete data. A user credential is a
 * person's: it may also rebuild the graph. Deleting data (removing artifacts, erasing
 * everything) needs an admin credential, sent in either header.
 */

export type Action = 'read' | 'send' | 'tag' | 'flush' | 'verify' | 'rebuild' | 'remove unconnected' | 'clean';
export type CredentialKind = 'user' | 'puc' | 'admin';

/** What each operation of the three specs does; a new operationId does not compile until listed. */
export const ACTION_OF: Record<OperationId, Action> = {
  getReceiverInfo: 'read',
  sendPem: 'send',
  setTag: 'tag',
  getQueryInfo: 'read',
  getPem: 'read',
  listPems: 'read',
  countPems: 'read',
  listArtifacts: 'read',
  countArtifacts: 'read',
  getTag: 'read',
  listTags: 'read',
  countTags: 'read',
  queryGraph: 'read',
  readLineage: 'read',
  getReport: 'read',
  verifyArtifactConnections: 'verify',
  removeUnconnectedArtifacts: 'remove unconnected',
  cleanDatabases: 'clean',
  getGraphInfo: 'read',
  rebuildGraph: 'rebuild',
  flushGraph: 'flush',
  verifyGraph: 'verify',
};

/** The credentials allowed each action (an admin credential may do everything). */
export const ALLOWED: Record<Action, readonly CredentialKind[]> = {
  read: ['user', 'puc', 'admin'],
  send: ['user', 'puc', 'admin'],
  tag: ['user', 'puc', 'admin'],
  flush: ['user', 'puc', 'admin'],
  verify: ['user', 'puc', 'admin'],
  rebuild: ['user', 'admin'],
  'remove unconnected': ['admin'],
  clean: ['admin'],
};

const NAMES: Record<CredentialKind, string> = { user: 'a user', puc: 'a PUC', admin: 'an admin' };

/** Why `kind` may not do what `operationId` does, or undefined when it may. */
export function refusal(operationId: string, kind: CredentialKind): string | undefined {
  const action = ACTION_OF[operationId as OperationId];
  if (action === undefined) return `Operation ${operationId} is in no permission table, so no credential may call it`;
  const allowed = ALLOWED[action];
  if (allowed.includes(kind)) return undefined;
  // The reference replies' test reads this exact line for /clean.
  if (allowed.length === 1 && allowed[0] === 'admin') return 'This operation needs an admin credential';
  const may = (Object.keys(ALLOWED) as Action[]).filter((a) => ALLOWED[a].includes(kind));
  return `This operation (${action}) needs ${allowed.map((k) => NAMES[k]).join(' or ')} credential; ${NAMES[kind]} credential may ${may.join(', ')}`;
}
