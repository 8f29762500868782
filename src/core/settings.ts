import { RetryBudget } from '../resilience/budget.js';
import { environmentVariable, onNode } from './environment.js';
import { systemClock, type Clock } from '../resilience/clock.js';
import { describe, guarded, requireMs, snapshotOptions } from './checks.js';
import { RKInvalidInputError } from './errors.js';
import { consoleLogger, type Logger } from './logger.js';
import type { RKOptions } from './options.js';
import { checkBudgetOptions, resolveRetryPolicy, type RetryPolicy } from './retry-policy.js';
import { VERSION } from './version.js';
import { insecureFetch } from './insecure-fetch.js';
import { holdCredential, redact, redactingLogger } from './redact.js';
import { FetchWire } from './fetch-wire.js';
import { NodeWire } from './node-wire.js';
import type { Wire } from './wire.js';

/**
 * A client's options, checked once when it is made (a bad value throws RKInvalidInputError there
 * and never later), with every default filled in. Every transport and the delivery of one client
 * share one Settings, so one client has one retry budget and one policy.
 */
export interface Settings {
  /** Deadline of each request. */
  timeoutMs: number;
  /** Whether `timeoutMs` was given (sendPem's attempts default to their own, longer, deadline). */
  timeoutGiven: boolean;
  /** maxAttempts 1 when the client was made with `retry: false`. */
  retry: RetryPolicy;
  /** The client-wide retry budget; undefined when turned off. */
  budget: RetryBudget | undefined;
  random: () => number;
  clock: Clock;
  logger: Logger;
  signal: AbortSignal | undefined;
  /**
   * How every request of this client travels, chosen once (see WireChoice): an undici Pool per
   * origin (node-wire.ts) for RKClient on Node without an injected fetch, fetch (fetch-wire.ts)
   * otherwise: the readers, other runtimes, an injected fetch.
   */
  wire: Wire;
  userAgent: string;
  /** The one credential header sent, if any: the user credential wins, as in the reference client. */
  credential: { header: string; value: string } | undefined;
  /** TLS certificate checks off for this client (`insecure: true`). */
  insecure: boolean;
  /** With `debug: true` or RK_LOG=debug: one line per request and per retry; otherwise undefined. */
  debug: ((line: string) => void) | undefined;
}

/** Header names the user may override; defaults from the specs' security schemes. */
export interface HeaderDefaults {
  userAuth: string;
  pucAuth: string;
}

/** Option objects inside the options, snapshotted with them (see snapshotOptions). */
const NESTED_OPTIONS = ['retry', 'retry.budget', 'queue', 'outbox'];

/**
 * A constructor's options as a plain snapshot, read once: a getter or Proxy that throws, a
 * null-prototype object or a value that is no object at all is an RKInvalidInputError here,
 * naming the argument, and every later check reads the copy.
 */
export function readOptions(creating: string, options: unknown): RKOptions {
  if (typeof options !== 'object' || options === null) {
    throw new RKInvalidInputError(creating, 'options', 'must be an object like { timeoutMs: 5000 }');
  }
  return snapshotOptions(creating, 'options', options, NESTED_OPTIONS) as RKOptions;
}

/**
 * Which wire a client's requests take on Node when no fetch is injected: `undici` for the client
 * that sends PEMs (RKClient: its hot path, sendPem, keeps within 1.3x of undici.request); `fetch`
 * for the readers (RKQuery, RKAdmin), whose long listings peak lower in RSS through fetch
 * (BENCHMARKS.md, "Generated operations and the Wire") and which then never load undici.
 */
export type WireChoice = 'undici' | 'fetch';

export function resolveSettings(creating: string, given: RKOptions, headers: HeaderDefaults, onNode: WireChoice = 'fetch'): Settings {
  const options = readOptions(creating, given);
  return guarded(creating, 'options', () => settingsOf(creating, options, headers, onNode));
}

function settingsOf(creating: string, options: RKOptions, headers: HeaderDefaults, onNodeWire: WireChoice): Settings {
  const timeoutMs = requireMs(creating, 'timeoutMs', options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const budget = options.retry === false ? false : checkBudgetOptions(creating, options.retry?.budget);
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new RKInvalidInputError(creating, 'signal', `must be an AbortSignal (for example new AbortController().signal), got ${describe(signal)}`);
  }
  for (const name of ['random', 'logger', 'clock'] as const) {
    const value = options[name];
    if (value !== undefined && typeof value !== (name === 'random' ? 'function' : 'object')) {
      throw new RKInvalidInputError(creating, name, `must be ${name === 'random' ? 'a function returning [0, 1)' : `an object (see the ${name} option)`}, got ${describe(value)}`);
    }
  }
  const injected = options.fetch;
  if (injected !== undefined && typeof injected !== 'function') {
    throw new RKInvalidInputError(creating, 'fetch', 'must be a fetch function');
  }
  const base = injected ?? ((input, init) => globalThis.fetch(input, init));
  // Every line a client logs is scrubbed of the credentials held (redact.ts), whoever wrote it.
  const logger = redactingLogger(options.logger ?? consoleLogger);
  const insecure = options.insecure === true;
  const fetch = insecure ? insecureFetch(base, injected !== undefined) : base;
  const settings: Settings = {
    timeoutMs,
    timeoutGiven: options.timeoutMs !== undefined,
    retry: resolveRetryPolicy(creating, options.retry),
    budget: budget === false ? undefined : new RetryBudget(budget),
    random: options.random ?? Math.random,
    clock: options.clock ?? systemClock,
    logger,
    signal,
    wire: injected === undefined && onNodeWire === 'undici' && onNode() ? new NodeWire(insecure, fetch) : new FetchWire(fetch),
    userAgent: headerValue(creating, 'userAgent', options.userAgent ?? `recordkeeper-client-${VERSION}`),
    credential: credentialOf(creating, options, headers),
    insecure,
    debug: debugging(options) ? debugLine(logger) : undefined,
  };
  // Both credentials given are held, also the one not sent (userAuth wins): both are secrets.
  for (const value of [options.userAuth, options.pucAuth]) if (typeof value === 'string') holdCredential(value, settings);
  return settings;
}

export const DEFAULT_TIMEOUT_MS = 5000;


function debugging(options: RKOptions): boolean {
  if (options.debug !== undefined) return options.debug === true;
  return environmentVariable('RK_LOG')?.toLowerCase() === 'debug';
}

/** Debug lines go to the logger's `debug`, or console.debug when it has none. */
function debugLine(logger: Logger): (line: string) => void {
  if (typeof logger.debug === 'function') return (line) => logger.debug!(line);
  return (line) => console.debug(`[recordkeeper-client] ${redact(line)}`);
}

function credentialOf(creating: string, options: RKOptions, defaults: HeaderDefaults): Settings['credential'] {
  const userHeader = headerName(creating, 'userAuthHeader', options.userAuthHeader ?? defaults.userAuth);
  const pucHeader = headerName(creating, 'pucAuthHeader', options.pucAuthHeader ?? defaults.pucAuth);
  if (options.userAuth) return { header: userHeader, value: headerValue(creating, 'userAuth', options.userAuth) };
  if (options.pucAuth) return { header: pucHeader, value: headerValue(creating, 'pucAuth', options.pucAuth) };
  return undefined;
}

function headerName(creating: string, argument: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value)) {
    throw new RKInvalidInputError(creating, argument, `${typeof value === 'string' ? JSON.stringify(value.slice(0, 60)) : describe(value)} is not a valid HTTP header name`);
  }
  return value;
}

/** A credential or User-Agent that a header cannot carry is refused here, without echoing it. */
function headerValue(creating: string, argument: string, value: unknown): string {
  if (typeof value !== 'string' || /[^\t\x20-\x7e\x80-\xff]/.test(value) || value !== value.trim()) {
    throw new RKInvalidInputError(
      creating,
      argument,
      'cannot be sent as an HTTP header value (it must be a string without line breaks, control characters or surrounding spaces); check how it was read',
    );
  }
  return value;
}
