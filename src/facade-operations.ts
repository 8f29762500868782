import type { graphBuilder, query, receiver } from './generated/facts.js';

/**
 * Which facade method makes each operation of the three specs: one table, read by the
 * reachability test (every operationId is wrapped or listed as call-only), the docs' TypeScript
 * samples (`x-codeSamples`) and the mock walk. The key sets are checked against the generated
 * facts at compile time: an operation added to a spec fails the build here until it is listed.
 *
 * `sample` is the TypeScript a user writes, with the facade in `rk` (RKClient), `query` (RKQuery)
 * or `admin` (RKAdmin); `callOnly` operations are reached through the typed `call(operationId, …)`.
 */
export interface FacadeEntry {
  readonly facade: 'RKClient' | 'RKQuery' | 'RKAdmin';
  /** The method's name, or undefined for an operation reached only through `call`. */
  readonly method: string | undefined;
  readonly sample: string;
}

type Table<Ops> = { readonly [K in keyof Ops]: FacadeEntry };

export const RECEIVER_OPERATIONS = {
  getReceiverInfo: { facade: 'RKClient', method: 'getInfo', sample: 'const info = await rk.getInfo();' },
  sendPem: {
    facade: 'RKClient',
    method: 'sendPem',
    sample: "const pem = rk.preparePem('ingest', { properties: { rows: 1200 } });\npem.producesArtifact(rk.prepareArtifact('dataset-a', { uri: 's3://bucket/a.csv' }));\nconst sent = await rk.sendPem(pem);",
  },
  setTag: { facade: 'RKClient', method: 'setTag', sample: "const tagged = await rk.setTag('my-service', 'production', pem);" },
} as const satisfies Table<(typeof receiver)['operations']>;

export const QUERY_OPERATIONS = {
  getQueryInfo: { facade: 'RKQuery', method: 'getInfo', sample: 'const info = await query.getInfo();' },
  getPem: { facade: 'RKQuery', method: 'getPem', sample: "const pem = await query.getPem('a606c8ea39a111eb8ad60a9a235141b0');" },
  listPems: { facade: 'RKQuery', method: 'getPems', sample: "const pems = await query.getPems({ pageSize: 50, filters: { Type: 'train' } });" },
  countPems: { facade: 'RKQuery', method: 'getPemsCount', sample: "const count = await query.getPemsCount({ Type: 'train' });" },
  listArtifacts: { facade: 'RKQuery', method: 'getArtifacts', sample: "const artifacts = await query.getArtifacts({ pageSize: 50, filters: { Name: 'model' } });" },
  countArtifacts: { facade: 'RKQuery', method: 'getArtifactsCount', sample: "const count = await query.getArtifactsCount({ filters: { Name: 'model' } });" },
  getTag: { facade: 'RKQuery', method: 'getTag', sample: "const pemId = await query.getTag('my-service', 'production');" },
  listTags: { facade: 'RKQuery', method: 'getTags', sample: 'const tags = await query.getTags();' },
  countTags: { facade: 'RKQuery', method: 'getTagsCount', sample: 'const count = await query.getTagsCount();' },
  readLineage: {
    facade: 'RKQuery',
    method: undefined,
    sample: "const reads = await query.call('readLineage', { body: { ids: ['0192f3a4b5c67d8e9f0a1b2c3d4e5f60'], walk: { direction: 'upstream', hops: 20 }, limit: 5000 } });",
  },
  queryGraph: { facade: 'RKQuery', method: 'queryGraph', sample: "const rows = await query.queryGraph('MATCH (a:Artifact) RETURN count(a);');" },
  verifyArtifactConnections: { facade: 'RKAdmin', method: 'artifactsVerifyConnections', sample: 'const reportId = await admin.artifactsVerifyConnections();' },
  removeUnconnectedArtifacts: {
    facade: 'RKAdmin',
    method: 'artifactsRemoveUnconnected',
    sample: "const removal = await admin.artifactsRemoveUnconnected('5f0c6c1e-2a4b-4c5d-9e8f-0a1b2c3d4e5f');",
  },
  getReport: { facade: 'RKAdmin', method: 'getReport', sample: "const report = await admin.getReport('5f0c6c1e-2a4b-4c5d-9e8f-0a1b2c3d4e5f');" },
  cleanDatabases: { facade: 'RKAdmin', method: 'cleanDbs', sample: 'const cleaned = await admin.cleanDbs();' },
} as const satisfies Table<(typeof query)['operations']>;

export const GRAPH_BUILDER_OPERATIONS = {
  getGraphInfo: { facade: 'RKAdmin', method: 'getGraphInfo', sample: 'const info = await admin.getGraphInfo();' },
  rebuildGraph: { facade: 'RKAdmin', method: 'graphRebuild', sample: 'const started = await admin.graphRebuild();' },
  flushGraph: { facade: 'RKAdmin', method: 'graphFlush', sample: 'const flushed = await admin.graphFlush({ timeoutMs: 120_000 });' },
  verifyGraph: { facade: 'RKAdmin', method: 'graphVerify', sample: 'const report = await admin.graphVerify({ checkPems: true, checkArtifacts: true });' },
} as const satisfies Table<(typeof graphBuilder)['operations']>;

/** Every operation of every spec, by service. */
export const FACADE_OPERATIONS = {
  receiver: RECEIVER_OPERATIONS,
  query: QUERY_OPERATIONS,
  graphBuilder: GRAPH_BUILDER_OPERATIONS,
} as const;
