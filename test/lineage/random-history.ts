import type { StoredPem } from '../../src/index.js';

/**
 * Random pipeline-shaped histories for the differential tests: ingest, train, evaluate and deploy
 * PEMs in bursts that share a second, chains through Predecessor (retrains follow older runs),
 * late PEMs whose clock is behind their Predecessor's, Predecessors never stored, uses of
 * artifacts nobody produced, and tags. Fixed seeds, so a failure reproduces.
 */

/** mulberry32: a small seeded generator. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BASE = Date.UTC(2026, 10, 27, 10, 0, 0);
const wire = (seconds: number) => new Date(BASE + seconds * 1000).toISOString().slice(0, 19).replace('T', ' ');

function hexId(next: () => number): string {
  let id = '';
  for (let i = 0; i < 32; i++) id += Math.floor(next() * 16).toString(16);
  return id;
}

export interface HistoryOptions {
  size: number;
  /** Prefix for artifact names, emitters and tag namespaces (several histories can share a store). */
  prefix?: string;
}

export function randomHistory(seed: number, options: HistoryOptions): StoredPem[] {
  const next = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const prefix = options.prefix ?? '';
  const names = ['raw/a', 'raw/b', 'data/v', 'data/test', 'model/m', 'model/x', 'ckpt', 'report'].map((n) => `${prefix}${n}`);
  const shapes = [
    { type: 'ingest', uses: [names[0]!, names[1]!], produces: [names[2]!, names[3]!] },
    { type: 'train', uses: [names[2]!, names[6]!], produces: [names[4]!, names[6]!] },
    { type: 'retrain', uses: [names[2]!, names[4]!], produces: [names[4]!, names[5]!] },
    { type: 'evaluate', uses: [names[4]!, names[3]!], produces: [names[7]!] },
    { type: 'deploy', uses: [names[4]!, names[5]!, names[7]!], produces: [] as string[] },
  ];
  const pems: StoredPem[] = [];
  let clock = 0;
  for (let i = 0; i < options.size; i++) {
    // Bursts: most PEMs share the second of the one before.
    if (next() < 0.35) clock += 1 + Math.floor(next() * 3);
    const shape = pick(shapes);
    let predecessor: string | null = null;
    const roll = next();
    if (pems.length && roll < 0.45) predecessor = pems[pems.length - 1]!.ID;
    else if (pems.length && roll < 0.65) predecessor = pick(pems).ID;
    else if (roll < 0.7) predecessor = hexId(next); // never stored
    // A late PEM: its clock is behind (up to 3 s before the newest).
    const t = next() < 0.1 ? Math.max(0, clock - 1 - Math.floor(next() * 3)) : clock;
    const uses = shape.uses.filter(() => next() < 0.7);
    const produces = shape.produces.filter(() => next() < 0.8);
    const tagged = shape.type === 'deploy' || (shape.type === 'train' && next() < 0.3);
    pems.push({
      ID: hexId(next),
      Type: shape.type,
      Predecessor: predecessor,
      Emitter: `${prefix}${shape.type === 'deploy' ? 'deployer' : 'pipeline'}`,
      TimestampClient: wire(t),
      TimestampReceived: wire(clock + Math.floor(next() * 2)),
      Properties: {},
      // RK gives every PEM a tag ("latest" by default): the untagged ones move their run's.
      Tag: tagged ? (shape.type === 'deploy' ? pick(['production', 'staging']) : 'candidate') : 'latest',
      TagNamespace: tagged ? `${prefix}ml` : `${prefix}runs`,
      UsesArtifacts: uses,
      ProducesArtifacts: produces,
    });
  }
  return pems;
}
