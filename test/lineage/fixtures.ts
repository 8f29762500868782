import { LineageIndex, type LineagePemInput, type StoredPem } from '../../src/index.js';

/** Hand-built stores for the lineage tests: readable IDs, one-second clocks. */

export interface PemSpec {
  type?: string;
  emitter?: string;
  /** Seconds after 2026-11-27 10:00:00 UTC. */
  t: number;
  /** Received this many seconds after t (default 0). */
  lag?: number;
  pred?: string | null;
  uses?: string[];
  produces?: string[];
  tag?: string;
  ns?: string;
}

const BASE = Date.UTC(2026, 10, 27, 10, 0, 0);

export function at(seconds: number): string {
  return new Date(BASE + seconds * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

export function stored(id: string, spec: PemSpec): StoredPem {
  const emitter = spec.emitter ?? 'pipeline';
  return {
    ID: id,
    Type: spec.type ?? id.replace(/\d+$/, ''),
    Predecessor: spec.pred ?? null,
    Emitter: emitter,
    TimestampClient: at(spec.t),
    TimestampReceived: at(spec.t + (spec.lag ?? 0)),
    Properties: {},
    Tag: spec.tag ?? '',
    TagNamespace: spec.ns ?? (spec.tag ? emitter : ''),
    UsesArtifacts: spec.uses ?? [],
    ProducesArtifacts: spec.produces ?? [],
  };
}

export function store(specs: Record<string, PemSpec>): { index: LineageIndex; pems: StoredPem[] } {
  const pems = Object.entries(specs).map(([id, spec]) => stored(id, spec));
  const index = new LineageIndex();
  index.addAll(pems as LineagePemInput[]);
  return { index, pems };
}

/**
 * The pipeline most tests use: ingest -> train -> deploy, then a retrain on new data and a second
 * deploy; a PEM that uses the model *before* the retrain must still bind to the first train.
 *
 *   t=0  ingest1  uses raw/a            produces data/v
 *   t=10 train1   uses data/v           produces model/m    (pred ingest1)
 *   t=20 deploy1  uses model/m          produces svc/prod   (pred train1, tag production)
 *   t=30 ingest2  uses raw/b            produces data/v
 *   t=40 train2   uses data/v           produces model/m    (pred ingest2)
 *   t=50 deploy2  uses model/m          produces svc/prod   (pred train2, tag production)
 */
export function pipeline() {
  return store({
    ingest1: { t: 0, uses: ['raw/a'], produces: ['data/v'] },
    train1: { t: 10, pred: 'ingest1', uses: ['data/v'], produces: ['model/m'], emitter: 'trainer' },
    deploy1: { t: 20, pred: 'train1', uses: ['model/m'], produces: ['svc/prod'], tag: 'production', ns: 'ml' },
    ingest2: { t: 30, uses: ['raw/b'], produces: ['data/v'] },
    train2: { t: 40, pred: 'ingest2', uses: ['data/v'], produces: ['model/m'], emitter: 'trainer' },
    deploy2: { t: 50, pred: 'train2', uses: ['model/m'], produces: ['svc/prod'], tag: 'production', ns: 'ml' },
  });
}
