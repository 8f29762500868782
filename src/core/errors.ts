import { redact } from './redact.js';

/**
 * One hierarchy for every failure, so callers can branch with `instanceof` or on `kind` and always
 * get a message that names the operation ("Sending PEM failed: ...").
 */
export type RKErrorKind =
  | 'http'
  | 'auth'
  | 'not_found'
  | 'rejected'
  | 'connection'
  | 'timeout'
  | 'abort'
  | 'invalid_input'
  | 'size_limit'
  | 'unexpected_response'
  | 'queue_full'
  | 'shutdown';

/** The base of every error the library returns: `kind` says which case it is, `operation` what was being done. See RKFailure for the union of the concrete classes. */
export abstract class RKError extends Error {
  abstract readonly kind: RKErrorKind;
  /** What was being done, in words: "Sending PEM", "Reading tag". */
  readonly operation: string;

  protected constructor(operation: string, detail: string, options?: { cause?: unknown }) {
    // Whatever a server echoed into the detail, no held credential reaches a message or a stack.
    super(redact(`${operation} failed: ${detail}`), options);
    this.operation = operation;
    this.name = new.target.name;
  }
}

/** The request never got an answer: refused, reset, DNS failure, TLS failure. */
export class RKConnectionError extends RKError {
  readonly kind = 'connection' as const;
  /** The system error code when there is one (`ECONNREFUSED`, `ENOTFOUND`, ...). */
  readonly code: string | undefined;

  constructor(operation: string, url: string, cause: unknown) {
    const code = systemCodeOf(cause);
    const reason = code ?? (cause instanceof Error ? cause.message : String(cause));
    const hint = isCertificateCode(code)
      ? "; the server's TLS certificate was not accepted: give it a trusted certificate, or pass insecure: true for a test server"
      : '';
    super(operation, `could not reach ${url} (${reason})${hint}`, { cause });
    this.code = code;
  }

  /** The TLS certificate was refused: another attempt cannot succeed. */
  get certificateRefused(): boolean {
    return isCertificateCode(this.code);
  }
}

/** No complete answer arrived within `timeoutMs`. */
export class RKTimeoutError extends RKError {
  readonly kind = 'timeout' as const;
  readonly timeoutMs: number;

  /** @param setting the option that sets this deadline, named in the message (`totalTimeoutMs` for a whole call with retries) */
  constructor(operation: string, url: string, timeoutMs: number, setting = 'timeoutMs') {
    super(operation, `no answer from ${url} within ${timeoutMs} ms; raise ${setting} if the service is slow`);
    this.timeoutMs = timeoutMs;
  }
}

/** The caller's AbortSignal fired. */
export class RKAbortError extends RKError {
  readonly kind = 'abort' as const;

  constructor(operation: string, reason?: unknown) {
    super(operation, 'aborted by the caller', { cause: reason });
  }
}

/** The arguments were refused before any request was made. */
export class RKInvalidInputError extends RKError {
  readonly kind = 'invalid_input' as const;
  /** The argument at fault. */
  readonly argument: string;

  constructor(operation: string, argument: string, problem: string) {
    super(operation, `${argument} ${problem}`);
    this.argument = argument;
  }
}

/** The PEM is larger than the receiver accepts; it was not sent. */
export class RKSizeLimitError extends RKError {
  readonly kind = 'size_limit' as const;
  readonly sizeBytes: number;
  readonly limitBytes: number;

  constructor(operation: string, sizeBytes: number, limitBytes: number) {
    super(
      operation,
      `the PEM is ${sizeBytes} bytes and the receiver accepts at most ${limitBytes} bytes (pem_size_limit); ` +
        'move large content out of Properties (store it elsewhere and reference it by URI)',
    );
    this.sizeBytes = sizeBytes;
    this.limitBytes = limitBytes;
  }
}

/**
 * The PEM was refused at once because the client holds as much as it may (the in-memory send
 * queue, or the outbox on disk): backpressure, never a silent drop. Nothing already queued is lost.
 */
export class RKQueueFullError extends RKError {
  readonly kind = 'queue_full' as const;
  /** Which bound was reached. */
  readonly queue: 'memory' | 'outbox';
  /** The bound that was reached, in words ("10000 PEMs", "33554432 bytes"). */
  readonly limit: string;

  constructor(operation: string, queue: 'memory' | 'outbox', limit: string) {
    const where = queue === 'memory' ? 'the send queue' : 'the outbox';
    super(
      operation,
      `${where} is full (${limit}); the PEM was not accepted: wait for pending PEMs (flush()) and send it again, or raise the limit`,
    );
    this.queue = queue;
    this.limit = limit;
  }
}

/**
 * The client was closed: either before this PEM was handed over, or before it could be delivered
 * and with no outbox to keep it. In the second case the Receiver may or may not have stored it;
 * resending the same PEM (same ID) is safe.
 */
export class RKShutdownError extends RKError {
  readonly kind = 'shutdown' as const;

  constructor(operation: string, problem: string) {
    super(operation, problem);
  }
}

/** A 2xx answer whose body is not what the spec promises. */
export class RKUnexpectedResponseError extends RKError {
  readonly kind = 'unexpected_response' as const;
  readonly status: number;
  /** The body as received (text), for diagnosis. */
  readonly body: string | undefined;

  constructor(operation: string, status: number, problem: string, body?: string, cause?: unknown) {
    super(operation, `HTTP ${status} with an unexpected body: ${problem}`, { cause });
    this.status = status;
    this.body = body === undefined ? undefined : redact(body);
  }
}

function isCertificateCode(code: string | undefined): boolean {
  return code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * What the service said, in one bounded line, from whatever it answered with: JSON
 * (`{message}`, `{msg}`, `{detail}`, `{error}`, also nested one level), an HTML error page
 * (its title, else its text without markup) or plain text.
 */
export function explanationOf(body: unknown): string | undefined {
  if (typeof body === 'string') {
    const text = looksLikeHtml(body) ? htmlText(body) : body;
    return oneLine(text);
  }
  if (isRecord(body)) {
    for (const key of ['message', 'msg', 'detail', 'error']) {
      const value = body[key];
      if (typeof value === 'string' && value.trim()) return oneLine(value);
      if (isRecord(value)) {
        const inner = explanationOf(value);
        if (inner) return inner;
      }
    }
    return oneLine(JSON.stringify(body));
  }
  return undefined;
}

function looksLikeHtml(text: string): boolean {
  return /^\s*(<!doctype html|<html|<head|<body|<title|<h1)/i.test(text);
}

function htmlText(html: string): string {
  const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html)?.[1];
  const text = title && title.trim() ? title : html.replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, ' ');
  return text.replace(/&nbsp;/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

const MAX_EXPLANATION = 300;

function oneLine(text: string): string | undefined {
  const line = text.replace(/\s+/g, ' ').trim();
  if (!line) return undefined;
  return line.length > MAX_EXPLANATION ? `${line.slice(0, MAX_EXPLANATION)}...` : line;
}

/** undici wraps the socket error: `TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } })`. */
function systemCodeOf(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if (isRecord(current) || current instanceof Error) {
      const code = (current as { code?: unknown }).code;
      // System errors (ECONNREFUSED), undici's (UND_ERR_*) and TLS's (DEPTH_ZERO_SELF_SIGNED_CERT).
      if (typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code)) return code;
      current = (current as { cause?: unknown }).cause;
    } else {
      break;
    }
  }
  return undefined;
}
