import { describe, expect, it } from 'vitest';
import { graphBuilder, query, receiver } from '../../src/generated/facts.js';

/**
 * The Redoc pages show, for every operation of the specs, the facade call that makes it as a
 * TypeScript sample: scripts/docs-samples.mjs adds them to the bundled specs from
 * src/facade-operations.ts at docs-build time. Counted here against the operations in the specs.
 */
interface CodeSample {
  lang: string;
  label: string;
  source: string;
}
type Documents = { api: { name: string }; document: { paths: Record<string, Record<string, { operationId?: string; 'x-codeSamples'?: CodeSample[] }>> } }[];

const SCRIPT = new URL('../../scripts/docs-samples.mjs', import.meta.url).href;
const { documentsWithSamples } = (await import(SCRIPT)) as { documentsWithSamples: () => Promise<Documents> };

describe('the TypeScript samples of the Redoc pages', { timeout: 60_000 }, () => {
  it('every operation of every spec has exactly one, naming its facade method', async () => {
    const documents = await documentsWithSamples();
    const samples = new Map<string, CodeSample[]>();
    for (const { document } of documents) {
      for (const item of Object.values(document.paths)) {
        for (const op of Object.values(item)) {
          if (op && typeof op === 'object' && typeof op.operationId === 'string') samples.set(op.operationId, op['x-codeSamples'] ?? []);
        }
      }
    }
    const operations = [...Object.keys(receiver.operations), ...Object.keys(query.operations), ...Object.keys(graphBuilder.operations)];
    expect([...samples.keys()].sort()).toEqual(operations.sort());
    for (const [operationId, list] of samples) {
      expect(list, operationId).toHaveLength(1);
      const [sample] = list;
      expect(sample!.lang).toBe('TypeScript');
      // A call-only operation is labelled `RKQuery.call('<operationId>')`: its sample calls `.call(`.
      const method = sample!.label.split('.')[1]!.replace(/\(.*$/, '');
      expect(sample!.source, operationId).toContain(`.${method}(`);
      expect(sample!.source, operationId).toMatch(/^import \{ RK(Client|Query|Admin) \} from 'recordkeeper-client';/);
    }
    expect([...samples.values()].flat()).toHaveLength(operations.length);
  });
});
