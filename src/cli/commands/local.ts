import { createServer } from 'node:net';
import { stringFlag, type Command, listFlag } from '../command.js';
import { CliError, EXIT, UsageError } from '../exit.js';
import { wholeFlag } from '../paging.js';

/** What `rk local` needs of recordkeeper-local's `startLocalRK`; the package is optional. */
interface LocalRK {
  receiverUrl: string;
  queryUrl: string;
  graphBuilderUrl: string;
  storage: { description: string };
  stop(): Promise<void>;
}
type StartLocalRK = (options: Record<string, unknown>) => Promise<LocalRK>;

const PACKAGE = 'recordkeeper-local';

export const local: Command = {
  name: 'local',
  summary: 'start a local Record Keeper and print the export lines to paste',
  usage: 'local [--port <n>] [--data-dir <dir>] [--user-token <t>]...',
  description:
    'Starts the Receiver, the Query service and the Graph Builder of recordkeeper-local on one port (data in memory unless --data-dir), prints their URLs and the export RK_... lines for another shell, and runs until Ctrl+C. ' +
    'Needs the recordkeeper-local package (the server/ workspace of the recordkeeper-client repository).',
  options: {
    port: { type: 'string', value: '<n>', description: 'port for all three services (default 8082; 0 picks a free one)' },
    host: { type: 'string', value: '<addr>', description: 'interface to listen on (default 127.0.0.1)' },
    'data-dir': { type: 'string', value: '<dir>', description: 'keep the data in this directory (default: in memory)' },
    'user-token': { type: 'string', multiple: true, value: '<token>', description: 'require credentials and accept this user token' },
  },
  examples: ['rk local', 'rk local --port 0 --data-dir ./.rk-data', 'rk local --port 0 --json   # one JSON line with the three URLs, for scripts'],
  async run(ctx) {
    const port = wholeFlag(ctx, 'port', 0) ?? 8082;
    if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
    const dataDir = stringFlag(ctx.values, 'data-dir');
    const userTokens = listFlag(ctx.values, 'user-token');
    ctx.out.hide([...ctx.config.secrets(), ...userTokens]);
    let start: StartLocalRK;
    try {
      const loaded = (await import(PACKAGE)) as { startLocalRK?: StartLocalRK };
      if (typeof loaded.startLocalRK !== 'function') throw new Error('no startLocalRK export');
      start = loaded.startLocalRK;
    } catch (error) {
      throw new CliError(
        EXIT.refused,
        `rk local needs the ${PACKAGE} package, which is not installed or not built (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
        `it is the server/ workspace of the recordkeeper-client repository: there run "npm ci && npm run build:all", then "npx rk local"`,
      );
    }
    const host = stringFlag(ctx.values, 'host') ?? '127.0.0.1';
    const options: Record<string, unknown> = { port, host, userTokens };
    if (dataDir !== undefined) options.dataDir = dataDir;
    else options.memory = true;
    let rk: LocalRK;
    try {
      // A port that cannot be listened on is refused before the database opens (a second or more
      // of work), with the error the server's own listen would give.
      const refused = port === 0 ? undefined : await listenRefusal(port, host);
      if (refused) throw refused;
      rk = await start(options);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const hint = /EADDRINUSE/.test(message) ? `port ${port} is taken: pass --port <another>, or --port 0 for a free one` : undefined;
      throw new CliError(EXIT.refused, `could not start the local Record Keeper: ${message}`, hint);
    }
    const urls = { receiver: rk.receiverUrl, query: rk.queryUrl, graphBuilder: rk.graphBuilderUrl };
    const out = ctx.out;
    if (out.json) out.record({ ...urls, storage: rk.storage.description, credentialsRequired: userTokens.length > 0 });
    else {
      out.line(`${out.paint('bold', 'Record Keeper (local)')} on ${rk.storage.description}, ${userTokens.length ? 'credentials required' : 'no credentials required'}`);
      out.line(`  Receiver:      ${urls.receiver}`);
      out.line(`  Query:         ${urls.query}`);
      out.line(`  Graph Builder: ${urls.graphBuilder}`);
      out.line();
      out.line('Paste into another shell:');
      out.line(`  export RK_RECEIVER=${urls.receiver}`);
      out.line(`  export RK_QUERY=${urls.query}`);
      out.line(`  export RK_GRAPH_BUILDER=${urls.graphBuilder}`);
      if (userTokens.length) out.line(`  export RK_USER_AUTH=<one of your --user-token values>`);
      out.line();
      out.line(out.paint('dim', 'Stop with Ctrl+C.'));
    }
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        out.note(`${signal}: stopping the local Record Keeper...`);
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
        rk.stop().then(
          () => resolve(),
          (error: unknown) => {
            out.error(`error while stopping: ${String(error)}`);
            resolve();
          },
        );
      };
      const onInt = () => stop('SIGINT');
      const onTerm = () => stop('SIGTERM');
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
    });
    out.note('Stopped.');
  },
};

/** Why `port` on `host` cannot be listened on now, or undefined when it can (the probe is closed again). */
function listenRefusal(port: number, host: string): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (error) => resolve(error));
    probe.listen(port, host, () => probe.close(() => resolve(undefined)));
  });
}
