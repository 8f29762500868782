/**
 * `recordkeeper-client/testing`: the test kit for code that sends to or reads from Record Keeper.
 *
 * - `MockRKClient`: an RKClient over an in-memory Receiver, with failure injection (`inject`).
 * - `MockRKQuery`: an RKQuery reading the same in-memory store.
 * - `startLocalRecordKeeper`: a real local RK on a free port, for end-to-end tests.
 *
 * @module
 */
export { MockRKClient, MOCK_PEM_SIZE_LIMIT, type MockRKClientOptions } from './mock-client.js';
export { MockRKQuery } from './mock-query.js';
export { MemoryReceiver, type InjectedFailure } from './memory-receiver.js';
export { MemoryQuery } from './memory-query.js';
export { startLocalRecordKeeper, type LocalRecordKeeper, type LocalRecordKeeperOptions } from './local-rk.js';
