import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FacadeEntry } from '../../src/facade-operations.js';
import { unreachable } from '../helpers/reachability.js';

/**
 * The regeneration drill (issue 16): in one temporary copy of the project, the specs change as a
 * maintainer would change them, all at once; the README's steps run (`npm run generate`, then the
 * type check of src/, here with the compiler API in-process over the copy's src/); and each change
 * must have the outcome the project promises:
 *
 * - a new endpoint: `generate` names it, the typed `call` reaches it, the reachability check names it;
 * - a new optional response field: typed at the facade with no hand-written line;
 * - a renamed field (TagRecord.EventID -> PemID): the type check fails where the facade reads it;
 * - a removed endpoint (countTags): the type check fails at the facade and in facade-operations.ts;
 * - a new required query parameter on GET /pems: the type check fails at every call that lists;
 * - a changed success status: `generate` names it, and nothing by hand follows it.
 */

const ROOT = new URL('../../', import.meta.url).pathname;

let copy: string;
let generateOutput: string;
let diagnostics: { file: string; message: string }[];

/** Replaces `from` (which must be there) with `to` in a file of the copy. */
async function edit(file: string, from: string, to: string): Promise<void> {
  const path = join(copy, file);
  const text = await readFile(path, 'utf8');
  if (!text.includes(from)) throw new Error(`drill: ${file} no longer holds ${JSON.stringify(from.slice(0, 60))}; update the drill`);
  await writeFile(path, text.replace(from, to));
}

/** What a caller of the regenerated client writes: must compile with no hand line in src/. */
const CALLER = `
import { RKAdmin, RKQuery } from './index.js';
import type { StoredPem } from './index.js';

export async function drill(query: RKQuery, admin: RKAdmin): Promise<void> {
  // The new endpoint, through the typed escape hatch, typed from the spec.
  const children = await query.call('listPemChildren', { path: { pem_id: '0192f3a4b5c67d8e9f0a1b2c3d4e5f60' } });
  if (children.ok) {
    const first: StoredPem | undefined = children.value[0];
    void first;
  }
  // The new optional field, typed at the facade.
  const pem = await query.getPem('0192f3a4b5c67d8e9f0a1b2c3d4e5f60');
  if (pem.ok) {
    const note: string | undefined = pem.value.Note;
    void note;
  }
  // The operation whose success status changed, unchanged for its caller.
  const started = await admin.artifactsVerifyConnections();
  if (started.ok) {
    const id: string = started.value;
    void id;
  }
}
`;

beforeAll(async () => {
  await mkdir(join(ROOT, '.tmp'), { recursive: true });
  copy = await mkdtemp(join(ROOT, '.tmp', 'drill-'));
  // With the tsconfig files the copy's tsconfig.json references (vite reads them to load src/).
  for (const entry of ['openapi', 'scripts', 'src', 'redocly.yaml', 'package.json', 'tsconfig.json', 'tsconfig.build.json', 'server/tsconfig.base.json', 'server/tsconfig.build.json']) {
    await cp(join(ROOT, entry), join(copy, entry), { recursive: true });
  }
  await symlink(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');

  // A new endpoint.
  await edit(
    'openapi/query.yaml',
    '  /pems_count:\n',
    `  /pem/{pem_id}/children:
    get:
      operationId: listPemChildren
      tags: [pems]
      summary: List the PEMs that follow a PEM
      description: The PEMs whose Predecessor is this PEM.
      parameters:
        - name: pem_id
          in: path
          required: true
          description: The PEM's ID.
          schema:
            $ref: '#/components/schemas/HexId'
      responses:
        '200':
          description: 'Ours: the children.'
          content:
            application/json:
              schema:
                type: array
                items:
                  $ref: '#/components/schemas/StoredPem'
        '404':
          $ref: '#/components/responses/NotFound'
  /pems_count:\n`,
  );
  // A new optional response field.
  await edit('openapi/common.yaml', '        ProducesArtifacts:\n          type: array\n          items:\n            type: string\n      example:\n        ID: 0192f3a4b5c67d8e9f0a1b2c3d4e5f60\n        Type: train', '        ProducesArtifacts:\n          type: array\n          items:\n            type: string\n        Note:\n          type: string\n      example:\n        ID: 0192f3a4b5c67d8e9f0a1b2c3d4e5f60\n        Type: train');
  // A renamed field.
  await edit('openapi/common.yaml', 'required: [NamespaceID, Tag, EventID, UpdatedAt]', 'required: [NamespaceID, Tag, PemID, UpdatedAt]');
  await edit('openapi/common.yaml', '        EventID:\n          $ref', '        PemID:\n          $ref');
  // A removed endpoint.
  const query = await readFile(join(copy, 'openapi/query.yaml'), 'utf8');
  const start = query.indexOf('  /tags_count:\n');
  const end = query.indexOf('  /query:\n');
  if (start < 0 || end < start) throw new Error('drill: query.yaml no longer has /tags_count before /query; update the drill');
  await writeFile(join(copy, 'openapi/query.yaml'), query.slice(0, start) + query.slice(end));
  // A new required query parameter on GET /pems (the first list of PemProducesArtifactFilter is listPems').
  await edit(
    'openapi/query.yaml',
    "        - $ref: '#/components/parameters/PemProducesArtifactFilter'\n      responses:\n        '200':\n          # The fields the reference client reads (read by scripts/operations.mjs): a client requires\n          # only these of each stored PEM",
    "        - $ref: '#/components/parameters/PemProducesArtifactFilter'\n        - name: Workspace\n          in: query\n          required: true\n          description: The workspace to list.\n          schema:\n            type: string\n      responses:\n        '200':\n          # The fields the reference client reads (read by scripts/operations.mjs): a client requires\n          # only these of each stored PEM",
  );
  // A changed success status.
  await edit('openapi/query.yaml', "      responses:\n        '202':\n          description: 'Known: the reference client reads the report id. The check has started.'", "      responses:\n        '200':\n          description: 'Known: the reference client reads the report id. The check has started.'");

  // The README's steps: generate (the copy's scripts/generate.mjs, run in this process, where
  // TypeScript is already loaded: the same function `npm run generate` runs, on the copy), then
  // the type check of src/.
  const { generate } = (await import(join(copy, 'scripts', 'generate.mjs'))) as { generate: (print: (line: string) => void) => Promise<void> };
  const said: string[] = [];
  await generate((line) => said.push(line));
  generateOutput = said.join('\n');
  await writeFile(join(copy, 'src', 'drill-caller.ts'), CALLER);
  // src/'s program (tsconfig.build.json, the one that checks src/), checked as `npm run typecheck`
  // checks it, without emitting: no declarations, not a composite build.
  const config = ts.getParsedCommandLineOfConfigFile(join(copy, 'tsconfig.build.json'), { noEmit: true, skipLibCheck: true, composite: false, declaration: false }, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!config) throw new Error('drill: the copy has no usable tsconfig.build.json');
  const program = ts.createProgram({ rootNames: config.fileNames.filter((file) => file.startsWith(join(copy, 'src'))), options: config.options });
  diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ({
    file: d.file ? relative(copy, d.file.fileName) : '',
    message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
  }));
}, 180_000);

afterAll(async () => {
  if (copy) await rm(copy, { recursive: true, force: true });
});

const errorsIn = (file: string) => diagnostics.filter((d) => d.file === file);
const filesMentioning = (word: string) => [...new Set(diagnostics.filter((d) => d.message.includes(word)).map((d) => d.file))].sort();

describe('the regeneration drill', () => {
  it('npm run generate names the operations added, removed and changed', () => {
    expect(generateOutput).toMatch(/added +listPemChildren \(GET \/pem\/\{pem_id\}\/children\)/);
    expect(generateOutput).toMatch(/removed +countTags \(GET \/tags_count\)/);
    expect(generateOutput).toMatch(/changed +listPems: parameters/);
    expect(generateOutput).toMatch(/changed +verifyArtifactConnections: success \[202\] -> \[200\]/);
  });

  it('a new endpoint and a new optional field reach a caller typed, with no hand-written line', () => {
    expect(errorsIn('src/drill-caller.ts')).toEqual([]);
  });

  it('a new endpoint is named by the reachability check until it is wrapped or listed as call-only', async () => {
    const tables = (await import(join(copy, 'src/generated/operations.ts'))) as Record<string, object>;
    const { FACADE_OPERATIONS } = (await import(join(copy, 'src/facade-operations.ts'))) as { FACADE_OPERATIONS: Record<string, Record<string, FacadeEntry>> };
    const problems = unreachable(
      { receiver: tables.receiverOperations!, query: tables.queryOperations!, graphBuilder: tables.graphBuilderOperations! },
      FACADE_OPERATIONS,
    );
    expect(problems).toContain('query listPemChildren: no facade method wraps it and it is not listed as call-only in src/facade-operations.ts');
    expect(problems).toContain('query countTags: listed in src/facade-operations.ts but no spec has it');
  });

  it('a renamed field fails the type check where the facade reads it', () => {
    expect(filesMentioning('EventID')).toContain('src/client.ts');
  });

  it('a removed endpoint fails the type check at the facade and in facade-operations.ts', () => {
    expect(filesMentioning('countTags')).toEqual(expect.arrayContaining(['src/facade-operations.ts', 'src/query.ts']));
  });

  it('a new required query parameter fails the type check at every call that lists PEMs', () => {
    // getPems() and pems() without filters (their default), and RKLineage's loader, which lists.
    const files = [...filesMentioning('Workspace'), ...filesMentioning("Property 'filters' is missing")];
    expect(files).toEqual(expect.arrayContaining(['src/query.ts', 'src/lineage/loader.ts']));
    expect(diagnostics.filter((d) => d.file === 'src/query.ts' && d.message.includes("Property 'filters' is missing"))).toHaveLength(2);
  });

  it('nothing else fails: every error is one of the changes', () => {
    // The renamed field is named by its old name where it is read and by its new one where a value
    // built with the old name no longer fits (the replica store's cached tags); PemID is nowhere else.
    const unexplained = diagnostics.filter((d) => !['EventID', 'PemID', 'countTags', 'Workspace', "Property 'filters' is missing"].some((word) => d.message.includes(word)));
    expect(unexplained).toEqual([]);
  });
});
