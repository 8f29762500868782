import { RKInvalidInputError } from './core/errors.js';
import { unexpected } from './core/responses.js';
import type { GraphRow } from './query-graph.js';
import { failure, success, type Result } from './core/result.js';
import type { Artifact, ArtifactFilters, ArtifactListOptions } from './model/types.js';

/** The statements the reference client sends, verbatim, so any RK graph answers them. */
export const GRAPH_ARTIFACT_LIST =
  'MATCH (a:Artifact) RETURN a.rk_id AS rk_id, a.properties as properties, a.created_at as created_at';
export const GRAPH_ARTIFACT_COUNT = 'MATCH (a:Artifact) RETURN count(a);';

type Selection = Omit<ArtifactListOptions, 'source' | 'filters'> & ArtifactFilters;

/**
 * Reads the graph's artifact rows `[name, properties as JSON text or '', created_at]` and applies
 * the same Name filter, sorting and paging the Query service applies to the tables.
 */
export const graphArtifacts = {
  statement: GRAPH_ARTIFACT_LIST,

  /** The graph rows carry Name and CreatedAt only; anything else would be silently ignored, so it is refused. */
  check(operation: string, options: { filters?: object; sortField?: unknown }): void {
    const filter = Object.keys(options.filters ?? {}).find((key) => key !== 'Name');
    if (filter !== undefined) {
      throw new RKInvalidInputError(operation, `filters.${filter}`, 'cannot be applied to source "graphdb"; only the Name filter can');
    }
    if (options.sortField !== undefined && options.sortField !== 'Name' && options.sortField !== 'CreatedAt') {
      throw new RKInvalidInputError(
        operation,
        'sortField',
        `must be "Name" or "CreatedAt", got ${JSON.stringify(options.sortField)}`,
      );
    }
  },

  select(operation: string, rows: GraphRow[], selection: Selection): Result<Artifact[]> {
    const artifacts: Artifact[] = [];
    for (const [index, row] of rows.entries()) {
      const artifact = toArtifact(row);
      if (typeof artifact === 'string') {
        return failure(unexpected(operation, 200, `graph row ${index} ${artifact}`, row));
      }
      artifacts.push(artifact);
    }
    const { Name, sortField, sortOrder = 'asc', pageIndex = 0, pageSize } = selection;
    let selected = Name === undefined ? artifacts : artifacts.filter((a) => a.Name.includes(Name));
    if (sortField) {
      const direction = sortOrder === 'desc' ? -1 : 1;
      selected = [...selected].sort((a, b) => direction * compare(a[sortField], b[sortField]));
    }
    return success(pageSize === undefined ? selected : selected.slice(pageIndex * pageSize, (pageIndex + 1) * pageSize));
  },
};

function toArtifact(row: GraphRow): Artifact | string {
  const [name, properties, createdAt] = row;
  if (typeof name !== 'string' || name === '') return 'has no artifact name';
  if (createdAt !== null && createdAt !== undefined && typeof createdAt !== 'string') return 'has a created_at that is not text';
  let parsed: unknown = {};
  if (typeof properties === 'string' && properties.trim() !== '') {
    try {
      parsed = JSON.parse(properties);
    } catch {
      return 'has properties that are not JSON';
    }
  } else if (properties !== null && properties !== undefined && properties !== '') {
    parsed = properties;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'has properties that are not an object';
  const stringProperties = Object.fromEntries(
    Object.entries(parsed).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]),
  );
  return { Name: name, Properties: stringProperties, CreatedAt: createdAt ?? null };
}

function compare(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}
