import { RKClient } from '../client.js';
import { requireText } from '../core/checks.js';
import type { Logger } from '../core/logger.js';
import type { RKOptions } from '../core/options.js';
import type { TagRecord, PemPayload } from '../model/types.js';
import { MemoryReceiver, type InjectedFailure } from './memory-receiver.js';

export { MOCK_PEM_SIZE_LIMIT } from './memory-receiver.js';

/**
 * What a mock client accepts: the options of RKClient without the ones that pick where and how
 * requests go (`fetch`, `outbox`, credentials), since nothing leaves the process.
 */
export type MockRKClientOptions = Omit<RKOptions, 'fetch' | 'outbox' | 'insecure' | 'userAuth' | 'pucAuth'> & {
  /** Share one in-memory Receiver between clients (and a MockRKQuery). Default a new one. */
  receiver?: MemoryReceiver | undefined;
};

/**
 * The client RKClientFactory returns when RK_MOCK=true: an RKClient whose Receiver is in memory
 * (no I/O), so it checks, sizes, queues, counts and reports exactly as RKClient does; everything
 * sent is kept so tests can assert on it, and failures can be injected with `inject`.
 */
export class MockRKClient extends RKClient {
  readonly #receiver: MemoryReceiver;

  constructor(emitterId: string, options: MockRKClientOptions = {}) {
    // The same first check and message as RKClient, before anything else is made.
    requireText('Creating RKClient', 'emitterId', emitterId, 'my-service');
    const { receiver = new MemoryReceiver(), ...rest } = options;
    super(MemoryReceiver.url, emitterId, { ...rest, fetch: receiver.fetch });
    this.#receiver = receiver;
  }

  /** The in-memory Receiver this client sends to; give it to `new MockRKQuery(...)` to read back. */
  get receiver(): MemoryReceiver {
    return this.#receiver;
  }

  /** Makes the next request(s) fail: `{ status: 503 }`, `{ timeout: true }` or `{ rejectPem: 'why' }`. See MemoryReceiver.inject. */
  inject(failure: InjectedFailure): this {
    this.#receiver.inject(failure);
    return this;
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
