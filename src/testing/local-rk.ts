/**
 * Starting a real local Record Keeper (the `recordkeeper-local` package of this repository) from a
 * test suite. The package is optional and loaded only when this is called, so the test kit works
 * without it; the name is held in a variable so bundlers and TypeScript do not try to resolve it.
 */

/** The parts of `recordkeeper-local`'s server a test needs. */
export interface LocalRecordKeeper {
  /** Base URLs without a trailing slash, e.g. `http://127.0.0.1:40123/receiver`. */
  receiverUrl: string;
  queryUrl: string;
  graphBuilderUrl: string;
  port: number;
  /** Stops the server and closes its (in-memory) database. */
  stop(): Promise<void>;
}

/** Options passed through to recordkeeper-local's `startLocalRK`. */
export interface LocalRecordKeeperOptions {
  /** Default 0: a free port. */
  port?: number | undefined;
  /** Default true: nothing is written to disk. */
  memory?: boolean | undefined;
  /** Milliseconds between two Graph Builder runs. */
  graphIntervalMs?: number | undefined;
}

const PACKAGE = 'recordkeeper-local';

/**
 * Starts a local Record Keeper on a free port, in memory; `await rk.stop()` in `afterAll`.
 * Needs `recordkeeper-local` installed beside this package (see the README's "Testing" section).
 */
export async function startLocalRecordKeeper(options: LocalRecordKeeperOptions = {}): Promise<LocalRecordKeeper> {
  let server: { startLocalRK(options: Record<string, unknown>): Promise<LocalRecordKeeper> };
  try {
    server = (await import(/* @vite-ignore */ PACKAGE)) as typeof server;
  } catch (error) {
    throw new Error(
      `startLocalRecordKeeper needs the ${PACKAGE} package, which is not installed (${error instanceof Error ? error.message : String(error)}); ` +
        'install it from the recordkeeper-client repository (npm run pack:local there, then npm install --save-dev <that folder>/recordkeeper-local-<version>.tgz) ' +
        'or test against MockRKClient and MockRKQuery instead',
      { cause: error },
    );
  }
  return server.startLocalRK({ port: options.port ?? 0, memory: options.memory ?? true, ...(options.graphIntervalMs === undefined ? {} : { graphIntervalMs: options.graphIntervalMs }) });
}
