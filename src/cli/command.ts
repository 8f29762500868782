import type { Config, Service } from './config.js';
import type { Output } from './output.js';

/** One `rk` command: its help, its flags, and what it does. Each lives in commands/. */
export interface Command {
  /** `pems`, or `tag set` for a command of a group. */
  name: string;
  /** One line for `rk --help`. */
  summary: string;
  /** What follows `rk ` in the usage line. */
  usage: string;
  /** A paragraph for `rk <command> --help`. */
  description?: string;
  /** The command's own flags. */
  options?: Record<string, OptionSpec>;
  /** Which services it talks to: their URL settings, and the credentials, appear in its help. */
  services?: readonly Service[];
  /** Whether it sends PEMs (the emitter setting appears in its help). */
  emits?: boolean;
  /** How many positional arguments it takes. */
  positionals?: { min: number; max: number };
  examples?: readonly string[];
  run(ctx: Context): Promise<number | void>;
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  /** The placeholder in help: `<n>`. */
  value?: string;
  description: string;
}

export type Values = Record<string, string | boolean | string[] | undefined>;

export interface Context {
  command: Command;
  values: Values;
  positionals: string[];
  config: Config;
  out: Output;
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  verbose: (text: string) => void;
}

/** A flag's string value (the last one when repeated). */
export function stringFlag(values: Values, name: string): string | undefined {
  const value = values[name];
  if (Array.isArray(value)) return value.at(-1);
  return typeof value === 'string' ? value : undefined;
}

export function listFlag(values: Values, name: string): string[] {
  const value = values[name];
  if (Array.isArray(value)) return value;
  return typeof value === 'string' ? [value] : [];
}
