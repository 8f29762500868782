import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { SpecOperation, Specs } from './spec.js';
import { ACTION_OF, refusal } from './permissions.js';
import type { Principal } from './types.js';

/**
 * Credentials: user tokens (personal, for tests), PUC tokens (machine credentials) and admin
 * tokens (sent in either header). What each may do is the table of permissions.ts. With none
 * configured nothing needs a credential and everything is allowed. The header names are the spec's security schemes.
 */

export interface AuthOptions {
  userTokens?: readonly string[];
  pucTokens?: readonly string[];
  adminTokens?: readonly string[];
  /** Sending a PEM needs a credential too. */
  pemAuth?: boolean;
}

export type AuthOutcome =
  | { ok: true; principal: Principal }
  | { ok: false; status: 401 | 403; code: 'unauthorized' | 'forbidden'; message: string };

const PEM_OPERATION = 'sendPem';

export class Auth {
  readonly required: boolean;
  readonly pemRequired: boolean;
  readonly userHeader: string;
  readonly pucHeader: string;
  readonly #user: TokenSet;
  readonly #puc: TokenSet;
  readonly #admin: TokenSet;

  constructor(specs: Specs, options: AuthOptions) {
    const schemes = specs.receiver.securitySchemes;
    const userHeader = schemes.userAuth?.name;
    const pucHeader = schemes.pucAuth?.name;
    if (!userHeader || !pucHeader) throw new Error('recordkeeper-local: the receiver spec defines no userAuth/pucAuth header schemes');
    this.userHeader = userHeader;
    this.pucHeader = pucHeader;
    this.#user = tokenSet(options.userTokens);
    this.#puc = tokenSet(options.pucTokens);
    this.#admin = tokenSet(options.adminTokens);
    this.required = this.#user.size + this.#puc.size + this.#admin.size > 0;
    if (options.pemAuth && !this.required) {
      throw new Error('--pem-auth needs at least one credential (--user-token, --puc-token or --admin-token)');
    }
    this.pemRequired = this.required && options.pemAuth === true;
  }

  check(operation: SpecOperation, headers: IncomingHttpHeaders): AuthOutcome {
    if (!this.required) return { ok: true, principal: { kind: 'anonymous', admin: true } };
    const user = headerValue(headers, this.userHeader);
    const puc = headerValue(headers, this.pucHeader);
    let principal: Principal = { kind: 'anonymous', admin: false };
    // When both are sent the user credential counts, as the clients send only that one.
    if (user !== undefined) {
      // Both sets are always compared, each in time independent of where a token differs.
      const [known, admin] = [this.#user.has(user), this.#admin.has(user)];
      if (!known && !admin) return unknown(this.userHeader);
      principal = { kind: 'user', admin };
    } else if (puc !== undefined) {
      const [known, admin] = [this.#puc.has(puc), this.#admin.has(puc)];
      if (!known && !admin) return unknown(this.pucHeader);
      principal = { kind: 'puc', admin };
    }
    const optional = operation.security.some((alternative) => Object.keys(alternative).length === 0);
    // The spec lets a PEM be sent without a credential; --pem-auth takes that away.
    const needsCredential = operation.operationId === PEM_OPERATION ? this.pemRequired || !optional : !optional;
    if (principal.kind === 'anonymous' && needsCredential) {
      return {
        ok: false,
        status: 401,
        code: 'unauthorized',
        message: `A credential is required: send ${this.userHeader} or ${this.pucHeader}`,
      };
    }
    // What a credential may do is permissions.ts's table; no credential gets here only where the
    // spec lets anyone call (the Receiver's /info, a PEM without --pem-auth).
    if (principal.kind !== 'anonymous') {
      const why = refusal(operation.operationId, principal.admin ? 'admin' : principal.kind);
      if (why !== undefined) return { ok: false, status: 403, code: 'forbidden', message: why };
    }
    return { ok: true, principal };
  }
}

function unknown(header: string): AuthOutcome {
  return { ok: false, status: 401, code: 'unauthorized', message: `The credential in ${header} is not known to this Record Keeper` };
}

/**
 * Tokens compared in constant time: each is kept as its SHA-256, a candidate is hashed once and
 * compared with every token with timingSafeEqual (no early exit), so neither a token's content nor
 * its length shows in the answer's timing.
 */
class TokenSet {
  readonly #digests: Buffer[];
  constructor(tokens: readonly string[]) {
    this.#digests = [...new Set(tokens)].map(digest);
  }
  get size(): number {
    return this.#digests.length;
  }
  has(candidate: string): boolean {
    const wanted = digest(candidate);
    let found = false;
    for (const known of this.#digests) found = timingSafeEqual(known, wanted) || found;
    return found;
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function tokenSet(tokens: readonly string[] | undefined): TokenSet {
  return new TokenSet((tokens ?? []).map((t) => t.trim()).filter((t) => t !== ''));
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text === '' ? undefined : text;
}

/**
 * Specs whose operations are exactly those of the permission table, so an operation added to or
 * renamed in a spec is caught at startup, not answered with a guess.
 */
export function assertAuthOperations(specs: Specs): void {
  const ids = new Set(Object.values(specs).flatMap((s) => s.operations.map((o) => o.operationId)));
  for (const id of [...Object.keys(ACTION_OF), PEM_OPERATION]) {
    if (!ids.has(id)) throw new Error(`recordkeeper-local: the specs have no operation ${id}`);
  }
  for (const id of ids) {
    if (!(id in ACTION_OF)) throw new Error(`recordkeeper-local: operation ${id} is in no permission table (server/src/permissions.ts)`);
  }
}
