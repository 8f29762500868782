import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, run } from './packed-project.js';

/**
 * The TypeScript reference is built from doc comments: TypeDoc's notDocumented validation (see
 * typedoc.config.mjs) lists every public export of ".", "./testing" and "./wire" without one.
 * Nothing is written (`--emit none`); `npm run docs` builds the pages.
 */
describe('the TypeScript API reference', () => {
  it('has a doc comment on every public export', { timeout: 180_000 }, async () => {
    const outcome = await run(join(ROOT, 'node_modules', '.bin', 'typedoc'), ['--options', 'typedoc.config.mjs', '--emit', 'none', '--treatValidationWarningsAsErrors'], ROOT);
    const undocumented = (outcome.stdout + outcome.stderr).split('\n').filter((line) => line.includes('does not have any documentation'));
    expect(undocumented).toEqual([]);
    expect(outcome.code, outcome.stdout + outcome.stderr).toBe(0);
  });
});
