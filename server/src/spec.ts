import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSegments, type TemplateSegment } from './base64-path.js';
import { cacheFolder, writeCacheFile } from './cache-folder.js';

/**
 * The three RK APIs as the server sees them: each spec file bundled and fully dereferenced by
 * Redocly, so routing, parameters, request bodies, responses and security all come from the YAML
 * the client is generated from. Nothing here restates a schema.
 */

export type ServiceName = 'receiver' | 'query' | 'graph-builder';

export const SERVICES: readonly ServiceName[] = ['receiver', 'query', 'graph-builder'];

/** A JSON Schema node from the spec, after dereferencing. */
export type SchemaObject = Record<string, unknown>;

export interface SpecParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  schema: SchemaObject;
  /** `paging` for list parameters (paging and sorting), `filter` for field filters: the spec's x-rk-role. */
  role: 'paging' | 'filter';
}

export interface SpecMedia {
  schema?: SchemaObject;
}

export interface SpecResponse {
  description?: string;
  content?: Record<string, SpecMedia>;
}

export interface SpecOperation {
  service: ServiceName;
  operationId: string;
  method: string;
  /** The path template as written in the spec, e.g. `/tag/{ns_b64}/{tag_b64}`. */
  template: string;
  /**
   * The template split on `/`: literal text or `{name}` for a parameter; `base64` marks a
   * parameter whose schema is `format: byte`, whose value may hold a raw `/`.
   */
  segments: TemplateSegment[];
  parameters: SpecParameter[];
  requestBody: { required: boolean; content: Record<string, SpecMedia> } | undefined;
  responses: Record<string, SpecResponse>;
  /** Security requirement alternatives; an empty object means "no credential needed". */
  security: Record<string, string[]>[];
}

export interface SecurityScheme {
  type: string;
  in?: string;
  name?: string;
}

export interface ServiceSpec {
  service: ServiceName;
  version: string;
  document: Record<string, unknown>;
  operations: SpecOperation[];
  securitySchemes: Record<string, SecurityScheme>;
}

export type Specs = Record<ServiceName, ServiceSpec>;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/**
 * Where the YAML lives: in this repository, its `openapi/` beside the `server/` workspace (always
 * the current specs); in a packed package, the copy `npm run pack:local` put into it.
 */
export function findSpecDir(): string {
  const packageRoot = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));
  const repository = path.join(packageRoot, '..');
  const candidates = isClientRepository(repository)
    ? [path.join(repository, 'openapi'), path.join(packageRoot, 'openapi')]
    : [path.join(packageRoot, 'openapi')];
  for (const candidate of candidates) {
    if (existsSync(path.join(candidate, 'receiver.yaml'))) return candidate;
  }
  throw new Error(`recordkeeper-local: no openapi/receiver.yaml in ${candidates.join(' or ')}; pass specDir`);
}

function isClientRepository(dir: string): boolean {
  const manifest = path.join(dir, 'package.json');
  return existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'recordkeeper-client';
}

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      const name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name;
      if (name === 'recordkeeper-local') return dir;
    }
    if (path.dirname(dir) === dir) throw new Error(`recordkeeper-local: cannot find its package.json above ${start}`);
  }
}

/**
 * The specs of a folder, bundled once per process while its files stay the same, and once per
 * machine: the bundled documents are kept in the cache folder (cache-folder.ts) under a digest of
 * the folder's files, so a new process reads one JSON file instead of loading @redocly/openapi-core
 * (about 0.3 CPU s) and bundling the three specs (0.25 to 0.4 CPU s). Callers share the result and
 * never change it; the request validator keys its compiled schemas on it (http.ts).
 */
const bundled = new Map<string, { files: string; specs: Promise<Specs> }>();

export async function loadSpecs(specDir: string = findSpecDir()): Promise<Specs> {
  const dir = path.resolve(specDir);
  const files = contentsOf(dir);
  const known = bundled.get(dir);
  if (files !== undefined && known?.files === files) return known.specs;
  const specs = files === undefined ? bundleSpecs(dir).then(specsOf) : keptSpecs(dir, files);
  if (files !== undefined) {
    bundled.set(dir, { files, specs });
    specs.catch(() => bundled.get(dir)?.specs === specs && bundled.delete(dir));
  }
  return specs;
}

/** A digest of the folder's files (names and contents), or undefined when it cannot be read. */
function contentsOf(dir: string): string | undefined {
  try {
    const hash = createHash('sha256');
    for (const entry of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      hash.update(`${entry.name}\0`).update(readFileSync(path.join(dir, entry.name))).update('\0');
    }
    return hash.digest('hex');
  } catch {
    return undefined;
  }
}

/** The bundled documents kept for these files, else bundled now and kept; a file that cannot be read or parsed is made again. */
async function keptSpecs(dir: string, files: string): Promise<Specs> {
  const folder = cacheFolder();
  const file = folder === undefined ? undefined : path.join(folder, `specs-${files.slice(0, 32)}.json`);
  if (file) {
    try {
      const kept = JSON.parse(readFileSync(file, 'utf8')) as { files?: unknown; documents?: Record<ServiceName, Record<string, unknown>> };
      if (kept.files === files && kept.documents && SERVICES.every((service) => typeof kept.documents?.[service] === 'object')) return specsOf(kept.documents);
    } catch {
      // Missing or unreadable: bundled again below and written anew.
    }
  }
  const documents = await bundleSpecs(dir);
  if (file) await writeCacheFile(file, JSON.stringify({ files, documents }));
  return specsOf(documents);
}

function specsOf(documents: Record<ServiceName, Record<string, unknown>>): Specs {
  return Object.fromEntries(SERVICES.map((service) => [service, toServiceSpec(service, documents[service])])) as Specs;
}

/** The three specs with every $ref resolved in place, as parsed documents. */
async function bundleSpecs(specDir: string): Promise<Record<ServiceName, Record<string, unknown>>> {
  // Loaded only here: a start that finds the bundled specs kept does not pay for the module.
  const { bundle, createConfig } = await import('@redocly/openapi-core');
  // An empty config: no redocly.yaml lint rules apply when the server merely reads the specs.
  // No argument rather than `{}`: the same config at run time, but relating a literal to
  // @redocly/config's schema-derived type cost ~13 CPU-s in every type check of this file.
  const config = await createConfig();
  const entries = await Promise.all(
    SERVICES.map(async (service) => {
      const file = path.join(specDir, `${service}.yaml`);
      const result = await bundle({ ref: file, config, dereference: true });
      const errors = result.problems.filter((p) => p.severity === 'error');
      if (errors.length) {
        throw new Error(`recordkeeper-local: ${file} could not be read: ${errors.map((p) => p.message).join('; ')}`);
      }
      return [service, result.bundle.parsed as Record<string, unknown>] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<ServiceName, Record<string, unknown>>;
}

function toServiceSpec(service: ServiceName, document: Record<string, unknown>): ServiceSpec {
  const info = document.info as { version?: string } | undefined;
  const globalSecurity = (document.security as Record<string, string[]>[] | undefined) ?? [];
  const components = (document.components ?? {}) as { securitySchemes?: Record<string, SecurityScheme> };
  const operations: SpecOperation[] = [];
  for (const [template, item] of Object.entries((document.paths ?? {}) as Record<string, Record<string, unknown>>)) {
    const shared = (item.parameters as SpecParameter[] | undefined) ?? [];
    for (const method of METHODS) {
      const raw = item[method] as Record<string, unknown> | undefined;
      if (!raw) continue;
      const operationId = raw.operationId;
      if (typeof operationId !== 'string') throw new Error(`${service}: ${method.toUpperCase()} ${template} has no operationId`);
      const own = (raw.parameters as SpecParameter[] | undefined) ?? [];
      const parameters = [...shared.filter((p) => !own.some((o) => o.name === p.name && o.in === p.in)), ...own].map((p) => ({
        ...p,
        required: p.required === true,
        schema: p.schema ?? {},
        role: (p as { 'x-rk-role'?: unknown })['x-rk-role'] === 'paging' ? ('paging' as const) : ('filter' as const),
      }));
      const body = raw.requestBody as { required?: boolean; content?: Record<string, SpecMedia> } | undefined;
      operations.push({
        service,
        operationId,
        method: method.toUpperCase(),
        template,
        segments: template
          .split('/')
          .slice(1)
          .map((segment): TemplateSegment => {
            const name = /^\{(.+)\}$/.exec(segment)?.[1];
            if (!name) return { literal: segment };
            const schema = parameters.find((p) => p.in === 'path' && p.name === name)?.schema;
            return { param: name, base64: schema?.format === 'byte' };
          }),
        parameters,
        requestBody: body ? { required: body.required === true, content: body.content ?? {} } : undefined,
        responses: (raw.responses ?? {}) as Record<string, SpecResponse>,
        security: (raw.security as Record<string, string[]>[] | undefined) ?? globalSecurity,
      });
    }
  }
  return {
    service,
    version: info?.version ?? '0.0.0',
    document,
    operations,
    securitySchemes: components.securitySchemes ?? {},
  };
}

export interface PathMatch {
  template: string;
  /** The operations of the template, one per method. */
  candidates: SpecOperation[];
  /** The raw (still percent-encoded) parameter values of each valid reading; more than one is ambiguous. */
  readings: Record<string, string>[];
}

/**
 * Matches a request path (already stripped of the service prefix) against the operations' path
 * templates, and answers every template that fits: templates fitted without splitting a base64
 * value first, and the caller picks by method (`GET /tag/a/b/c` may fit `/tag/{ns}/{tag}` with a
 * raw `/` and also `/tag/{ns}/{tag}/{pem_id}` segment for segment).
 *
 * Segments are compared raw, so a `%2F` inside a parameter never splits it; parameter values are
 * percent-decoded afterwards. A raw `/` inside a base64 parameter (the reference client sends
 * base64 unencoded) is read by base64's structure, see base64-path.ts.
 */
export function matchPath(operations: readonly SpecOperation[], rawPath: string): PathMatch[] {
  const parts = rawPath.split('/').slice(1);
  const exact: PathMatch[] = [];
  const split: PathMatch[] = [];
  for (const operation of operations) {
    if (exact.some((m) => m.template === operation.template) || split.some((m) => m.template === operation.template)) continue;
    const readings = readSegments(operation.segments, parts);
    if (!readings.length) continue;
    const match = { template: operation.template, candidates: operations.filter((o) => o.template === operation.template), readings };
    (operation.segments.length === parts.length ? exact : split).push(match);
  }
  return [...exact, ...split];
}

/** The constant the spec fixes for a schema property, e.g. the PEM `Version`. */
export function constOf(schema: SchemaObject | undefined, property: string): unknown {
  const properties = schema?.properties as Record<string, SchemaObject> | undefined;
  return properties?.[property]?.const;
}

export function findOperation(specs: Specs, operationId: string): SpecOperation {
  for (const service of SERVICES) {
    const found = specs[service].operations.find((o) => o.operationId === operationId);
    if (found) return found;
  }
  throw new Error(`recordkeeper-local: the specs have no operation ${operationId}`);
}
