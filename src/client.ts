import { checked, guarded, readCallOptions, requireHexId, requireText, whole } from './core/checks.js';
import { RKError, RKInvalidInputError, RKSizeLimitError, RKUnexpectedResponseError } from './core/errors.js';
import type { CallOptions, RKOptions } from './core/options.js';
import { pemAckOf, tagAckOf, type TagAck, type TagSent } from './core/replies.js';
import { failure, type Result } from './core/result.js';
import { Service } from './core/service.js';
import { readOptions, resolveSettings, type Settings } from './core/settings.js';
import { VERSION } from './core/version.js';
import { activeTraceparent, loadTelemetry } from './core/telemetry.js';
import { Delivery, DEFAULT_MAX_IN_FLIGHT, QUEUE_DEFAULTS, type DeliveryReport, type DeliveryStats, type SendAck } from './delivery/delivery.js';
import type { DeliveryEventName, DeliveryListener } from './delivery/events.js';
import { resolveOutboxOptions } from './delivery/outbox/options.js';
import type { OutboxControl } from './delivery/outbox/outbox.js';
import { receiver as facts } from './generated/facts.js';
import { receiverOperations } from './generated/operations.js';
import type { operations as ReceiverOperations } from './generated/receiver.js';
import type { CallArguments, OperationValue } from './core/operation-types.js';
import { limitedText, Pem, prepareArtifact, type PreparePemOptions } from './model/pem.js';
import type { Artifact, ArtifactProperties, PemPayload, PemProperties, ReceiverInfo } from './model/types.js';
import { tagBase64 } from './wire/tag-segments.js';

/**
 * `Symbol.asyncDispose` for the declarations, whatever the user's `lib`: `[Symbol.asyncDispose]()`
 * below (what `await using` calls) would otherwise need `lib: esnext` or `@types/node` under
 * `skipLibCheck: false`. It is the declaration lib.esnext and @types/node make, so it merges with
 * theirs; at run time the symbol is the runtime's own (Node 20+, Bun, Deno, recent browsers).
 */
declare global {
  interface SymbolConstructor {
    /** The method `await using` calls at the end of the scope. */
    readonly asyncDispose: unique symbol;
  }
}

/** What RKClient and its mock (RKClientFactory with RK_MOCK=true) both offer. */
export interface RKClientLike {
  readonly emitterId: string;
  /** A new PEM of this event type from this emitter, with a fresh ID; add artifacts, then send it. Throws RKInvalidInputError for bad input. */
  preparePem<P extends object = PemProperties>(type: string, options?: PreparePemOptions<P>): Pem<P>;
  /** An artifact for `pem.usesArtifact` / `pem.producesArtifact`; properties are strings. */
  prepareArtifact(name: string, properties?: ArtifactProperties): Artifact;
  /** Sends a PEM (with retries, and through the outbox when there is one); resolves with the acknowledgement or a typed error, never rejects. */
  sendPem(pem: Pem<object> | PemPayload, call?: SendOptions): Promise<Result<SendAck>>;
  /** Points the tag `tagName` in `namespace` at this PEM (or PEM ID). */
  setTag(namespace: string, tagName: string, pem: Pem<object> | string, call?: CallOptions): Promise<Result<TagAck>>;
  /** The Receiver's version, PEM size limit and whether it needs a credential. */
  getInfo(call?: CallOptions): Promise<Result<ReceiverInfo>>;
  /** Waits until every pending PEM is settled, or `timeoutMs`; never rejects. */
  flush(options?: { timeoutMs?: number }): Promise<DeliveryReport>;
  /** Stops accepting PEMs, flushes, and at the deadline cancels what is left. */
  close(options?: { timeoutMs?: number }): Promise<DeliveryReport>;
  /** close(), for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
  /** Counters of this client: attempts, retries, deliveries, drops by reason, outbox size. */
  stats(): DeliveryStats;
  /** Listens to 'retry', 'persisted', 'delivered' or 'drop'; returns the function that stops listening. */
  on<E extends DeliveryEventName>(event: E, listener: DeliveryListener<E>): () => void;
}

/** One finding of a check run before sending; RKLineage's lint findings are of this shape. */
export interface LintFindingLike {
  code: string;
  severity: 'error' | 'warning' | 'info';
  message: string;
}

/** A check of a PEM before it is sent (`lineage.linter()` makes one from an RKLineage index). */
export type PemLint = (pem: PemPayload) => readonly LintFindingLike[];

/** sendPem's per-call options: CallOptions plus the opt-in lint. */
export interface SendOptions extends CallOptions {
  /** Checked before sending; an `error` finding refuses the PEM (nothing is sent), warnings are logged. */
  lint?: PemLint | undefined;
}

/** Deadline of each sendPem attempt (connect, headers and body) when `timeoutMs` is not set. */
export const DEFAULT_SEND_ATTEMPT_TIMEOUT_MS = 10_000;

type ReceiverService = Service<ReceiverOperations, typeof receiverOperations>;

/**
 * Emits PEMs to a Record Keeper Receiver and moves tags.
 *
 * Every network method resolves to a `Result` (`{ ok: true, value }` or `{ ok: false, error }`)
 * and never rejects; `close()` waits for PEMs still being sent.
 *
 * @example
 * ```ts
 * import { RKClient } from 'recordkeeper-client';
 *
 * const rk = new RKClient('http://127.0.0.1:8082/receiver', 'churn-pipeline', { pucAuth: process.env.RK_PUC_AUTH });
 * const pem = rk.preparePem('train', { properties: { epochs: 10 } });
 * pem.usesArtifact(rk.prepareArtifact('dataset-a', { uri: 's3://bucket/a.csv' }));
 * pem.producesArtifact(rk.prepareArtifact('model-a'));
 * const sent = await rk.sendPem(pem);
 * if (!sent.ok) console.error(sent.error.message);
 * const tagged = await rk.setTag('churn-pipeline', 'production', pem);
 * if (!tagged.ok) console.error(tagged.error.message);
 * await rk.close();
 * ```
 */
export class RKClient implements RKClientLike {
  /** This package's version. */
  static readonly version = VERSION;
  readonly emitterId: string;
  readonly #receiver: ReceiverService;
  readonly #delivery: Delivery;
  readonly #settings: Settings;
  readonly #traceContext: boolean;
  #readingSizeLimit = false;
  #knownSizeLimit: number | undefined;

  /**
   * @param receiverUrl the Receiver's base URL, e.g. `http://127.0.0.1:8082/receiver/`
   * @param emitterId who emits the events (a service or pipeline name); the default tag namespace
   */
  constructor(receiverUrl: string, emitterId: string, options: RKOptions = {}) {
    const creating = 'Creating RKClient';
    this.emitterId = requireText(creating, 'emitterId', emitterId, 'my-service');
    const given = readOptions(creating, options);
    this.#settings = resolveSettings(creating, given, facts.headers, 'undici');
    this.#receiver = new Service('Receiver', receiverUrl, receiverOperations, facts.headers, this.#settings);
    this.#delivery = guarded(creating, 'options', () => createDelivery(this.#receiver, this.#settings, given));
    this.#traceContext = given.traceContext === true;
    // preparePem is synchronous: the API is looked for now, so the first PEM can be stamped.
    if (this.#traceContext) void loadTelemetry();
  }

  /**
   * A new PEM of this event type from this emitter, with a fresh ID. Throws RKInvalidInputError
   * for bad input. `P` types its properties: `rk.preparePem<TrainRun>('train', { properties })`.
   */
  preparePem<P extends object = PemProperties>(type: string, options?: PreparePemOptions<P>): Pem<P> {
    const traceparent = this.#traceContext ? activeTraceparent() : undefined;
    if (traceparent !== undefined) options = { ...options, properties: { ...(options?.properties ?? {}), traceparent } as P };
    return Pem.prepare<P>(this.emitterId, type, options, this.#settings.logger);
  }

  /** An artifact for `pem.usesArtifact` / `pem.producesArtifact`; properties are strings. */
  prepareArtifact(name: string, properties?: ArtifactProperties): Artifact {
    return prepareArtifact(name, properties);
  }

  /**
   * Sends the PEM and resolves with exactly one of: the Receiver's acknowledgement (`accepted`, or
   * `duplicate` when an earlier call stored it), `persisted` (with an outbox: on disk, delivered
   * later), or a typed error. Transient failures (408, 429, 5xx, connection, timeout) are retried
   * with backoff under the retry budget and `retry.totalTimeoutMs`; every attempt carries the PEM
   * ID as `Idempotency-Key`, so a resend is stored once. A PEM larger than the Receiver's
   * `pem_size_limit` is refused before sending once the limit is known: it is read from `/info`
   * in the background when the first PEM is sent (or taken from `getInfo`), and until it is known
   * the Receiver's own check answers, as RKPemTooLargeError (413).
   */
  async sendPem(pem: Pem<object> | PemPayload, call?: SendOptions): Promise<Result<SendAck>> {
    const operation = 'Sending PEM';
    // The whole payload and the call options are checked now, when the PEM is sent: a Pem changed
    // after preparePem (its ID, its artifacts) is checked again like any wire JSON.
    const input = checked(
      () => ({
        prepared: Pem.from(pem, this.#settings.logger),
        call: readCallOptions(operation, call),
        lint: guarded(operation, 'lint', () => (call === undefined ? undefined : (call as SendOptions).lint)),
      }),
      operation,
      'pem',
    );
    if (input instanceof RKError) return this.#delivery.refuse(input);
    const prepared = input.prepared;
    if (input.lint !== undefined) {
      const refused = this.#lint(operation, prepared, input.lint);
      if (refused) return this.#delivery.refuse(refused, prepared.ID);
    }
    call = input.call;
    const json = JSON.stringify(prepared);
    const size = utf8Length(json);
    return this.#delivery.send({ ID: prepared.ID, json, bytes: size }, call, (mayAsk, shutdown) => {
      const limit = this.#knownSizeLimit;
      if (limit !== undefined) return size > limit ? new RKSizeLimitError(operation, size, limit) : undefined;
      // While the outbox knows the Receiver is down, nothing is asked of it.
      if (mayAsk) this.#learnSizeLimit(shutdown);
      return undefined;
    });
  }

  /**
   * Opt-in checks before sending (`sendPem(pem, { lint: lineage.linter() })`): findings of severity
   * `error` refuse the PEM with RKInvalidInputError naming each; warnings go to the logger.
   */
  #lint(operation: string, pem: Pem, lint: PemLint): RKInvalidInputError | undefined {
    if (typeof lint !== 'function') {
      return new RKInvalidInputError(operation, 'lint', 'must be a function of the PEM returning findings, e.g. lineage.linter()');
    }
    let findings: readonly LintFindingLike[];
    try {
      findings = lint(pem.toJSON());
    } catch (error) {
      return new RKInvalidInputError(operation, 'lint', `threw (${error instanceof Error ? error.message : String(error)}); the PEM was not sent`);
    }
    for (const finding of findings) {
      if (finding.severity !== 'error') this.#settings.logger.warn(`lint ${finding.code} for PEM ${pem.ID}: ${finding.message}`);
    }
    const errors = findings.filter((finding) => finding.severity === 'error');
    if (errors.length === 0) return undefined;
    return new RKInvalidInputError(
      operation,
      'pem',
      `failed lint: ${errors.map((finding) => `${finding.code}: ${finding.message}`).join('; ')}; fix the PEM or send it without lint`,
    );
  }

  /**
   * Waits until every pending PEM is delivered or settled and the outbox is empty, or until
   * `timeoutMs` (default 30 000). PEMs sent meanwhile are waited for too. Never rejects: resolves
   * with what settled meanwhile and what is still pending.
   */
  flush(options?: { timeoutMs?: number }): Promise<DeliveryReport> {
    return this.#delivery.flush(options);
  }

  /**
   * Stops accepting PEMs, flushes for up to `timeoutMs` (default 10 000), then cancels waits and
   * in-flight requests. Unsent PEMs stay in the outbox when there is one; otherwise they fail with
   * RKShutdownError and are counted. Every call returns the same promise.
   */
  close(options?: { timeoutMs?: number }): Promise<DeliveryReport> {
    return this.#delivery.close(options);
  }

  /** `await using rk = new RKClient(...)` closes the client at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Counters (attempts, retries, delivered, duplicates, drops by reason) and the outbox's state. */
  stats(): DeliveryStats {
    return this.#delivery.stats();
  }

  /** Subscribes to delivery events (`retry`, `persisted`, `delivered`, `drop`, `paused`, `resumed`); returns the unsubscribe. */
  on<E extends DeliveryEventName>(event: E, listener: DeliveryListener<E>): () => void {
    return this.#delivery.on(event, listener);
  }

  /** The outbox's dead letters, replay, purge and resume; undefined without `outbox`. */
  get outbox(): OutboxControl | undefined {
    return this.#delivery.outbox;
  }

  /**
   * Points the tag `tagName` in `namespace` at the PEM (or PEM ID). Any 2xx is success: the value
   * is what was set, with `UpdatedAt` when the Receiver's answer carries it (our local RK's does;
   * the real Record Keeper's answer is not public).
   */
  setTag(namespace: string, tagName: string, pem: Pem<object> | string, call?: CallOptions): Promise<Result<TagAck>> {
    const operation = 'Setting tag';
    let sent: TagSent | undefined;
    return this.#receiver.run(
      'setTag',
      () => {
        const tag: TagSent = {
          NamespaceID: limitedText(operation, 'namespace', namespace, 'my-service', 'Pem', 'TagNamespace'),
          Tag: limitedText(operation, 'tagName', tagName, 'production', 'Pem', 'Tag'),
          EventID: requireHexId(operation, 'pem', pem instanceof Pem ? pem.ID : pem),
        };
        sent = tag;
        return { path: { ns_b64: tagBase64(tag.NamespaceID), tag_b64: tagBase64(tag.Tag), pem_id: tag.EventID } };
      },
      call,
      {
        operation,
        // Byte for byte the reference client's request: the base64 tag name as the body, under the
        // JSON content type (it is not JSON; the real Record Keeper accepts it).
        serialized: () => tagBase64(sent!.Tag),
        // Any 2xx sets the tag: the real Receiver's answer is not public.
        read: ({ text }) => tagAckOf(sent!, text),
      },
    );
  }

  /**
   * Any operation of the Receiver spec by its operationId, typed from the generated code, with the
   * same retries, credential, deadlines, errors and never-rejecting Result as every method here:
   * `rk.call('getReceiverInfo')`. sendPem stays the way to send PEMs (queue, outbox, size check).
   */
  call<Id extends keyof ReceiverOperations & keyof typeof receiverOperations>(
    operationId: Id,
    ...args: CallArguments<ReceiverOperations[Id]>
  ): Promise<Result<OperationValue<ReceiverOperations[Id], (typeof receiverOperations)[Id]>>> {
    return this.#receiver.call(operationId, args[0], args[1]);
  }

  /** The Receiver's version, PEM version, size limit and auth flags. */
  async getInfo(call?: CallOptions): Promise<Result<ReceiverInfo>> {
    const info = await this.#readInfo(call, {});
    if (info.ok) this.#knownSizeLimit = info.value.pem_size_limit;
    return info;
  }

  async #readInfo(call: CallOptions | undefined, how: { retry?: boolean }): Promise<Result<ReceiverInfo>> {
    const operation = 'Reading Receiver info';
    const info = await this.#receiver.run('getReceiverInfo', () => ({}), call, { operation, ...(how.retry === false ? { retry: false } : {}) });
    if (info.ok && !(typeof info.value.pem_size_limit === 'number' && info.value.pem_size_limit > 0)) {
      return failure(new RKUnexpectedResponseError(operation, 200, 'pem_size_limit is not a positive number', JSON.stringify(info.value)));
    }
    return info;
  }

  /**
   * Reads the limit once, in the background: no PEM waits for /info. A failed read is tried again
   * by the next send; meanwhile the Receiver enforces the limit itself (413). Best effort, so never
   * retried, and not tied to any one call's signal; closing the client cancels it.
   */
  #learnSizeLimit(shutdown: AbortSignal): void {
    if (this.#readingSizeLimit) return;
    this.#readingSizeLimit = true;
    void this.#readInfo({ signal: shutdown }, { retry: false }).then((info) => {
      this.#readingSizeLimit = false;
      if (info.ok) this.#knownSizeLimit = info.value.pem_size_limit;
      else this.#settings.logger.debug?.(`pem_size_limit unknown, sending without the size check: ${info.error.message}`);
    });
  }
}

/**
 * The UTF-8 length of a string without encoding it. JSON.stringify escapes lone surrogates, so a
 * surrogate here is half of a pair: 4 bytes for the two code units.
 */
export function utf8Length(text: string): number {
  if (!NON_ASCII.test(text)) return text.length;
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2;
      i++;
    } else bytes += 2; // three bytes, a lone surrogate too (TextEncoder writes U+FFFD)
  }
  return bytes;
}

const NON_ASCII = /[^\x00-\x7f]/;

/** The delivery layer of one RKClient: its own options checked here, once; the rest from Settings. */
function createDelivery(receiver: ReceiverService, settings: Settings, options: RKOptions): Delivery {
  const creating = 'Creating RKClient';
  const operation = 'Sending PEM';
  const queue = options.queue ?? {};
  const { idempotencyKey, attempt: attemptHeader } = facts.headers;
  return new Delivery({
    operation,
    url: receiver.transport.shownUrl,
    settings,
    attemptTimeoutMs: settings.timeoutGiven ? settings.timeoutMs : DEFAULT_SEND_ATTEMPT_TIMEOUT_MS,
    maxInFlight: whole(creating, 'maxInFlight', options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT, 1, 10_000),
    queue: {
      maxEntries: whole(creating, 'queue.maxEntries', queue.maxEntries ?? QUEUE_DEFAULTS.maxEntries, 1, 1e9),
      maxBytes: whole(creating, 'queue.maxBytes', queue.maxBytes ?? QUEUE_DEFAULTS.maxBytes, 1, Number.MAX_SAFE_INTEGER),
    },
    outbox: options.outbox === undefined ? undefined : resolveOutboxOptions(creating, options.outbox, settings.retry.baseDelayMs),
    traced: receiverOperations.sendPem,
    post: (pem, attempt, timeoutMs, signals) =>
      receiver.attempt(
        'sendPem',
        operation,
        { timeoutMs, signals, headers: { [idempotencyKey]: pem.ID, [attemptHeader]: String(attempt) }, sizeBytes: pem.bytes },
        // The body is already serialized: the outbox keeps exact bytes, never a re-encoding.
        pem.json,
        // Any 2xx stores the PEM, whatever the body says (the real Receiver's answer is not public).
        ({ text }) => pemAckOf(pem.ID, text),
      ),
  });
}
