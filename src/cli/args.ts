import { parseArgs } from 'node:util';
import type { Command, OptionSpec, Values } from './command.js';
import { SETTINGS, SERVICE_NAMES, type SettingKey } from './config.js';
import { UsageError } from './exit.js';
import { closest, splitTime } from './suggest.js';

/** Flags every command takes: output, and the configuration (each also from the environment). */
export const OUTPUT_OPTIONS: Record<string, OptionSpec> = {
  json: { type: 'boolean', description: 'print JSON for machines: one document (NDJSON with --all)' },
  verbose: { type: 'boolean', short: 'v', description: 'say on stderr what is asked of which service (never credentials)' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

const CONFIG_OPTIONS: Record<string, OptionSpec> = {
  ...Object.fromEntries(SETTINGS.map((s) => [s.key, { type: 'string', value: s.value, description: s.description } satisfies OptionSpec])),
  insecure: { type: 'boolean', description: 'skip TLS certificate checks (self-signed test servers only)' },
};

export interface Parsed {
  values: Values;
  positionals: string[];
}

/** Parses a command's arguments with node:util parseArgs; a mistake is a UsageError. */
export function parseCommandArgs(command: Command, argv: string[]): Parsed {
  const options = { ...CONFIG_OPTIONS, ...OUTPUT_OPTIONS, ...(command.options ?? {}) };
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: Object.fromEntries(
        Object.entries(options).map(([name, spec]) => [
          name,
          { type: spec.type, ...(spec.multiple ? { multiple: true } : {}), ...(spec.short ? { short: spec.short } : {}) },
        ]),
      ),
    });
  } catch (error) {
    throw new UsageError(cleanParseError(error), flagSuggestion(error, Object.keys(options)));
  }
  const split = splitTime(argv);
  if (split !== undefined) {
    throw new UsageError(`the time ${JSON.stringify(split)} arrived as two arguments: the shell splits an unquoted time at its space`, `quote it: rk ${command.name} ... "${split}"`);
  }
  const values = parsed.values as Values;
  if (values.help) return { values, positionals: parsed.positionals };
  const { min, max } = command.positionals ?? { min: 0, max: 0 };
  const count = parsed.positionals.length;
  if (count < min) throw new UsageError(`rk ${command.name} needs ${min === max ? min : `at least ${min}`} argument${min === 1 ? '' : 's'}`);
  if (count > max) throw new UsageError(`rk ${command.name} takes ${max === 0 ? 'no arguments' : `at most ${max}`}; unexpected ${JSON.stringify(parsed.positionals[max])}`);
  return { values, positionals: parsed.positionals };
}

/** "Unknown option '--tpye'" gets the flag the command has that is closest to what was typed. */
function flagSuggestion(error: unknown, names: readonly string[]): string | undefined {
  const typed = /Unknown option '--([^'=]+)/.exec(error instanceof Error ? error.message : '')?.[1];
  const near = typed === undefined ? undefined : closest(typed, names);
  return near === undefined ? undefined : `did you mean --${near}?`;
}

/** parseArgs says "Unknown option '--x'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- \"--x\"" */
function cleanParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\. To specify a positional argument.*$/s, '');
}

/** `rk <command> --help`: usage, options, the configuration it reads (flag, then environment), examples. */
export function commandHelp(command: Command): string {
  const lines = [`rk ${command.name}: ${command.summary}`, '', `Usage: rk ${command.usage}`];
  if (command.description) lines.push('', ...wrapText(command.description, 96));
  const own = Object.entries(command.options ?? {});
  if (own.length) lines.push('', 'Options:', ...optionLines(own));
  lines.push('', 'Output:', ...optionLines(Object.entries(OUTPUT_OPTIONS)));
  const keys = settingKeysFor(command);
  if (keys.length) {
    lines.push('', 'Configuration (a flag wins over its environment variable):');
    const rows: (readonly [string, string, string])[] = SETTINGS.filter((s) => keys.includes(s.key)).map((s) => [`${s.flag} ${s.value}`, s.env ?? '', s.description] as const);
    rows.push(['--insecure', '', 'skip TLS certificate checks (self-signed test servers only)']);
    const w0 = Math.max(...rows.map((r) => r[0].length));
    const w1 = Math.max(...rows.map((r) => r[1].length));
    for (const [flag, env, description] of rows) lines.push(`  ${flag.padEnd(w0)}  ${env.padEnd(w1)}  ${description}`);
  }
  if (command.examples?.length) lines.push('', 'Examples:', ...command.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

function settingKeysFor(command: Command): SettingKey[] {
  const services = command.services ?? [];
  if (!services.length && !command.emits) return [];
  const keys: SettingKey[] = [...services];
  keys.push('user-auth', 'puc-auth');
  if (command.emits) keys.push('emitter');
  keys.push('timeout', 'retries');
  return keys;
}

function optionLines(entries: [string, OptionSpec][]): string[] {
  const rows = entries.map(([name, spec]) => [`${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.value ? ` ${spec.value}` : ''}`, spec.description + (spec.multiple ? ' (repeatable)' : '')] as const);
  const width = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}`);
}

function wrapText(text: string, width: number): string[] {
  const out: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(' ')) {
      if (line && line.length + word.length + 1 > width) {
        out.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    out.push(line);
  }
  return out;
}

/** The services named in help, for messages. */
export { SERVICE_NAMES };
