import { parseArgs } from 'node:util';
import { repliesMode } from './replies.js';
import { DEFAULT_GRAPH_INTERVAL_MS, DEFAULT_PEM_SIZE_LIMIT, startLocalRK, type LocalRKOptions } from './server.js';

const HELP = `recordkeeper-local: a local Record Keeper (Receiver, Query, Graph Builder) on one port.

Usage: recordkeeper-local [options]

  --port <n>               port for all three services (default 8082; 0 picks a free one)
  --host <addr>            interface to listen on (default 127.0.0.1)
  --data-dir <dir>         keep the data in this directory, with PGlite (default ./.rk-data)
  --memory                 keep the data in memory, with PGlite (gone when the server stops)
  --database-url <url>     use a PostgreSQL server (also env RK_DATABASE_URL)
  --pem-size-limit <bytes> the largest PEM accepted (default ${DEFAULT_PEM_SIZE_LIMIT})
  --user-token <token>     accept this user credential (repeatable; env RK_LOCAL_USER_TOKENS, comma-separated)
  --puc-token <token>      accept this PUC credential (repeatable; env RK_LOCAL_PUC_TOKENS)
  --admin-token <token>    accept this admin credential, which may also erase everything (repeatable; env RK_LOCAL_ADMIN_TOKENS)
  --pem-auth               sending a PEM needs a credential too (needs a token)
  --graph-interval <s>     seconds between two runs of the Graph Builder loop (default ${DEFAULT_GRAPH_INTERVAL_MS / 1000})
  --replies <mode>         how answers are worded: rich (default) answers JSON acks and JSON errors;
                           reference answers only the real RK's publicly known forms: POST /pem
                           "Ack getting <Type>", POST /tag an empty 200, /clean, /rebuild and /flush
                           200 "OK", errors as one line of text (same status codes)
  --cors <origin>          let a browser page on this origin call the server (repeatable; * for any)
  --allowed-host <name>    answer requests sent to this host name too (repeatable; default
                           localhost and the address it listens on): state changes always, and
                           without tokens every request
  -h, --help               show this help

Without tokens no credential is needed and everything, including /clean, is allowed to whoever
reaches the port: keep --host 127.0.0.1 on a shared network, or set tokens.
The services are at http://<host>:<port>/receiver, /query and /graph-builder.`;

export class UsageError extends Error {}

/** Options from the command line and the environment; throws UsageError on a mistake. */
export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): (LocalRKOptions & { help?: false }) | { help: true } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      memory: { type: 'boolean' },
      'database-url': { type: 'string' },
      'pem-size-limit': { type: 'string' },
      'user-token': { type: 'string', multiple: true },
      'puc-token': { type: 'string', multiple: true },
      'admin-token': { type: 'string', multiple: true },
      'pem-auth': { type: 'boolean' },
      'graph-interval': { type: 'string' },
      replies: { type: 'string' },
      cors: { type: 'string', multiple: true },
      'allowed-host': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return { help: true };
  const databaseUrl = values['database-url'] ?? (env.RK_DATABASE_URL || undefined);
  const storages = [values.memory ? '--memory' : '', values['data-dir'] !== undefined ? '--data-dir' : '', databaseUrl ? '--database-url/RK_DATABASE_URL' : ''].filter(Boolean);
  if (storages.length > 1) throw new UsageError(`choose one of ${storages.join(', ')}`);
  const interval = values['graph-interval'] === undefined ? undefined : Number(values['graph-interval']);
  if (interval !== undefined && !(Number.isFinite(interval) && interval >= 0.01)) {
    throw new UsageError(`--graph-interval must be a number of seconds from 0.01, got ${values['graph-interval']}`);
  }
  const options: LocalRKOptions = {
    port: wholeNumber('--port', values.port, 0, 65535) ?? 8082,
    host: values.host ?? '127.0.0.1',
    pemSizeLimit: wholeNumber('--pem-size-limit', values['pem-size-limit'], 1, Number.MAX_SAFE_INTEGER) ?? DEFAULT_PEM_SIZE_LIMIT,
    userTokens: [...(values['user-token'] ?? []), ...list(env.RK_LOCAL_USER_TOKENS)],
    pucTokens: [...(values['puc-token'] ?? []), ...list(env.RK_LOCAL_PUC_TOKENS)],
    adminTokens: [...(values['admin-token'] ?? []), ...list(env.RK_LOCAL_ADMIN_TOKENS)],
    pemAuth: values['pem-auth'] === true,
  };
  if (values.cors?.length) options.cors = values.cors;
  if (values['allowed-host']?.length) options.allowedHosts = values['allowed-host'];
  if (interval !== undefined) options.graphIntervalMs = interval * 1000;
  if (values.replies !== undefined) {
    try {
      options.replies = repliesMode(values.replies, '--replies');
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
  }
  if (databaseUrl) options.databaseUrl = databaseUrl;
  else if (values.memory) options.memory = true;
  else options.dataDir = values['data-dir'] ?? './.rk-data';
  return options;
}

function wholeNumber(flag: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got ${text}`);
  return value;
}

function list(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}

/** The `recordkeeper-local` command: starts, prints the base URLs, stops on SIGINT/SIGTERM. */
export async function main(argv: string[]): Promise<void> {
  let options;
  try {
    options = parseOptions(argv, process.env);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`recordkeeper-local: ${message}\nRun recordkeeper-local --help for the options.`);
    process.exitCode = 2;
    return;
  }
  if (options.help) {
    console.log(HELP);
    return;
  }
  let rk;
  try {
    rk = await startLocalRK(options);
  } catch (error) {
    console.error(`recordkeeper-local: could not start: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
    return;
  }
  const auth = options.userTokens?.length || options.pucTokens?.length || options.adminTokens?.length ? 'credentials required' : 'no credentials required';
  console.log(`Record Keeper (local) on ${rk.storage.description}, ${auth}${rk.replies === 'reference' ? ', reference replies' : ''}`);
  console.log(`  Receiver:      ${rk.receiverUrl}`);
  console.log(`  Query:         ${rk.queryUrl}`);
  console.log(`  Graph Builder: ${rk.graphBuilderUrl}`);
  if (rk.answeredHosts !== undefined) console.log(`Without credentials it answers only requests sent to ${rk.answeredHosts}.`);
  console.log('Stop with Ctrl+C.');
  const running = rk;
  const shutdown = (signal: string) => {
    console.log(`\n${signal}: stopping...`);
    running.stop().then(
      () => console.log('Stopped.'),
      (error: unknown) => {
        console.error('recordkeeper-local: error while stopping:', error);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}
