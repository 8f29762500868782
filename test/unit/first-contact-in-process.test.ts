import { describe, expect, it } from 'vitest';
import { RKQuery, asFailure } from '../../src/index.js';
import { MockRKClient, MockRKQuery } from '../../src/testing/index.js';

/**
 * The messages the README's error table promises that need no process, and the test kit's failure
 * injection, in-process (the shared module graph: no server, no process, no timer left behind).
 * The messages a process prints as it exits are test/readme/first-contact.test.ts's.
 */
describe('first-contact messages', () => {
  it('a whole list too slow for timeoutMs is sent once, not five times, and the hint says to page', async () => {
    const requests: string[] = [];
    const never: typeof fetch = (input, init) =>
      new Promise((_, reject) => {
        requests.push(input instanceof Request ? input.url : String(input));
        const signal = (input instanceof Request ? input.signal : init?.signal) ?? undefined;
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    const query = new RKQuery('http://127.0.0.1:8082/query', { fetch: never, timeoutMs: 50, retry: { baseDelayMs: 1, maxDelayMs: 1 } });
    const listed = await query.getPems();
    expect(listed.ok).toBe(false);
    if (listed.ok) return;
    const error = asFailure(listed.error);
    expect(error.kind).toBe('timeout');
    expect(requests).toHaveLength(1);
    expect(error.message).toMatch(
      /so it was not sent again: fetch it in pages \(\{ pageSize: 1000, pageIndex: 0, 1, \.\.\. \}, or iterate pems\(\), artifacts\(\) or tags\(\)\), or raise timeoutMs$/,
    );

    // A page may be slow for a moment: it is tried again, and the hint asks for smaller pages.
    requests.length = 0;
    const page = await query.getPems({ pageSize: 500 });
    expect(requests.length).toBeGreaterThan(1);
    expect(!page.ok && page.error.message).toMatch(/a page this slow is usually too large: ask for a smaller pageSize, or raise timeoutMs$/);

    // A single read keeps the plain hint, and is retried like any read.
    requests.length = 0;
    const one = await query.getPem('0'.repeat(32));
    expect(!one.ok && one.error.message).toMatch(/raise timeoutMs if the service is slow$/);
    expect(requests.length).toBeGreaterThan(1);
  });
});

describe('the test kit', () => {
  it('reads back through MockRKQuery what MockRKClient sent, with tags and counts', async () => {
    const rk = new MockRKClient('kit');
    const query = new MockRKQuery(rk);
    const pem = rk.preparePem('train', { properties: { epochs: 3 } }).usesArtifact(rk.prepareArtifact('data')).producesArtifact(rk.prepareArtifact('model'));
    expect((await rk.sendPem(pem)).ok).toBe(true);
    expect((await rk.setTag('kit', 'production', pem)).ok).toBe(true);
    const back = await query.getPem(pem.ID);
    expect(back.ok && back.value).toMatchObject({ ID: pem.ID, Type: 'train', UsesArtifacts: ['data'], ProducesArtifacts: ['model'], Properties: { epochs: 3 } });
    expect(await query.getTag('kit', 'production')).toEqual({ ok: true, value: pem.ID });
    expect(await query.getTag('kit', 'missing')).toEqual({ ok: true, value: null });
    expect(await query.getPemsCount({ Type: 'train' })).toEqual({ ok: true, value: 1 });
    const artifacts = await query.getArtifacts({ source: 'sqldb' });
    expect(artifacts.ok && artifacts.value.map((a) => a.Name).sort()).toEqual(['data', 'model']);
  });

  it('injects a status, a rejected PEM and a timeout, in order', async () => {
    const rk = new MockRKClient('kit', { retry: false, timeoutMs: 50 });
    rk.inject({ status: 503 }).inject({ rejectPem: 'Type is not allowed here', only: 'sendPem' }).inject({ timeout: true });
    const first = await rk.sendPem(rk.preparePem('a'));
    expect(!first.ok && [first.error.kind, (first.error as { status?: number }).status]).toEqual(['http', 503]);
    const second = await rk.sendPem(rk.preparePem('b'));
    expect(!second.ok && second.error.kind).toBe('rejected');
    expect(!second.ok && second.error.message).toContain('Type is not allowed here');
    const third = await rk.sendPem(rk.preparePem('c'));
    expect(!third.ok && third.error.kind).toBe('timeout');
    expect((await rk.sendPem(rk.preparePem('d'))).ok).toBe(true);
    expect(rk.sentPems.map((p) => p.Type)).toEqual(['d']);
  });

  it('retries an injected 503 as the real client does', async () => {
    const rk = new MockRKClient('kit', { retry: { baseDelayMs: 1, maxDelayMs: 1 } });
    rk.inject({ status: 503, times: 2 });
    const sent = await rk.sendPem(rk.preparePem('a'));
    expect(sent.ok).toBe(true);
    expect(rk.stats().retries).toBe(2);
  });
});
