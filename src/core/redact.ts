/**
 * The credentials this process's clients hold, and the one scrub that every text the client
 * produces goes through: error messages and `serverMessage` (errors.ts, http-errors.ts), log lines
 * (the logger a client's settings hold), dead-letter reasons (the outbox store). A server or proxy
 * that echoes request headers into its answers cannot put a credential into any of them.
 *
 * Process-wide on purpose: the messages are made deep in the call (where an answer becomes an
 * error) without knowing which client asked, and one client's credential in another client's text
 * is a leak too. A credential is held for as long as the settings that carry it are reachable.
 */

export const REDACTED = '***';

/**
 * Shorter credentials are matched only as a whole run of letters and digits, so that a test
 * credential like "p" does not turn every "p" in a message into `***`; longer ones anywhere.
 */
const ANYWHERE_FROM = 16;

/** credential value -> how many live holders (settings) carry it. */
const held = new Map<string, number>();
/** The texts searched for: each held value in the forms an echo may take. */
let patterns: { plain: string[]; bounded: RegExp | undefined } = { plain: [], bounded: undefined };

const released = new FinalizationRegistry<string>((value) => {
  const count = (held.get(value) ?? 1) - 1;
  if (count > 0) held.set(value, count);
  else held.delete(value);
  patterns = compile();
});

/** Registers `value` as a credential for as long as `holder` lives. */
export function holdCredential(value: string, holder: object): void {
  if (value === '') return;
  held.set(value, (held.get(value) ?? 0) + 1);
  released.register(holder, value);
  patterns = compile();
}

/** `text` with every held credential (as sent, JSON-, URL- or HTML-escaped) replaced by `***`. */
export function redact(text: string): string {
  const { plain, bounded } = patterns;
  let clean = text;
  for (const form of plain) if (clean.includes(form)) clean = clean.split(form).join(REDACTED);
  if (bounded) clean = clean.replace(bounded, REDACTED);
  return clean;
}

/** A parsed body with every string in it redacted (a copy; the value given is not changed). */
export function redactValue(value: unknown, depth = 0): unknown {
  if (held.size === 0) return value;
  if (typeof value === 'string') return redact(value);
  if (depth > 32 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[redact(key)] = redactValue(item, depth + 1);
  return copy;
}

/** Answer headers with every held credential redacted (a proxy may echo them there as well). */
export function redactHeaders(headers: Headers): Headers {
  if (held.size === 0) return headers;
  let changed = false;
  const copy = new Headers();
  headers.forEach((value, name) => {
    const clean = redact(value);
    if (clean !== value) changed = true;
    copy.append(name, clean);
  });
  return changed ? copy : headers;
}

/** A logger whose lines are redacted before they reach it. */
export function redactingLogger<L extends { warn(message: string): void; debug?(message: string): void }>(logger: L): L {
  return {
    warn: (message: string) => logger.warn(redact(message)),
    ...(typeof logger.debug === 'function' ? { debug: (message: string) => logger.debug!(redact(message)) } : {}),
  } as L;
}

function compile(): typeof patterns {
  const plain = new Set<string>();
  const bounded = new Set<string>();
  for (const value of held.keys()) {
    for (const form of formsOf(value)) (value.length >= ANYWHERE_FROM ? plain : bounded).add(form);
  }
  // Longest first, so a credential that contains another is replaced whole.
  const sorted = [...plain].sort((a, b) => b.length - a.length);
  const shortOnes = [...bounded].sort((a, b) => b.length - a.length).map(escapeRegExp);
  return {
    plain: sorted,
    bounded: shortOnes.length ? new RegExp(`(?<![A-Za-z0-9])(?:${shortOnes.join('|')})(?![A-Za-z0-9])`, 'g') : undefined,
  };
}

/** The value as sent, and as a JSON string, a URL component or HTML text would carry it. */
function formsOf(value: string): string[] {
  const forms = new Set([value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value), htmlEscaped(value)]);
  return [...forms].filter((form) => form !== '');
}

function htmlEscaped(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
