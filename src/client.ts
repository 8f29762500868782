import { checked, requireHexId, requireText } from './checks.js';
import { RKError, RKSizeLimitError, RKUnexpectedResponseError } from './errors.js';
import type { paths } from './generated/receiver.js';
import type { CallOptions, RKOptions } from './options.js';
import { Pem, prepareArtifact, type PreparePemOptions } from './pem.js';
import { failure, type Result } from './result.js';
import { encodeTagSegment } from './tag-encoding.js';
import { Transport } from './transport.js';
import type { Artifact, ArtifactProperties, PemAck, PemPayload, ReceiverInfo, TagRecord } from './types.js';
import { expectObject } from './responses.js';
import { VERSION } from './version.js';

/** What RKClient and its mock (RKClientFactory with RK_MOCK=true) both offer. */
export interface RKClientLike {
  readonly emitterId: string;
  preparePem(type: string, options?: PreparePemOptions): Pem;
  prepareArtifact(name: string, properties?: ArtifactProperties): Artifact;
  sendPem(pem: Pem | PemPayload, call?: CallOptions): Promise<Result<PemAck>>;
  setTag(namespace: string, tagName: string, pem: Pem | string, call?: CallOptions): Promise<Result<TagRecord>>;
  getInfo(call?: CallOptions): Promise<Result<ReceiverInfo>>;
}

/** Emits PEMs to a Record Keeper Receiver and moves tags. */
export class RKClient implements RKClientLike {
  /** This package's version. */
  static readonly version = VERSION;
  readonly emitterId: string;
  readonly #receiver: Transport<paths>;
  #sizeLimit: Promise<number | undefined> | undefined;

  /**
   * @param receiverUrl the Receiver's base URL, e.g. `http://127.0.0.1:8082/receiver/`
   * @param emitterId who emits the events (a service or pipeline name); the default tag namespace
   */
  constructor(receiverUrl: string, emitterId: string, options: RKOptions = {}) {
    this.emitterId = requireText('Creating RKClient', 'emitterId', emitterId, 'my-service');
    this.#receiver = new Transport<paths>('Receiver', receiverUrl, options);
  }

  preparePem(type: string, options?: PreparePemOptions): Pem {
    return Pem.prepare(this.emitterId, type, options, this.#receiver.logger);
  }

  prepareArtifact(name: string, properties?: ArtifactProperties): Artifact {
    return prepareArtifact(name, properties);
  }

  /**
   * Sends the PEM. A PEM larger than the Receiver's `pem_size_limit` is refused before sending;
   * the limit is read from `/info` once per client. Resending the same PEM is safe: the Receiver
   * answers `duplicate`.
   */
  async sendPem(pem: Pem | PemPayload, call?: CallOptions): Promise<Result<PemAck>> {
    const operation = 'Sending PEM';
    const prepared = checked(() => Pem.from(pem, this.#receiver.logger));
    if (prepared instanceof RKError) return failure(prepared);
    const json = JSON.stringify(prepared);
    const limit = await this.#pemSizeLimit(call);
    const size = Buffer.byteLength(json, 'utf8');
    if (limit !== undefined && size > limit) return failure(new RKSizeLimitError(operation, size, limit));
    return this.#receiver.run(
      operation,
      call,
      (init) => this.#receiver.api.POST('/pem', { body: prepared, bodySerializer: () => json, ...init }),
      (data, response) => expectObject<PemAck>(operation, data, response, ['ID', 'status']),
    );
  }

  /** Points the tag `tagName` in `namespace` at the PEM (or PEM ID). */
  async setTag(namespace: string, tagName: string, pem: Pem | string, call?: CallOptions): Promise<Result<TagRecord>> {
    const operation = 'Setting tag';
    const path = checked(() => ({
      ns_b64: encodeTagSegment(requireText(operation, 'namespace', namespace, 'my-service')),
      tag_b64: encodeTagSegment(requireText(operation, 'tagName', tagName, 'production')),
      pem_id: requireHexId(operation, 'pem', pem instanceof Pem ? pem.ID : pem),
    }));
    if (path instanceof RKError) return failure(path);
    return this.#receiver.run(
      operation,
      call,
      (init) =>
        this.#receiver.api.POST('/tag/{ns_b64}/{tag_b64}/{pem_id}', {
          params: { path },
          // The Receiver ignores the body; the reference client sends the base64 tag name.
          body: path.tag_b64,
          bodySerializer: String,
          headers: { 'Content-Type': 'text/plain' },
          ...init,
        }),
      (data, response) => expectObject<TagRecord>(operation, data, response, ['NamespaceID', 'Tag', 'EventID', 'UpdatedAt']),
    );
  }

  /** The Receiver's version, PEM version, size limit and auth flags. */
  async getInfo(call?: CallOptions): Promise<Result<ReceiverInfo>> {
    const operation = 'Reading Receiver info';
    const info = await this.#receiver.run(
      operation,
      call,
      (init) => this.#receiver.api.GET('/info', init),
      (data, response) =>
        expectObject<ReceiverInfo>(operation, data, response, ['version', 'pem_version', 'pem_size_limit', 'auth_required', 'pem_auth_required']),
    );
    if (info.ok && !(typeof info.value.pem_size_limit === 'number' && info.value.pem_size_limit > 0)) {
      return failure(new RKUnexpectedResponseError(operation, 200, 'pem_size_limit is not a positive number', JSON.stringify(info.value)));
    }
    return info;
  }

  /**
   * The limit, cached after the first successful read. When /info cannot be read the PEM is sent
   * anyway: the Receiver enforces the limit itself, and a failed read is tried again next time.
   */
  async #pemSizeLimit(call?: CallOptions): Promise<number | undefined> {
    this.#sizeLimit ??= this.getInfo(call).then((info) => {
      if (info.ok) return info.value.pem_size_limit;
      this.#sizeLimit = undefined;
      this.#receiver.logger.debug?.(`pem_size_limit unknown, sending without the size check: ${info.error.message}`);
      return undefined;
    });
    return this.#sizeLimit;
  }
}

