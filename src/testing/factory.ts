import { RKClient, type RKClientLike } from '../client.js';
import { MockRKClient } from './mock-client.js';
import type { RKOptions } from '../core/options.js';
import { environmentVariable } from '../core/environment.js';

/**
 * Makes the client to use: the real one, or the in-memory mock when `RK_MOCK` is `true` (any
 * case). Where there is no process environment (a browser, an edge runtime) it is the real one.
 */
export const RKClientFactory = {
  /** An RKClient, or a MockRKClient (no I/O) when the environment variable RK_MOCK is `true` in any case. */
  get(receiverUrl: string, emitterId: string, options: RKOptions = {}): RKClientLike {
    if (isMockRequested()) return new MockRKClient(emitterId, options.logger ? { logger: options.logger } : {});
    return new RKClient(receiverUrl, emitterId, options);
  },
};

function isMockRequested(): boolean {
  return environmentVariable('RK_MOCK')?.trim().toLowerCase() === 'true';
}
