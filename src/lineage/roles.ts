import { matcher, type Matcher, type NamePattern } from './patterns.js';

/**
 * What counts as a model, a training and a data source in `explain`. RK itself has no such
 * notion: a PEM has a free Type and artifacts have free Names, so the roles are patterns.
 */
export interface LineageRoles {
  /** Artifacts that are models: by Name, or produced by PEMs of these Types. */
  model?: { names?: readonly NamePattern[]; producedByTypes?: readonly NamePattern[] };
  /** PEMs that train models, by Type. */
  training?: { types?: readonly NamePattern[] };
  /**
   * Data sources, beside every artifact no known PEM produced: artifacts with these Names, and
   * what PEMs of these Types use.
   */
  source?: { names?: readonly NamePattern[]; types?: readonly NamePattern[] };
}

/** The defaults, documented in the README. */
export const DEFAULT_ROLES = {
  model: { names: [/(^|[/_.:-])models?([/_.:-]|$)/i], producedByTypes: [] },
  training: { types: [/^(re-?)?train(ing)?([/_.:-]|$)/i, /^fit$/i, /^fine-?tun(e|ing)$/i] },
  source: { names: [/^(raw|source|sources|external)[/:]/i], types: [/^(ingest|import|extract|collect)([/_.:-]|$)/i] },
} satisfies Required<{ [K in keyof LineageRoles]: Required<NonNullable<LineageRoles[K]>> }>;

export interface RoleMatchers {
  modelName: Matcher;
  modelProducerType: Matcher;
  trainingType: Matcher;
  sourceName: Matcher;
  sourceType: Matcher;
}

/** Each role as given, else its default (a role given replaces its default, it does not add to it). */
export function roleMatchers(operation: string, roles: LineageRoles = {}): RoleMatchers {
  return {
    modelName: matcher(operation, 'roles.model.names', roles.model?.names ?? DEFAULT_ROLES.model.names),
    modelProducerType: matcher(operation, 'roles.model.producedByTypes', roles.model?.producedByTypes ?? DEFAULT_ROLES.model.producedByTypes),
    trainingType: matcher(operation, 'roles.training.types', roles.training?.types ?? DEFAULT_ROLES.training.types),
    sourceName: matcher(operation, 'roles.source.names', roles.source?.names ?? DEFAULT_ROLES.source.names),
    sourceType: matcher(operation, 'roles.source.types', roles.source?.types ?? DEFAULT_ROLES.source.types),
  };
}
