import type { LineageSource } from '../loader.js';
import { registerReplicaEngine } from '../engine.js';
import { ReplicaEngine } from './replica-engine.js';

/**
 * The replica engine's public names, and its registration: importing this module makes
 * `new RKLineage(query, { replica: { dir } })` and `--engine replica` work.
 */

export { ReplicaEngine, type ReplicaOptions } from './replica-engine.js';
export { syncReplica, type SyncOptions, type SyncReport } from './sync.js';
export { ReplicaStore, type SyncState } from './store.js';

registerReplicaEngine(({ dir, source }) => ReplicaEngine.open({ dir, source: (source ?? null) as LineageSource | null }));
