import type { PemPayload } from '../../src/index.js';

export const SAMPLE_PEM_ID = '0192f3a4b5c67d8e9f0a1b2c3d4e5f60';

/** A valid PEM as wire JSON, for tests that build or alter payloads by hand. */
export function samplePem(): PemPayload {
  return {
    ID: SAMPLE_PEM_ID,
    Type: 'ingest',
    Predecessor: null,
    Emitter: 'trainer',
    TimestampClient: '2026-11-27 22:06:40',
    Properties: {},
    Version: '2.0.0',
    Tag: 'latest',
    TagNamespace: 'trainer',
    UsesArtifacts: [],
    ProducesArtifacts: [],
  };
}
