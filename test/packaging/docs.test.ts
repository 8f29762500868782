import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without declarations
import { API_OUT, apiReferenceIsCurrent, buildApiReference } from '../../scripts/docs-api.mjs';

/**
 * The TypeScript reference is built from doc comments: TypeDoc's notDocumented validation (see
 * typedoc.config.mjs) lists every public export of ".", "./testing" and "./wire" without one.
 * The pages are written where `npm run docs` puts them (docs/api), which then reuses them rather
 * than running TypeDoc again. TypeDoc's own type check of src/ is skipped: `npm test`'s build has
 * just type-checked the same program (tsconfig.build.json), and `npm run typecheck` does too.
 */
describe('the TypeScript API reference', () => {
  it('has a doc comment on every public export', { timeout: 180_000 }, async () => {
    const outcome = (await buildApiReference({ checkTypes: false })) as { code: number; output: string };
    const undocumented = outcome.output.split('\n').filter((line) => line.includes('does not have any documentation'));
    expect(undocumented).toEqual([]);
    expect(outcome.code, outcome.output).toBe(0);
    expect(existsSync(join(API_OUT as string, 'index.html'))).toBe(true);
    expect(apiReferenceIsCurrent()).toBe(true);
  });
});
