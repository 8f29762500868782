import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layering src/README.md promises: each folder imports only the folders below it, lineage/ and
 * cli/ only the public facade, and no module imports itself back through others.
 */
const src = new URL('../../src/', import.meta.url).pathname;

function files(dir = src): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Relative imports and re-exports of a file, resolved to files. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]/g)]
    .map((m) => normalize(join(dirname(file), m[1]!)).replace(/\.js$/, '.ts'))
    .filter((target) => existsSync(target));
}

/** `core`, `delivery`, ...; top-level files are the facade, `index.ts` the entry. */
function layerOf(file: string): string {
  const path = relative(src, file);
  if (path === 'index.ts') return 'entry';
  if (path === 'public.ts') return 'public';
  const folder = path.split('/')[0]!;
  return folder.endsWith('.ts') ? 'facade' : folder;
}

const ALLOWED: Record<string, readonly string[]> = {
  entry: ['public', 'lineage', 'cli', 'bridges'],
  public: ['facade', 'testing', 'delivery', 'core', 'model', 'resilience', 'wire', 'generated'],
  lineage: ['public'],
  bridges: ['public', 'lineage'],
  cli: ['public', 'lineage', 'bridges', 'conformance'],
  // rk conformance's engine and the validator the local RK shares: loaded only by cli/ (dynamically) and the server.
  conformance: ['public', 'facade', 'wire', 'generated'],
  testing: ['facade', 'delivery', 'core', 'model', 'resilience', 'wire', 'generated'],
  facade: ['delivery', 'core', 'model', 'resilience', 'wire', 'generated'],
  delivery: ['core', 'model', 'resilience', 'wire', 'generated'],
  model: ['core', 'wire', 'generated'],
  core: ['resilience', 'wire', 'generated'],
  resilience: [],
  wire: [],
  generated: [],
  // Stand-ins a browser bundle gets instead of Node-only modules: nothing imports them, they import nothing.
  browser: [],
};

const graph = new Map(files().map((file) => [file, importsOf(file)]));

describe('the layers of src/', () => {
  it('every folder imports only the layers below it', () => {
    const wrong: string[] = [];
    for (const [file, targets] of graph) {
      const from = layerOf(file);
      const allowed = ALLOWED[from];
      if (!allowed) {
        wrong.push(`${relative(src, file)}: the folder is not in src/README.md's table`);
        continue;
      }
      for (const target of targets) {
        const to = layerOf(target);
        if (to !== from && !allowed.includes(to)) wrong.push(`${relative(src, file)} -> ${relative(src, target)} (${from} may not import ${to})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('no import circle', () => {
    const state = new Map<string, 'visiting' | 'done'>();
    const circles: string[] = [];
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting') {
        circles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(src, f)).join(' -> '));
        return;
      }
      state.set(file, 'visiting');
      for (const target of graph.get(file) ?? []) visit(target, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(circles).toEqual([]);
  });

  it('the test sees the whole tree', () => {
    expect(graph.size).toBeGreaterThan(40);
    expect([...graph.keys()].some((file) => layerOf(file) === 'core')).toBe(true);
  });
});
