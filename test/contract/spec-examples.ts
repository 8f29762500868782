import path from 'node:path';
import { bundle, createConfig } from '@redocly/openapi-core';
import type { Api } from './mocks.js';

/**
 * The examples the contract tests expect, read from the spec files Prism serves them from (never
 * copied), so a field added to an example reaches every assertion on it. Loaded once per file with
 * top-level await: `const examples = await specExamples('query')`.
 */

const ROOT = new URL('../../', import.meta.url).pathname;

interface Schema {
  example?: unknown;
  type?: unknown;
  items?: Schema;
}

interface Media {
  example?: unknown;
  examples?: Record<string, { value?: unknown }>;
  schema?: Schema;
}

/** Where Prism finds a response example: the media's own, else its schema's (a list: one item's). */
function exampleOf(media: Media | undefined, name: string | undefined): unknown {
  if (!media) return undefined;
  if (name !== undefined) return media.examples?.[name]?.value;
  if (media.example !== undefined) return media.example;
  const named = Object.values(media.examples ?? {})[0];
  if (named) return named.value;
  if (media.schema?.example !== undefined) return media.schema.example;
  if (media.schema?.type === 'array' && media.schema.items?.example !== undefined) return [media.schema.items.example];
  return undefined;
}

type Operation = { responses?: Record<string, { content?: Record<string, Media> }>; parameters?: { name: string; example?: unknown }[] };

export interface SpecExamples {
  /**
   * The example of an operation's response: the first 2xx unless `status` says which, the JSON
   * form unless `media` says which, the first named example unless `name` says which.
   */
  response<T = unknown>(operationId: string, options?: { status?: string; media?: string; name?: string }): T;
  /** The example of an operation's parameter (e.g. a path ID). */
  parameter(operationId: string, name: string): string;
}

export async function specExamples(api: Api): Promise<SpecExamples> {
  const result = await bundle({ ref: path.join(ROOT, 'openapi', `${api}.yaml`), config: await createConfig({}), dereference: true });
  const document = result.bundle.parsed as { paths: Record<string, Record<string, Operation & { operationId?: string }>> };
  const operations = new Map<string, Operation>();
  for (const item of Object.values(document.paths)) {
    for (const op of Object.values(item)) if (op && typeof op === 'object' && typeof op.operationId === 'string') operations.set(op.operationId, op);
  }
  const operation = (operationId: string): Operation => {
    const found = operations.get(operationId);
    if (!found) throw new Error(`openapi/${api}.yaml has no operation ${operationId}`);
    return found;
  };
  return {
    response<T>(operationId: string, options: { status?: string; media?: string; name?: string } = {}): T {
      const responses = operation(operationId).responses ?? {};
      const status = options.status ?? Object.keys(responses).find((s) => s.startsWith('2'));
      const content = status === undefined ? undefined : responses[status]?.content;
      const media = content?.[options.media ?? 'application/json'] ?? (options.media ? undefined : Object.values(content ?? {})[0]);
      const value = exampleOf(media, options.name);
      if (value === undefined) throw new Error(`openapi/${api}.yaml: ${operationId} ${status ?? '2xx'} ${options.media ?? ''} has no example ${options.name ?? ''}`);
      return structuredClone(value) as T;
    },
    parameter(operationId: string, name: string): string {
      const example = operation(operationId).parameters?.find((p) => p.name === name)?.example;
      if (typeof example !== 'string') throw new Error(`openapi/${api}.yaml: ${operationId} has no example for its parameter ${name}`);
      return example;
    },
  };
}
