import { RKAdmin, RKClient, RKQuery, type Logger, type RKOptions } from '../public.js';
import { UsageError } from './exit.js';

/**
 * Where `rk` finds Record Keeper and how it talks to it: each setting from its flag, else from
 * its environment variable. Credentials are kept here and nowhere else; `describe()` and
 * `--verbose` say only whether one is set and where it came from.
 */

/** One setting: the flag, the environment variable, what it is. */
export interface Setting {
  key: SettingKey;
  flag: string;
  env: string | undefined;
  value: string;
  description: string;
  secret?: boolean;
}

export type SettingKey = 'receiver' | 'query' | 'graph-builder' | 'user-auth' | 'puc-auth' | 'emitter' | 'timeout' | 'retries';

export const SETTINGS: readonly Setting[] = [
  { key: 'receiver', flag: '--receiver', env: 'RK_RECEIVER', value: '<url>', description: 'the Receiver base URL (sending PEMs, tags)' },
  { key: 'query', flag: '--query', env: 'RK_QUERY', value: '<url>', description: 'the Query service base URL (reading)' },
  { key: 'graph-builder', flag: '--graph-builder', env: 'RK_GRAPH_BUILDER', value: '<url>', description: 'the Graph Builder base URL' },
  { key: 'user-auth', flag: '--user-auth', env: 'RK_USER_AUTH', value: '<token>', description: 'personal credential (wins over the PUC one); never printed', secret: true },
  { key: 'puc-auth', flag: '--puc-auth', env: 'RK_PUC_AUTH', value: '<token>', description: 'machine (PUC) credential; never printed', secret: true },
  { key: 'emitter', flag: '--emitter', env: 'RK_EMITTER', value: '<id>', description: 'emitter id of the PEMs sent (default rk-cli); the default tag namespace' },
  { key: 'timeout', flag: '--timeout', env: 'RK_TIMEOUT_MS', value: '<ms>', description: 'deadline of each request in ms (default 5000)' },
  { key: 'retries', flag: '--retries', env: undefined, value: '<n>', description: 'retries of a failed request (default 1)' },
];

export const DEFAULT_EMITTER = 'rk-cli';
const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_RETRIES = 1;

/** A setting's value and where it came from. */
interface Resolved {
  value: string;
  from: string;
}

export type Service = 'receiver' | 'query' | 'graph-builder';

/** What each service's URL is called, for messages. */
export const SERVICE_NAMES: Record<Service, string> = { receiver: 'Receiver', query: 'Query service', 'graph-builder': 'Graph Builder' };

export class Config {
  readonly #values = new Map<SettingKey, Resolved>();
  readonly insecure: boolean;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly logger: Logger;
  readonly #opened: { close(): Promise<unknown> }[] = [];

  constructor(flags: Record<string, unknown>, env: NodeJS.ProcessEnv, logger: Logger) {
    for (const setting of SETTINGS) {
      const flag = flags[setting.key];
      if (typeof flag === 'string') {
        if (flag.trim() === '') throw new UsageError(`${setting.flag} is empty`, `give ${setting.value}${setting.env ? `, or set ${setting.env}` : ''}`);
        this.#values.set(setting.key, { value: flag, from: setting.flag });
      } else if (setting.env && env[setting.env]?.trim()) {
        this.#values.set(setting.key, { value: env[setting.env]!.trim(), from: setting.env });
      }
      const resolved = this.#values.get(setting.key);
      if (resolved && setting.value === '<url>') checkUrl(resolved);
    }
    this.insecure = flags.insecure === true;
    this.timeoutMs = this.#number('timeout', DEFAULT_TIMEOUT_MS, 1, 600_000);
    this.retries = this.#number('retries', DEFAULT_RETRIES, 0, 20);
    this.logger = logger;
  }

  get emitter(): string {
    return this.#values.get('emitter')?.value ?? DEFAULT_EMITTER;
  }

  /** The service's URL, or undefined when neither its flag nor its variable is set. */
  url(service: Service): string | undefined {
    return this.#values.get(service)?.value;
  }

  /** The service's URL; a usage error naming the flag and the variable when it is not set. */
  requireUrl(service: Service): string {
    const url = this.url(service);
    if (url !== undefined) return url;
    const setting = settingOf(service);
    throw new UsageError(
      `no ${SERVICE_NAMES[service]} URL`,
      `pass ${setting.flag} <url> or set ${setting.env}; "rk local" starts a Record Keeper and prints the lines to paste`,
    );
  }

  /** Which credential is sent, without its value. */
  credential(): { kind: 'user' | 'puc'; from: string } | undefined {
    const user = this.#values.get('user-auth');
    if (user) return { kind: 'user', from: user.from };
    const puc = this.#values.get('puc-auth');
    return puc ? { kind: 'puc', from: puc.from } : undefined;
  }

  /** The credential values, so output can be scrubbed of them. */
  secrets(): string[] {
    return SETTINGS.filter((s) => s.secret)
      .map((s) => this.#values.get(s.key)?.value)
      .filter((v): v is string => v !== undefined && v.length > 0);
  }

  /** Every setting as `name: value (from)`, credentials as "set"; for --verbose and doctor. */
  describe(): string[] {
    return SETTINGS.map((setting) => {
      const resolved = this.#values.get(setting.key);
      if (!resolved) return `${setting.key}: not set`;
      const shown = setting.secret ? 'set' : resolved.value;
      return `${setting.key}: ${shown} (from ${resolved.from})`;
    });
  }

  /** Where a service's URL came from, for hints. */
  settingFor(service: Service): { flag: string; env: string } {
    const setting = settingOf(service);
    return { flag: setting.flag, env: setting.env! };
  }

  options(extra: Partial<RKOptions> = {}): RKOptions {
    const options: RKOptions = {
      timeoutMs: this.timeoutMs,
      insecure: this.insecure,
      logger: this.logger,
      retry: { maxAttempts: this.retries + 1, totalTimeoutMs: this.timeoutMs * (this.retries + 1) + 2000 },
      ...extra,
    };
    const user = this.#values.get('user-auth')?.value;
    const puc = this.#values.get('puc-auth')?.value;
    if (user) options.userAuth = user;
    if (puc) options.pucAuth = puc;
    return options;
  }

  client(extra?: Partial<RKOptions>): RKClient {
    const client = new RKClient(this.requireUrl('receiver'), this.emitter, this.options(extra));
    this.#opened.push(client);
    return client;
  }

  /** A client on another URL (one that only prepares PEMs, or an outbox's own). */
  clientFor(receiverUrl: string, extra?: Partial<RKOptions>): RKClient {
    const client = new RKClient(receiverUrl, this.emitter, this.options(extra));
    this.#opened.push(client);
    return client;
  }

  query(extra?: Partial<RKOptions>): RKQuery {
    return new RKQuery(this.requireUrl('query'), this.options(extra));
  }

  admin(extra?: Partial<RKOptions>): RKAdmin {
    return new RKAdmin(this.requireUrl('query'), this.requireUrl('graph-builder'), this.options(extra));
  }

  /** Closes every RKClient made here (waits for PEMs still being sent). */
  async close(): Promise<void> {
    await Promise.all(this.#opened.map((client) => client.close()));
  }

  #number(key: SettingKey, fallback: number, min: number, max: number): number {
    const resolved = this.#values.get(key);
    if (!resolved) return fallback;
    const value = Number(resolved.value);
    if (!/^\d+$/.test(resolved.value) || value < min || value > max) {
      throw new UsageError(`${resolved.from} must be a whole number from ${min} to ${max}, got ${JSON.stringify(resolved.value)}`);
    }
    return value;
  }
}

/**
 * A URL setting must say how to reach the service: `127.0.0.1:8082/query` would otherwise reach
 * the client's constructor and fail there, far from the flag the user typed.
 */
function checkUrl({ value, from }: Resolved): void {
  if (/^https?:\/\//i.test(value)) return;
  const write = (url: string) => (from.startsWith('--') ? `write ${from} ${url}` : `set ${from}=${url}`);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1];
  if (scheme) throw new UsageError(`${from} ${JSON.stringify(value)} uses ${scheme}://; Record Keeper is reached over http:// or https://`, write(`http://${value.slice(scheme.length + 3)}`));
  throw new UsageError(`${from} ${JSON.stringify(value)} has no scheme`, `${write(`http://${value.replace(/^\/+/, '')}`)} (or https:// for a TLS server)`);
}

function settingOf(key: SettingKey): Setting {
  return SETTINGS.find((s) => s.key === key)!;
}
