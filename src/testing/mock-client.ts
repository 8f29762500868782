import { checked, requireHexId, requireText } from '../core/checks.js';
import { RKError, RKHttpError, RKRejectedPemError, RKShutdownError, RKSizeLimitError } from '../core/errors.js';
import type { RKClientLike } from '../client.js';
import type { DeliveryReport, DeliveryStats, SendAck } from '../delivery/delivery.js';
import { DeliveryEmitter, type DeliveryEventName, type DeliveryListener } from '../delivery/events.js';
import { dropReasonOf } from '../delivery/pem-failures.js';
import { Tally } from '../delivery/tally.js';
import { consoleLogger, type Logger } from '../core/logger.js';
import type { CallOptions } from '../core/options.js';
import { Pem, prepareArtifact, formatTimestamp, type PreparePemOptions } from '../model/pem.js';
import { failure, success, type Result } from '../core/result.js';
import type { Artifact, ArtifactProperties, PemPayload, ReceiverInfo, TagRecord } from '../types.js';
import { VERSION } from '../core/version.js';

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
  readonly #tally = new Tally();
  readonly #events: DeliveryEmitter;
  #closing: Promise<DeliveryReport> | undefined;

  constructor(emitterId: string, options: { logger?: Logger } = {}) {
    this.emitterId = requireText('Creating RKClient', 'emitterId', emitterId, 'my-service');
    this.#logger = options.logger ?? consoleLogger;
    this.#events = new DeliveryEmitter(this.#logger);
  }

  preparePem(type: string, options?: PreparePemOptions): Pem {
    return Pem.prepare(this.emitterId, type, options, this.#logger);
  }

  prepareArtifact(name: string, properties?: ArtifactProperties): Artifact {
    return prepareArtifact(name, properties);
  }

  async sendPem(pem: Pem | PemPayload, _call?: CallOptions): Promise<Result<SendAck>> {
    const operation = 'Sending PEM';
    if (this.#closing) {
      return this.#drop(new RKShutdownError(operation, 'the client is closed; create a new RKClient to send more PEMs'), undefined);
    }
    const prepared = checked(() => Pem.from(pem, this.#logger));
    if (prepared instanceof RKError) return this.#drop(prepared, undefined);
    const json = JSON.stringify(prepared);
    const size = Buffer.byteLength(json, 'utf8');
    if (size > MOCK_PEM_SIZE_LIMIT) return this.#drop(new RKSizeLimitError(operation, size, MOCK_PEM_SIZE_LIMIT), prepared.ID);
    // Same rule as the Receiver: an identical resend is a duplicate, different content is a conflict.
    const earlier = this.sentPems.find((sent) => sent.ID === prepared.ID);
    if (earlier && JSON.stringify(earlier) !== json) {
      const body = { message: `PEM ${prepared.ID} is already stored with different content`, code: 'conflict', field: 'ID' };
      const headers = new Headers({ 'content-type': 'application/json' });
      return this.#drop(new RKRejectedPemError(new RKHttpError(operation, 409, 'Conflict', body, headers)), prepared.ID);
    }
    const status = earlier ? 'duplicate' : 'accepted';
    if (!earlier) this.sentPems.push(JSON.parse(json) as PemPayload);
    this.#tally.attempts++;
    this.#tally.delivered++;
    if (earlier) this.#tally.duplicates++;
    this.#events.emit('delivered', { ID: prepared.ID, status, attempts: 1, fromOutbox: false });
    return success({ ID: prepared.ID, status });
  }

  /** Nothing is ever pending in the mock: resolves at once. */
  async flush(_options?: { timeoutMs?: number }): Promise<DeliveryReport> {
    return { delivered: 0, persisted: 0, failed: 0, pending: 0, timedOut: false };
  }

  /** Refuses later sends with RKShutdownError, like RKClient; every call returns the same promise. */
  close(options?: { timeoutMs?: number }): Promise<DeliveryReport> {
    this.#closing ??= this.flush(options);
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The same counters as RKClient.stats(): every valid send is one attempt, delivered at once. */
  stats(): DeliveryStats {
    const t = this.#tally;
    return {
      attempts: t.attempts,
      retries: 0,
      retriesDenied: 0,
      delivered: t.delivered,
      duplicates: t.duplicates,
      persisted: 0,
      failed: t.failed,
      dropped: { ...t.dropped },
      outboxWriteErrors: 0,
      pending: 0,
      pendingBytes: 0,
      inFlight: 0,
      retryBudget: undefined,
      outbox: undefined,
      closed: this.#closing !== undefined,
    };
  }

  on<E extends DeliveryEventName>(event: E, listener: DeliveryListener<E>): () => void {
    return this.#events.on(event, listener);
  }

  #drop(error: RKError, ID: string | undefined): Result<never> {
    const reason = dropReasonOf(error);
    this.#tally.drop(reason);
    this.#events.emit('drop', { ID, reason, error });
    return failure(error);
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
