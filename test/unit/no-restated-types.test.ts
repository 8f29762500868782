import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a script of ours without type declarations
import { bundledSpecs } from '../../scripts/facts.mjs';

/**
 * No hand-written type in src/ restates the field list of a schema the generated types hold
 * (issue 16, item 3): an interface or object type that declares two or more properties of one
 * spec schema is a second description of it, which a renamed field would not reach. Types are
 * named from the generated ones instead (`Omit<TagRecord, 'UpdatedAt'>`, `PemAck & {...}`).
 */

const ROOT = new URL('../../', import.meta.url).pathname;
/** Types that share field names with a schema by coincidence, not by describing it. */
const UNRELATED = new Set([
  'src/client.ts LintFindingLike Error', // a lint finding's code and message, not an error body
  'src/lineage/lint.ts LintFinding Error',
  'src/delivery/outbox/store.ts DeadLetter PemAck', // a dead letter's PEM ID and its own status
  'src/lineage/replica/store.ts text Pem', // SQL column definitions in a string, not a TypeScript type
  'src/lineage/replica/store.ts text StoredPem',
  'src/conformance/schema-validator.ts Violation Error', // a schema violation's field and sentence, not an error body
]);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'generated' ? [] : files(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

describe('hand-written types', () => {
  it('restate no field list of a spec schema', async () => {
    const specs = (await bundledSpecs()) as { document: { components?: { schemas?: Record<string, { properties?: object }> } } }[];
    const schemas = new Map<string, string[]>();
    for (const { document } of specs) {
      for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) {
        if (schema.properties) schemas.set(name, Object.keys(schema.properties));
      }
    }
    expect(schemas.get('TagRecord')).toContain('EventID');
    const restated: string[] = [];
    for (const file of files(join(ROOT, 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/(?:interface\s+(\w+)[^{]*|type\s+(\w+)[^=]*=\s*)\{([^{}]*)\}/g)) {
        const members = [...match[3]!.matchAll(/^\s*(?:readonly\s+)?(\w+)\??:/gm)].map((m) => m[1]!);
        for (const [schema, properties] of schemas) {
          const shared = members.filter((member) => properties.includes(member));
          const where = `${relative(ROOT, file)} ${match[1] ?? match[2]} ${schema}`;
          if (shared.length >= 2 && !UNRELATED.has(where)) restated.push(`${where}: ${shared.join(', ')}`);
        }
      }
    }
    expect(restated).toEqual([]);
  });
});
