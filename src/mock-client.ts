import { checked, requireHexId, requireText } from './checks.js';
import { RKError, RKHttpError, RKSizeLimitError } from './errors.js';
import type { RKClientLike } from './client.js';
import { consoleLogger, type Logger } from './logger.js';
import type { CallOptions } from './options.js';
import { Pem, prepareArtifact, formatTimestamp, type PreparePemOptions } from './pem.js';
import { failure, success, type Result } from './result.js';
import type { Artifact, ArtifactProperties, PemAck, PemPayload, ReceiverInfo, TagRecord } from './types.js';
import { VERSION } from './version.js';

/** The size limit the mock advertises and enforces, as a Receiver would. */
export const MOCK_PEM_SIZE_LIMIT = 1024 * 1024;

/**
 * The client RKClientFactory returns when RK_MOCK=true: no I/O, success for every valid call, and
 * everything sent kept in memory so tests can assert on it. Input is checked exactly as RKClient
 * checks it, so a test against the mock catches the mistakes production would refuse.
 */
export class MockRKClient implements RKClientLike {
  readonly emitterId: string;
  /** PEMs sent, in order, as their wire JSON. Resends of an already sent ID are not repeated. */
  readonly sentPems: PemPayload[] = [];
  /** Tags set, in order. */
  readonly tags: TagRecord[] = [];
  readonly #logger: Logger;

  constructor(emitterId: string, options: { logger?: Logger } = {}) {
    this.emitterId = requireText('Creating RKClient', 'emitterId', emitterId, 'my-service');
    this.#logger = options.logger ?? consoleLogger;
  }

  preparePem(type: string, options?: PreparePemOptions): Pem {
    return Pem.prepare(this.emitterId, type, options, this.#logger);
  }

  prepareArtifact(name: string, properties?: ArtifactProperties): Artifact {
    return prepareArtifact(name, properties);
  }

  async sendPem(pem: Pem | PemPayload, _call?: CallOptions): Promise<Result<PemAck>> {
    const prepared = checked(() => Pem.from(pem, this.#logger));
    if (prepared instanceof RKError) return failure(prepared);
    const json = JSON.stringify(prepared);
    const size = Buffer.byteLength(json, 'utf8');
    if (size > MOCK_PEM_SIZE_LIMIT) return failure(new RKSizeLimitError('Sending PEM', size, MOCK_PEM_SIZE_LIMIT));
    // Same rule as the Receiver: an identical resend is a duplicate, different content is a conflict.
    const earlier = this.sentPems.find((sent) => sent.ID === prepared.ID);
    if (earlier && JSON.stringify(earlier) === json) return success({ ID: prepared.ID, status: 'duplicate' });
    if (earlier) {
      const body = { message: `PEM ${prepared.ID} is already stored with different content`, code: 'conflict', field: 'ID' };
      return failure(new RKHttpError('Sending PEM', 409, 'Conflict', body, new Headers({ 'content-type': 'application/json' })));
    }
    this.sentPems.push(JSON.parse(json) as PemPayload);
    return success({ ID: prepared.ID, status: 'accepted' });
  }

  async setTag(namespace: string, tagName: string, pem: Pem | string, _call?: CallOptions): Promise<Result<TagRecord>> {
    const operation = 'Setting tag';
    const record = checked(
      (): TagRecord => ({
        NamespaceID: requireText(operation, 'namespace', namespace, 'my-service'),
        Tag: requireText(operation, 'tagName', tagName, 'production'),
        EventID: requireHexId(operation, 'pem', pem instanceof Pem ? pem.ID : pem),
        UpdatedAt: formatTimestamp(new Date()),
      }),
    );
    if (record instanceof RKError) return failure(record);
    this.tags.push(record);
    return success(record);
  }

  async getInfo(_call?: CallOptions): Promise<Result<ReceiverInfo>> {
    return success({
      version: `mock-${VERSION}`,
      pem_version: '2.0.0',
      pem_size_limit: MOCK_PEM_SIZE_LIMIT,
      auth_required: false,
      pem_auth_required: false,
    });
  }
}
