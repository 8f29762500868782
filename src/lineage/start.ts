import { RKInvalidInputError } from '../index.js';
import { bindAt } from './binding.js';
import type { LineageIndex } from './lineage-index.js';
import { resolveTagSlot } from './tags.js';
import { toSeconds, type TimeInput } from './time.js';

/**
 * Where a walk starts:
 * - a string: the PEM with this ID when the index holds it, otherwise the artifact with this Name
 *   (its latest version);
 * - `{ pem }`: a PEM by ID;
 * - `{ name, at? }`: an artifact, in the version current at `at` (its latest when `at` is left out);
 * - `{ namespace, tag, at? }`: the PEM the tag pointed to at `at` (now when left out).
 */
export type LineageStart =
  | string
  | { pem: string }
  | { name: string; at?: TimeInput }
  | { namespace: string; tag: string; at?: TimeInput };

export type ResolvedStart =
  | { kind: 'pem'; slot: number }
  /** `producer` is -1 for a version no known PEM produced. */
  | { kind: 'artifact'; artifact: number; producer: number };

export function resolveStart(index: LineageIndex, start: LineageStart, operation: string): ResolvedStart {
  if (typeof start === 'string') {
    if (index.has(start)) return { kind: 'pem', slot: index.slotOf(start) };
    if (index.hasArtifact(start)) return artifactStart(index, start, Infinity);
    throw new RKInvalidInputError(operation, 'start', `${JSON.stringify(start)} is neither a PEM ID nor an artifact Name in the index (${index.size} PEMs loaded; refresh() to read newer ones)`);
  }
  if (start === null || typeof start !== 'object') {
    throw new RKInvalidInputError(operation, 'start', `must be a PEM ID, an artifact Name, { pem }, { name, at? } or { namespace, tag, at? }, got ${JSON.stringify(start)}`);
  }
  if ('pem' in start) {
    if (!index.has(start.pem)) throw new RKInvalidInputError(operation, 'start.pem', `${JSON.stringify(start.pem)} is not a PEM in the index (${index.size} PEMs loaded)`);
    return { kind: 'pem', slot: index.slotOf(start.pem) };
  }
  if ('tag' in start) {
    if (typeof start.namespace !== 'string' || typeof start.tag !== 'string') {
      throw new RKInvalidInputError(operation, 'start', 'a tag start needs { namespace, tag } as strings');
    }
    const at = start.at === undefined ? Infinity : toSeconds(operation, 'start.at', start.at);
    const slot = resolveTagSlot(index, start.namespace, start.tag, at);
    if (slot < 0) throw new RKInvalidInputError(operation, 'start', `the tag ${start.namespace}/${start.tag} pointed to no PEM${start.at === undefined ? '' : ' at that time'}`);
    if (!index.isLoaded(slot)) throw new RKInvalidInputError(operation, 'start', `the tag ${start.namespace}/${start.tag} points to PEM ${index.idOf(slot)}, which is not in the index (refresh() first)`);
    return { kind: 'pem', slot };
  }
  if ('name' in start) {
    if (typeof start.name !== 'string' || !index.hasArtifact(start.name)) {
      throw new RKInvalidInputError(operation, 'start.name', `${JSON.stringify(start.name)} is not an artifact Name in the index`);
    }
    return artifactStart(index, start.name, start.at === undefined ? Infinity : toSeconds(operation, 'start.at', start.at));
  }
  throw new RKInvalidInputError(operation, 'start', 'must have pem, name, or namespace and tag');
}

function artifactStart(index: LineageIndex, name: string, at: number): ResolvedStart {
  const artifact = index.artifactId(name);
  return { kind: 'artifact', artifact, producer: bindAt(index, artifact, at) };
}
