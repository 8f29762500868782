import { RKInvalidInputError } from '../index.js';

/**
 * A name pattern, as used by stop filters and role settings: a RegExp is tested as is; a string
 * matches the whole value, where `*` stands for any run of characters (`model/*`, `*-train`).
 */
export type NamePattern = string | RegExp;

export type Matcher = (value: string) => boolean;

const NEVER: Matcher = () => false;

/** One matcher for a pattern or a list of them; an empty or missing list matches nothing. */
export function matcher(operation: string, argument: string, patterns: NamePattern | readonly NamePattern[] | undefined): Matcher {
  if (patterns === undefined) return NEVER;
  const list = Array.isArray(patterns) ? patterns : [patterns as NamePattern];
  const tests = list.map((pattern, i) => {
    if (pattern instanceof RegExp) {
      // A global or sticky RegExp keeps state between tests; a copy without those flags does not.
      const plain = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
      return (value: string) => plain.test(value);
    }
    if (typeof pattern !== 'string') {
      throw new RKInvalidInputError(operation, `${argument}${Array.isArray(patterns) ? `[${i}]` : ''}`, `must be a string (with * as a wildcard) or a RegExp, got ${JSON.stringify(pattern)}`);
    }
    if (!pattern.includes('*')) return (value: string) => value === pattern;
    const glob = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`, 's');
    return (value: string) => glob.test(value);
  });
  if (!tests.length) return NEVER;
  return (value) => tests.some((test) => test(value));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
