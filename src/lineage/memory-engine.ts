import { asFailure, RKError, RKInvalidInputError, type Result } from '../public.js';
import { diffLineage } from './diff.js';
import type { LineageEngine } from './engine.js';
import { explainLineage } from './explain.js';
import { findImpact } from './impact.js';
import type { LineageIndex } from './lineage-index.js';
import { findPaths } from './paths.js';
import type { LineageRoles } from './roles.js';
import { stateAt } from './state.js';
import { resolveTag } from './tags.js';
import { resumeWalk, walkDownstream, walkUpstream } from './walk.js';

/**
 * The `memory` engine: the questions asked of an in-memory LineageIndex. It is the reference the
 * other engines are tested against. `prepare` (RKLineage's load) runs before the first question
 * when given, so a cold client gets its first answer after one full load.
 */
export class MemoryEngine implements LineageEngine {
  readonly kind = 'memory' as const;
  #ready: Promise<Result<unknown>> | null = null;

  constructor(
    readonly index: LineageIndex,
    private readonly settings: { roles?: LineageRoles | undefined; prepare?: (() => Promise<Result<unknown>>) | undefined } = {},
  ) {}

  async #answer<T>(operation: string, question: () => T): Promise<Result<T>> {
    if (this.settings.prepare) {
      this.#ready ??= this.settings.prepare();
      const ready = await this.#ready;
      if (!ready.ok) {
        this.#ready = null;
        return ready;
      }
    }
    try {
      return { ok: true, value: question() };
    } catch (cause) {
      if (cause instanceof RKError) return { ok: false, error: asFailure(cause) };
      return { ok: false, error: new RKInvalidInputError(operation, 'question', cause instanceof Error ? cause.message : String(cause)) };
    }
  }

  upstream: LineageEngine['upstream'] = (start, options) => this.#answer('Walking upstream', () => walkUpstream(this.index, start, options));
  downstream: LineageEngine['downstream'] = (start, options) => this.#answer('Walking downstream', () => walkDownstream(this.index, start, options));
  resume: LineageEngine['resume'] = (cursor, options) => this.#answer('Resuming walk', () => resumeWalk(this.index, cursor, options));
  explain: LineageEngine['explain'] = (target, options = {}) =>
    this.#answer('Explaining lineage', () => explainLineage(this.index, target, this.settings.roles && !options.roles ? { ...options, roles: this.settings.roles } : options));
  stateAt: LineageEngine['stateAt'] = (time, options) => this.#answer('Reading state', () => stateAt(this.index, time, options));
  resolveTag: LineageEngine['resolveTag'] = (namespace, tag, options) => this.#answer('Resolving tag', () => resolveTag(this.index, namespace, tag, options));
  diffLineage: LineageEngine['diffLineage'] = (a, b, options) => this.#answer('Comparing lineage', () => diffLineage(this.index, a, b, options));
  paths: LineageEngine['paths'] = (a, b, options) => this.#answer('Finding lineage paths', () => findPaths(this.index, a, b, options));
  impact: LineageEngine['impact'] = (source, options) => this.#answer('Finding impact', () => findImpact(this.index, source, options));

  async close(): Promise<void> {}
}
