import { bindAt } from './binding.js';
import type { LineageIndex } from './lineage-index.js';
import { matcher, type NamePattern } from './patterns.js';
import { ASSUMPTIONS, resolveTag, type TagMoveBasis } from './tags.js';
import { formatSeconds, toSeconds, type TimeInput } from './time.js';

/**
 * "What was the platform state at time T?": where each tag pointed, and for each artifact Name
 * which PEM had produced its current version by then (the latest producer with TimestampClient at
 * or before T, ties broken as in binding.ts).
 */

export interface TagState {
  namespace: string;
  tag: string;
  pem: string;
  since: string;
  basis: TagMoveBasis;
  assumptions: string[];
}

/** The version of an artifact current at a time: the PEM that last produced it by then. */
export interface ArtifactState {
  name: string;
  /** The PEM that produced the version current at that time. */
  producer: string;
  type: string;
  emitter: string;
  /** The producer's TimestampClient. */
  producedAt: string;
}

/** The platform at a time: where each tag pointed and the current version of each artifact, with assumptions. */
export interface PlatformState {
  at: string;
  tags: TagState[];
  artifacts: ArtifactState[];
  assumptions: string[];
}

/** Which artifacts and tag namespaces a stateAt answer covers. */
export interface StateAtOptions {
  /** Only artifacts with these Names (default all). */
  artifacts?: NamePattern | readonly NamePattern[];
  /** Only tags in these namespaces (default all). */
  namespaces?: NamePattern | readonly NamePattern[];
}

/** Where each tag pointed and which version of each artifact was current at time, from the index alone. */
export function stateAt(index: LineageIndex, time: TimeInput, options: StateAtOptions = {}): PlatformState {
  const operation = 'Reading state at a time';
  const at = toSeconds(operation, 'time', time);
  const wantArtifact = options.artifacts === undefined ? () => true : matcher(operation, 'artifacts', options.artifacts);
  const wantNamespace = options.namespaces === undefined ? () => true : matcher(operation, 'namespaces', options.namespaces);
  const atText = formatSeconds(at)!;

  const tags: TagState[] = [];
  for (const [namespace, tag] of index.tagKeys()) {
    if (!wantNamespace(namespace)) continue;
    const resolved = resolveTag(index, namespace, tag, { at: at * 1000 });
    if (resolved) tags.push({ namespace, tag, ...resolved });
  }
  tags.sort((a, b) => compare(a.namespace, b.namespace) || compare(a.tag, b.tag));

  const artifacts: ArtifactState[] = [];
  for (let artifact = 0; artifact < index.artifactCount; artifact++) {
    const name = index.artifactName(artifact);
    if (!wantArtifact(name)) continue;
    const producer = bindAt(index, artifact, at);
    if (producer < 0) continue;
    artifacts.push({
      name,
      producer: index.idOf(producer),
      type: index.typeOf(producer),
      emitter: index.emitterOf(producer),
      producedAt: formatSeconds(index.timeOf(producer)) ?? '',
    });
  }
  artifacts.sort((a, b) => compare(a.name, b.name));

  const assumptions: string[] = [ASSUMPTIONS.clientClocks];
  if (!index.tagsRead) assumptions.push(ASSUMPTIONS.tagsNotRead);
  return { at: atText, tags, artifacts, assumptions };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
