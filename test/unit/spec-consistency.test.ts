import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as facts from '../../src/generated/facts.js';
import { VERSION } from '../../src/core/version.js';

const root = new URL('../../', import.meta.url).pathname;

/** Hand-written TypeScript under a folder, generated code excluded. */
function sources(folder: string): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (name !== 'generated' && name !== 'node_modules' && name !== 'dist') walk(path);
      } else if (name.endsWith('.ts')) {
        out.push({ file: relative(root, path), text: readFileSync(path, 'utf8') });
      }
    }
  };
  walk(join(root, folder));
  return out;
}

/** Code without comments, so a comment may name a path or a header and explain it. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

const services = [facts.receiver, facts.query, facts.graphBuilder];
const operations = services.flatMap((service) => Object.values(service.operations));
const handWritten = [...sources('src'), ...sources('server/src')];

/** Each finding as `file: literal`, so a failure says where to look. */
function findings(pattern: (text: string) => string[]): string[] {
  return handWritten.flatMap(({ file, text }) => pattern(codeOf(text)).map((hit) => `${file}: ${hit}`));
}

// Stripping comments and finding literals cost seconds over the bundled page asset (half a
// megabyte): each file's are worked out once and shared by every test below.
const codeCache = new Map<string, string>();
const literalCache = new Map<string, string[]>();
function codeOf(text: string): string {
  let stripped = codeCache.get(text);
  if (stripped === undefined) codeCache.set(text, (stripped = code(text)));
  return stripped;
}

function literals(text: string): string[] {
  let found = literalCache.get(text);
  if (found === undefined) literalCache.set(text, (found = [...text.matchAll(/(['"`])((?:\\.|(?!\1)[^\\\n])*)\1/g)].map((m) => m[2]!)));
  return found;
}

describe('nothing in src/ or server/src/ restates what the specs state (src/generated/facts.ts carries it)', () => {
  it('the facts cover every operation of the three specs', () => {
    expect(operations.length).toBeGreaterThanOrEqual(20);
    for (const op of operations) expect(op.statuses.length).toBeGreaterThan(0);
  });

  it('no path of an operation is written out as a string', () => {
    const paths = new Set(operations.map((op) => op.path).filter((path) => path !== '/'));
    expect(findings((text) => literals(text).filter((literal) => paths.has(literal)))).toEqual([]);
  });

  it('no header name the specs declare is written out', () => {
    const headers = new Set(services.flatMap((service) => Object.values(service.headers) as string[]).map((h) => h.toLowerCase()));
    expect(headers.size).toBeGreaterThanOrEqual(4);
    expect(findings((text) => literals(text).filter((literal) => headers.has(literal.toLowerCase())))).toEqual([]);
  });

  it('no list of two or more required fields of a schema is written out', () => {
    const required = services.flatMap((service) => Object.values(service.required) as (readonly string[])[]).filter((list) => list.length >= 2);
    const restated = (text: string) =>
      [...text.matchAll(/\[((?:\s*'[A-Za-z_]+'\s*,?){2,})\]/g)]
        .map((m) => [...m[1]!.matchAll(/'([A-Za-z_]+)'/g)].map((f) => f[1]!))
        .filter((fields) => required.some((list) => fields.every((field) => list.includes(field))))
        .map((fields) => `[${fields.join(', ')}]`);
    expect(findings(restated)).toEqual([]);
  });

  it('no list of the paging parameters is written out', () => {
    const paging = new Set<string>(facts.query.operations.listPems.query.filter((p) => p.role === 'paging').map((p) => p.name));
    expect(paging.size).toBe(4);
    const restated = (text: string) =>
      [...text.matchAll(/\[((?:\s*'[A-Za-z_]+'\s*,?){2,})\]/g)]
        .map((m) => [...m[1]!.matchAll(/'([A-Za-z_]+)'/g)].map((f) => f[1]!))
        .filter((fields) => fields.filter((field) => paging.has(field)).length >= 2)
        .map((fields) => `[${fields.join(', ')}]`);
    expect(findings(restated)).toEqual([]);
  });

  it('no count key is written out as a string', () => {
    const keys = new Set(
      operations.filter((op) => op.path.endsWith('_count')).map((op) => ('response' in op && 'required' in op.response ? op.response.required[0] : '')),
    );
    expect(keys.size).toBe(3);
    expect(findings((text) => literals(text).filter((literal) => keys.has(literal)))).toEqual([]);
  });

  it('the client compares no status code outside the one status map', () => {
    // http-errors.ts maps failures to classes, statuses.ts says what success and a redirect are.
    const client = sources('src').filter(({ file }) => !['src/core/http-errors.ts', 'src/core/retry-policy.ts', 'src/core/statuses.ts'].includes(file));
    const comparison = new RegExp('status\\s*(===|!==|==|>=|<=|<|>)\\s*\\d{3}', 'gi');
    const hits = client.flatMap(({ file, text }) => [...codeOf(text).matchAll(comparison)].map((m) => `${file}: ${m[0]}`));
    expect(hits).toEqual([]);
  });
});

describe('facts the package states itself', () => {
  it('VERSION is the package version', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });
});
