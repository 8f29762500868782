import { bindUse } from './binding.js';
import type { LineageIndex } from './lineage-index.js';
import { roleMatchers, type LineageRoles } from './roles.js';
import type { LineageStart } from './start.js';
import { ASSUMPTIONS } from './tags.js';
import { walkUpstream, type ArtifactNode, type LineageGap, type LineageResult, type PemNode, type Truncation, type WalkOptions } from './walk.js';

/**
 * "Why did this happen?": the upstream walk of the target, told as the ordered steps that led to
 * it, the models among the artifacts with who trained them, the data sources, and the gaps.
 */

export interface ExplainOptions extends WalkOptions {
  roles?: LineageRoles;
}

/** One PEM in an explanation, with each use bound to the PEM whose version it used. */
export interface ExplainStep {
  pem: string;
  type: string;
  emitter: string;
  /** TimestampClient. */
  time: string;
  hop: number;
  /** Each use with the PEM its version binds to (null: no known producer). */
  uses: Array<{ name: string; producer: string | null }>;
  produces: string[];
}

/** A model artifact upstream of the target, with its producer and the trainings behind it. */
export interface ModelFinding {
  name: string;
  /** The PEM that produced this version of the model. */
  producer: string | null;
  hop: number;
  /** The nearest training PEMs upstream of the model (its producer when that is a training) and their emitters. */
  trainedBy: { pems: string[]; emitters: string[] };
}

/** A data source upstream of the target: an artifact with no known producer, or one the roles call a source. */
export interface SourceFinding {
  name: string;
  /** Which PEMs in the answer used it. */
  usedBy: string[];
  hop: number;
  /** `no-producer`: no known PEM produced it before its use; otherwise the role pattern that made it a source. */
  reason: 'no-producer' | 'source-name' | 'source-type';
}

/** The answer to "why did this happen": ordered steps, models, trainings, sources, gaps and assumptions. */
export interface Explanation {
  /** Key of the target node (`pem:<id>` or `artifact:<producer>:<name>`). */
  target: string;
  /** Oldest first (by TimestampClient, then farthest hop first). */
  steps: ExplainStep[];
  models: ModelFinding[];
  trainings: ExplainStep[];
  sources: SourceFinding[];
  gaps: LineageGap[];
  truncated: Truncation | null;
  /** What the answer rests on beyond the PEMs themselves. */
  assumptions: string[];
  /** The walk this explanation tells, for the exporters. */
  lineage: LineageResult;
}

/** Explains target from the index: walks upstream and tells the steps, models, trainings, sources and gaps. */
export function explainLineage(index: LineageIndex, target: LineageStart, options: ExplainOptions = {}): Explanation {
  const roles = roleMatchers('Explaining lineage', options.roles);
  const { roles: _roles, ...walkOptions } = options;
  const lineage = walkUpstream(index, target, walkOptions);
  const pems = lineage.nodes.filter((node): node is PemNode => node.kind === 'pem' && !node.missing);
  const artifacts = lineage.nodes.filter((node): node is ArtifactNode => node.kind === 'artifact');

  const steps: ExplainStep[] = pems
    .map((node) => {
      const slot = index.slotOf(node.id);
      const uses = [];
      for (let i = 0; i < index.usesCount(slot); i++) {
        const artifact = index.useAt(slot, i);
        const producer = bindUse(index, slot, artifact);
        uses.push({ name: index.artifactName(artifact), producer: producer >= 0 ? index.idOf(producer) : null });
      }
      return { pem: node.id, type: node.type ?? '', emitter: node.emitter ?? '', time: node.time ?? '', hop: node.hop, uses, produces: node.produces };
    })
    .sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : b.hop - a.hop || (a.pem < b.pem ? -1 : 1)));
  const stepOf = new Map(steps.map((step) => [step.pem, step]));

  // Who points at whom in the answer, walking backwards in time.
  const sourcesOf = new Map<string, string[]>();
  const usersOf = new Map<string, string[]>();
  for (const edge of lineage.edges) {
    push(sourcesOf, edge.to, edge.from);
    if (edge.kind === 'used') push(usersOf, edge.from, edge.to.slice('pem:'.length));
  }
  const isTraining = (id: string) => {
    const step = stepOf.get(id);
    return step !== undefined && roles.trainingType(step.type);
  };

  const models: ModelFinding[] = artifacts
    .filter((node) => roles.modelName(node.name) || (node.producer !== null && roles.modelProducerType(stepOf.get(node.producer)?.type ?? '')))
    .map((node) => {
      const trainers = node.producer ? nearestTrainings(`pem:${node.producer}`, sourcesOf, isTraining) : [];
      return {
        name: node.name,
        producer: node.producer,
        hop: node.hop,
        trainedBy: { pems: trainers, emitters: [...new Set(trainers.map((id) => stepOf.get(id)!.emitter))] },
      };
    });

  const sources: SourceFinding[] = [];
  for (const node of artifacts) {
    const usedBy = usersOf.get(node.key) ?? [];
    const reason: SourceFinding['reason'] | undefined =
      node.producer === null
        ? 'no-producer'
        : roles.sourceName(node.name)
          ? 'source-name'
          : usedBy.some((id) => roles.sourceType(stepOf.get(id)?.type ?? ''))
            ? 'source-type'
            : undefined;
    if (reason) sources.push({ name: node.name, usedBy, hop: node.hop, reason });
  }

  const assumptions: string[] = [ASSUMPTIONS.clientClocks];
  if (lineage.truncated) assumptions.push(`the walk was cut (${lineage.truncated.reason}): steps beyond it are not shown; resume from lineage.cursor`);
  return {
    target: lineage.start,
    steps,
    models,
    trainings: steps.filter((step) => roles.trainingType(step.type)),
    sources,
    gaps: lineage.gaps,
    truncated: lineage.truncated,
    assumptions,
    lineage,
  };
}

/**
 * The nearest trainings upstream of a model's producer: breadth first over PEMs (a hop is a
 * Predecessor or a bound use, as in the walk), stopping at the first hop that holds a training;
 * the trainings at that hop are the answer (a farther one reached around them is not).
 */
function nearestTrainings(start: string, sourcesOf: Map<string, string[]>, isTraining: (id: string) => boolean): string[] {
  const upstreamPems = (pem: string): string[] => {
    const out: string[] = [];
    for (const from of sourcesOf.get(pem) ?? []) {
      if (from.startsWith('pem:')) out.push(from);
      else for (const producer of sourcesOf.get(from) ?? []) out.push(producer);
    }
    return out;
  };
  const seen = new Set([start]);
  let frontier = [start];
  while (frontier.length) {
    const found = frontier.filter((key) => isTraining(key.slice(4)));
    if (found.length) return found.map((key) => key.slice(4));
    const next: string[] = [];
    for (const key of frontier) {
      for (const from of upstreamPems(key)) {
        if (!seen.has(from)) {
          seen.add(from);
          next.push(from);
        }
      }
    }
    frontier = next;
  }
  return [];
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
