import type { RKOptions } from '../core/options.js';
import { RKQuery } from '../query.js';
import { MemoryQuery } from './memory-query.js';
import type { MemoryReceiver } from './memory-receiver.js';
import type { MockRKClient } from './mock-client.js';

/**
 * An RKQuery that reads what a MockRKClient sent, from the same in-memory store: no I/O, the
 * client's real parsing and checks.
 *
 * ```ts
 * const rk = new MockRKClient('trainer');
 * const query = new MockRKQuery(rk);
 * ```
 */
export class MockRKQuery extends RKQuery {
  /** The in-memory Query service this client reads from. */
  readonly service: MemoryQuery;

  constructor(source: MockRKClient | MemoryReceiver, options: Omit<RKOptions, 'fetch' | 'outbox'> = {}) {
    const receiver = 'receiver' in source ? source.receiver : source;
    const service = new MemoryQuery(receiver);
    super(MemoryQuery.url, { ...options, fetch: service.fetch });
    this.service = service;
  }
}
