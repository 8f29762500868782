#!/usr/bin/env node
/**
 * `rk`: the command line for the people who operate and question Record Keeper. Finds the
 * command, parses its flags, builds its configuration (flags, then environment), runs it and maps
 * what happened to an exit code (exit.ts). Imports only the public facade (`../index.js`).
 */
import { pathToFileURL } from 'node:url';
import { RKInvalidInputError, VERSION } from '../public.js';
import { commandHelp, parseCommandArgs } from './args.js';
import type { Command } from './command.js';
import { COMMANDS, GROUPS } from './commands/index.js';
import { Config } from './config.js';
import { CliError, EXIT, UsageError } from './exit.js';
import { Output, type Stream } from './output.js';
import { closest } from './suggest.js';

export interface Io {
  stdout: Stream;
  stderr: Stream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

/** The line RKClient logs when it gives up on a PEM (delivery.ts). */
const DROPPED_PEM_NOTE = /^PEM (\S+) dropped \(/;

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `rk ${VERSION}: the command line for Record Keeper (send PEMs, tag them, list them, see their lineage).`,
    '',
    'Usage: rk <command> [options]      rk <command> --help for its options',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Configuration, a flag or else its environment variable:',
    '  --receiver RK_RECEIVER   --query RK_QUERY   --graph-builder RK_GRAPH_BUILDER',
    '  --user-auth RK_USER_AUTH   --puc-auth RK_PUC_AUTH   --emitter RK_EMITTER (credentials are never printed)',
    'Output: human text (colour only on a terminal, never with NO_COLOR); --json for machines.',
    'Exit codes: 0 done, 1 the service said no, 2 usage error, 3 could not reach the service.',
    '',
    'Start here: rk local   (prints the export lines to paste), then rk doctor.',
  ].join('\n');
}

/** Finds `tag set` before `tag`; undefined when argv names no command. */
function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  const [first, second] = argv;
  const two = COMMANDS.find((c) => c.name === `${first} ${second}`);
  if (two) return { command: two, rest: argv.slice(2) };
  const one = COMMANDS.find((c) => c.name === first);
  return one ? { command: one, rest: argv.slice(1) } : undefined;
}

function groupHelp(group: string): string {
  const members = COMMANDS.filter((c) => c.name.startsWith(`${group} `));
  const width = Math.max(...members.map((c) => c.name.length));
  return [`rk ${group}: ${GROUPS[group]}`, '', 'Commands:', ...members.map((c) => `  rk ${c.name.padEnd(width)}  ${c.summary}`), '', `rk ${group} <command> --help for its options.`].join('\n');
}

export async function main(argv: string[], io: Io): Promise<number> {
  const wantsJson = argv.includes('--json');
  const out = new Output({ stdout: io.stdout, stderr: io.stderr, env: io.env, json: wantsJson });
  const first = argv[0];
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' && argv[1] ? findCommand(argv.slice(1)) : undefined;
    if (first === 'help' && argv[1] && argv[1] in GROUPS && !topic) {
      out.line(groupHelp(argv[1]));
      return EXIT.ok;
    }
    if (first === 'help' && argv[1] && !topic) return usageFailure(out, new UsageError(`unknown command ${JSON.stringify(argv.slice(1).join(' '))}`), mainHelp());
    out.line(topic ? commandHelp(topic.command) : mainHelp());
    return first === undefined ? EXIT.usage : EXIT.ok;
  }
  if (first === '--version' || first === '-V') {
    out.line(VERSION);
    return EXIT.ok;
  }
  const found = findCommand(argv);
  if (!found) {
    if (first in GROUPS) {
      const second = argv[1];
      if (second === '--help' || second === '-h') {
        out.line(groupHelp(first));
        return EXIT.ok;
      }
      const problem = second === undefined ? `rk ${first} needs a command` : `unknown command "rk ${first} ${second}"`;
      const near = second === undefined ? undefined : closest(second, COMMANDS.filter((c) => c.name.startsWith(`${first} `)).map((c) => c.name.slice(first.length + 1)));
      return usageFailure(out, new UsageError(problem, near === undefined ? undefined : `did you mean "rk ${first} ${near}"?`), groupHelp(first));
    }
    const near = closest(first, [...COMMANDS.map((c) => c.name), ...Object.keys(GROUPS)]);
    return usageFailure(out, new UsageError(`unknown command ${JSON.stringify(first)}`, near === undefined ? 'rk --help lists the commands' : `did you mean "rk ${near}"? rk --help lists the commands`), undefined);
  }
  const { command, rest } = found;
  let config: Config | undefined;
  try {
    const parsed = parseCommandArgs(command, rest);
    if (parsed.values.help) {
      out.line(commandHelp(command));
      return EXIT.ok;
    }
    const verbose = parsed.values.verbose === true;
    const say = (text: string) => {
      if (verbose) out.note(out.paintErr('dim', `rk: ${text}`));
    };
    config = new Config(parsed.values, io.env, {
      // rk awaits every send and reports its failure itself (once, with a hint and an exit code);
      // the client's note of a dropped PEM, written for callers who do not await, would repeat it.
      warn: (message) => {
        if (!DROPPED_PEM_NOTE.test(message)) out.warn(message);
      },
      debug: (message) => say(message),
    });
    out.hide(config.secrets());
    say(`${command.name}: ${config.describe().join('; ')}`);
    const code = await command.run({ command, values: parsed.values, positionals: parsed.positionals, config, out, env: io.env, stdin: io.stdin, verbose: say });
    return code ?? EXIT.ok;
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(out, error, `Usage: rk ${command.usage}\nrk ${command.name} --help for every option.`);
    if (error instanceof CliError) {
      out.error(error.message, error.hint);
      return error.code;
    }
    // The library refused what the user typed (a constructor or preparePem): their mistake, not rk's.
    if (error instanceof RKInvalidInputError) return usageFailure(out, new UsageError(error.message), `Usage: rk ${command.usage}\nrk ${command.name} --help for every option.`);
    out.error(`unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, 'this is a bug in rk; please report it with the command you ran');
    return EXIT.refused;
  } finally {
    await config?.close();
  }
}

function usageFailure(out: Output, error: UsageError, usage: string | undefined): number {
  out.error(error.message, error.hint);
  if (usage) out.note(usage);
  return EXIT.usage;
}

/** Runs `rk` on this process's arguments and streams, and sets its exit code. */
export async function run(): Promise<void> {
  // `rk pems --all | head` closes the pipe early: that is the reader's choice, not a failure.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(EXIT.ok);
    throw error;
  });
  try {
    process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env });
  } catch (error) {
    process.stderr.write(`rk: ${String(error)}\n`);
    process.exitCode = EXIT.refused;
  }
}

// `node dist/cli/main.js ...` as well as the bin/rk.js launcher.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
