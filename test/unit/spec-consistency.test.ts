import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PUC_AUTH_HEADER, DEFAULT_USER_AUTH_HEADER } from '../../src/core/options.js';
import { ATTEMPT_HEADER, IDEMPOTENCY_HEADER } from '../../src/core/transport.js';
import { VERSION } from '../../src/core/version.js';

const root = new URL('../../', import.meta.url);

/** The few facts src/ must state itself because openapi-typescript does not emit them. */
describe('facts the facade shares with the specs and the package', () => {
  const common = readFileSync(new URL('openapi/common.yaml', root), 'utf8');

  it.each([
    ['userAuth', DEFAULT_USER_AUTH_HEADER],
    ['pucAuth', DEFAULT_PUC_AUTH_HEADER],
  ])('the default %s header is the one the security scheme declares', (scheme, header) => {
    const block = common.match(new RegExp(`\\n    ${scheme}:\\n((?:      .*\\n)+)`));
    expect(block?.[1]).toMatch(new RegExp(`\\n?      name: ${header}\\n`));
  });

  it.each([
    ['IdempotencyKey', IDEMPOTENCY_HEADER],
    ['Attempt', ATTEMPT_HEADER],
  ])('the %s header the transport sends is the one the spec declares', (parameter, header) => {
    const block = common.match(new RegExp(`\\n    ${parameter}:\\n((?:      .*\\n)+)`));
    expect(block?.[1]).toMatch(new RegExp(`^      name: ${header}\\n`));
  });

  it('VERSION is the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });
});
