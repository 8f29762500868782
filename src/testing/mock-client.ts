import { RKClient } from '../client.js';
import { requireText } from '../core/checks.js';
import type { Logger } from '../core/logger.js';
import type { TagRecord, PemPayload } from '../model/types.js';
import { MemoryReceiver } from './memory-receiver.js';

export { MOCK_PEM_SIZE_LIMIT } from './memory-receiver.js';

/**
 * The client RKClientFactory returns when RK_MOCK=true: an RKClient whose Receiver is in memory
 * (no I/O), so it checks, sizes, queues, counts and reports exactly as RKClient does; everything
 * sent is kept so tests can assert on it.
 */
export class MockRKClient extends RKClient {
  readonly #receiver: MemoryReceiver;

  constructor(emitterId: string, options: { logger?: Logger } = {}) {
    // The same first check and message as RKClient, before anything else is made.
    requireText('Creating RKClient', 'emitterId', emitterId, 'my-service');
    const receiver = new MemoryReceiver();
    super(MemoryReceiver.url, emitterId, { ...(options.logger ? { logger: options.logger } : {}), fetch: receiver.fetch });
    this.#receiver = receiver;
  }

  /** PEMs sent, in order, as their wire JSON. Resends of an already sent ID are not repeated. */
  get sentPems(): readonly PemPayload[] {
    return this.#receiver.pems;
  }

  /** Tags set, in order. */
  get tags(): readonly TagRecord[] {
    return this.#receiver.tags;
  }
}
