import { describe, expect, it } from 'vitest';

/**
 * The layer in front of Prism (scripts/mock-layer.mjs) adapts exactly the two requests Prism
 * cannot serve as sent, from what the specs say, and passes everything else on untouched.
 */
interface Adaptation {
  method: string;
  pattern: RegExp;
  quotesText: boolean;
  examples: Record<string, string>;
}
const { adaptationsOf, adapt } = (await import(new URL('../../scripts/mock-layer.mjs', import.meta.url).href)) as {
  adaptationsOf(spec: string): Promise<Adaptation[]>;
  adapt(adaptation: Adaptation | undefined, contentType: string, body: Buffer): { body: Buffer; prefer?: string };
};

describe('the mock layer', { timeout: 30_000 }, () => {
  it("passes setTag's raw base64 body under a JSON label on as a JSON string, and JSON as it is", async () => {
    const adaptations = await adaptationsOf('openapi/receiver.yaml');
    expect(adaptations.map((a) => a.method)).toEqual(['POST']);
    const setTag = adaptations[0]!;
    expect(setTag.pattern.test('/tag/bXk=/cHJvZA==/0192f3a4b5c67d8e9f0a1b2c3d4e5f60')).toBe(true);
    expect(adapt(setTag, 'application/json', Buffer.from('cHJvZHVjdGlvbg==')).body.toString()).toBe('"cHJvZHVjdGlvbg=="');
    expect(adapt(setTag, 'application/json', Buffer.from('"cHJvZHVjdGlvbg=="')).body.toString()).toBe('"cHJvZHVjdGlvbg=="');
    expect(adapt(setTag, 'text/plain', Buffer.from('cHJvZHVjdGlvbg==')).body.toString()).toBe('cHJvZHVjdGlvbg==');
  });

  it("answers /query with the example whose x-rk-statement is the statement sent, and Prism's default otherwise", async () => {
    const [queryGraph, ...others] = await adaptationsOf('openapi/query.yaml');
    expect(others).toEqual([]);
    const body = (query: string) => Buffer.from(JSON.stringify({ query, type: 'r' }));
    const list = 'MATCH (a:Artifact) RETURN a.rk_id AS rk_id, a.properties as properties, a.created_at as created_at';
    expect(adapt(queryGraph, 'application/json', body(list)).prefer).toBe('example=artifacts');
    expect(adapt(queryGraph, 'application/json', body('MATCH (a:Artifact)  RETURN count(a);')).prefer).toBe('example=count');
    expect(adapt(queryGraph, 'application/json', body("CALL rk.lineage.upstream('PEM', 'x')")).prefer).toBeUndefined();
  });
});
