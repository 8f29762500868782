import { describe, expect, it } from 'vitest';
import { LineageIndex, RKClient, RKInvalidInputError, RKLineage, type Logger } from '../../src/index.js';
import { json, receiverInfo, recordingFetch } from '../helpers/recording-fetch.js';

/** sendPem(pem, { lint }): opt-in checks against what is known, before anything is sent. */
describe('sendPem with lint', () => {
  const warnings: string[] = [];
  const logger: Logger = { warn: (message) => warnings.push(message) };

  function client() {
    const { fetch, requests } = recordingFetch((request) => (request.url.endsWith('/info') ? json(receiverInfo) : json({ status: 'accepted' })));
    return { rk: new RKClient('http://rk.test:8082/receiver', 'trainer', { fetch, logger }), pemRequests: () => requests.filter((r) => r.url.endsWith('/pem')) };
  }

  it('an error finding refuses the PEM with RKInvalidInputError naming it, sends nothing and counts it', async () => {
    const { rk, pemRequests } = client();
    const lineage = new RKLineage({ getPems: async () => ({ ok: true, value: [] }) });
    const pem = rk.preparePem('train', { properties: { blob: 'x'.repeat(500) } });
    const result = await rk.sendPem(pem, { lint: lineage.linter({ sizeLimit: 200 }) });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(RKInvalidInputError);
    expect(result.error.message).toMatch(/^Sending PEM failed: pem failed lint: oversize: /);
    expect(pemRequests()).toHaveLength(0);
    expect(rk.stats().dropped.invalid).toBe(1);
  });

  it('warnings are logged and the PEM is sent', async () => {
    const { rk, pemRequests } = client();
    warnings.length = 0;
    const result = await rk.sendPem(rk.preparePem('ingest'), { lint: () => [{ code: 'unproduced-use', severity: 'warning', message: 'nobody made it' }] });
    expect(result.ok).toBe(true);
    expect(pemRequests()).toHaveLength(1);
    expect(warnings.some((w) => w.startsWith('lint unproduced-use for PEM ') && w.endsWith(': nobody made it'))).toBe(true);
  });

  it('a lint that is not a function, or that throws, refuses the PEM without sending it', async () => {
    const { rk, pemRequests } = client();
    const bad = await rk.sendPem(rk.preparePem('ingest'), { lint: 'yes' as never });
    expect(!bad.ok && bad.error.message).toMatch(/lint must be a function of the PEM/);
    const throwing = await rk.sendPem(rk.preparePem('ingest'), {
      lint: () => {
        throw new Error('index not loaded');
      },
    });
    expect(!throwing.ok && throwing.error.message).toMatch(/lint threw \(index not loaded\); the PEM was not sent/);
    expect(pemRequests()).toHaveLength(0);
  });

  it('a clean PEM against a loaded index is sent', async () => {
    const { rk, pemRequests } = client();
    const index = new LineageIndex();
    expect(index).toBeInstanceOf(LineageIndex);
    const result = await rk.sendPem(rk.preparePem('ingest'), { lint: new RKLineage({ getPems: async () => ({ ok: true, value: [] }) }).linter() });
    expect(result.ok).toBe(true);
    expect(pemRequests()).toHaveLength(1);
  });
});
