import { UsageError } from './exit.js';

/** `ns/name` (or `name`, in the default namespace) as a tag's namespace and name. */
export function parseTagRef(text: string, defaultNamespace: string): { namespace: string; name: string } {
  const slash = text.indexOf('/');
  if (slash === -1) {
    if (!text.trim()) throw new UsageError('the tag is empty', 'write it as namespace/name, for example churn-pipeline/production');
    return { namespace: defaultNamespace, name: text };
  }
  const namespace = text.slice(0, slash);
  const name = text.slice(slash + 1);
  if (!namespace || !name) throw new UsageError(`${JSON.stringify(text)} is not a tag`, 'write it as namespace/name, for example churn-pipeline/production');
  return { namespace, name };
}

const HEX_ID = /^[0-9a-f]{32}$/;

/** A PEM ID: 32 hex digits; dashes and capitals (a pasted UUID) are accepted and normalised. */
export function parsePemId(text: string, what = 'PEM ID'): string {
  const id = text.replace(/-/g, '').toLowerCase();
  if (!HEX_ID.test(id)) throw new UsageError(`${JSON.stringify(text)} is not a ${what}`, 'a PEM ID is 32 hex digits; "rk pems" lists them');
  return id;
}

export function isPemId(text: string): boolean {
  return HEX_ID.test(text.replace(/-/g, '').toLowerCase());
}
