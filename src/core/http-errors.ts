import { explanationOf, isRecord, RKError } from './errors.js';
import { redactHeaders, redactValue } from './redact.js';

/**
 * The errors for a non-2xx answer, and the one map from status to class that every service's
 * every call goes through (`httpErrorFor`), so a 401 is an RKAuthError whichever method got it.
 */

/** The kinds an HTTP failure can have: one per class below. */
export type HttpErrorKind = 'http' | 'auth' | 'not_found' | 'rejected' | 'size_limit';

/** The service answered with a non-2xx status; subclasses say which family. */
export class RKHttpError extends RKError {
  readonly kind: HttpErrorKind = 'http';
  readonly status: number;
  /** The response body: parsed JSON when it was JSON, otherwise the text ('' when empty). */
  readonly body: unknown;
  readonly headers: Headers;
  /** The service's own explanation in one line, when its body carried one. */
  readonly serverMessage: string | undefined;
  /** The service's stable error code (`invalid_request`, `conflict`, ...), when it sent one. */
  readonly code: string | undefined;

  /** @param hint what to do about it, appended to the message */
  constructor(operation: string, status: number, statusText: string, answer: unknown, answerHeaders: Headers, hint?: string) {
    // Redacted before anything is read from it: a page that echoes request headers keeps no credential.
    const body = redactValue(answer);
    const headers = redactHeaders(answerHeaders);
    const serverMessage = explanationOf(body);
    // HTTP/2 and many proxies send no reason phrase; the standard one keeps messages readable.
    const phrase = statusText || REASON_PHRASES[status];
    const reason = phrase ? `HTTP ${status} ${phrase}` : `HTTP ${status}`;
    const said = serverMessage ? `${reason}: ${serverMessage}` : reason;
    super(operation, hint ? `${said}; ${hint}` : said);
    this.status = status;
    this.body = body;
    this.headers = headers;
    this.serverMessage = serverMessage;
    this.code = isRecord(body) && typeof body.code === 'string' ? body.code : undefined;
  }
}

/** 401 or 403: the credential is missing, wrong or not allowed to do this. Never retried. */
export class RKAuthError extends RKHttpError {
  override readonly kind = 'auth' as const;
}

/**
 * 404, 405 or 410. For a call whose route always exists (nothing in its path names a thing that
 * may be missing) it means the base URL is wrong, and the message says so. Never retried; an
 * outbox pauses on it and keeps every PEM.
 */
export class RKNotFoundError extends RKHttpError {
  override readonly kind = 'not_found' as const;
  /** The URL that was asked for, without credentials. */
  readonly url: string;
  /** True when the route itself is missing (the spec documents no such answer): the base URL is wrong. */
  readonly wrongUrl: boolean;

  constructor(
    operation: string,
    status: number,
    statusText: string,
    body: unknown,
    headers: Headers,
    request: { method: string; url: string },
    wrongUrl: boolean,
  ) {
    const hint = wrongUrl ? `${request.method} ${request.url} does not exist there: check the base URL given to the client` : undefined;
    super(operation, status, statusText, body, headers, hint);
    const url = request.url;
    this.url = url;
    this.wrongUrl = wrongUrl;
  }
}

/**
 * 400, 409, 422 or another final 4xx: the service refused the request itself (for sendPem, the
 * PEM); sending it again unchanged cannot succeed, so it is never retried. `serverMessage` says why.
 */
export class RKRejectedError extends RKHttpError {
  override readonly kind = 'rejected' as const;
}

/** 413: the service says the request (a PEM) is larger than it accepts. Never retried. */
export class RKPemTooLargeError extends RKHttpError {
  override readonly kind = 'size_limit' as const;
  /** The size that was sent, in bytes of UTF-8 JSON. */
  readonly sizeBytes: number;

  constructor(operation: string, status: number, statusText: string, body: unknown, headers: Headers, sizeBytes: number) {
    super(operation, status, statusText, body, headers);
    this.sizeBytes = sizeBytes;
  }
}

/** What the status map needs to know of the call that failed. */
export interface FailedCall {
  operation: string;
  method: string;
  /** The URL asked for, without credentials. */
  url: string;
  /** The statuses the spec documents for the operation. */
  documented: readonly number[];
  /** Bytes of the request body, for a 413. */
  sizeBytes?: number;
}

/** Statuses that say "not now" rather than "not this". */
function isTryLater(status: number): boolean {
  return status === 408 || status === 425 || status === 429;
}

/** The one status → class map, for every service and every call. */
export function httpErrorFor(call: FailedCall, status: number, statusText: string, body: unknown, headers: Headers): RKHttpError {
  const { operation } = call;
  if (status === 401 || status === 403) {
    const hint =
      status === 401
        ? 'pass a credential in the client options: pucAuth (a machine credential from your RK admin) or userAuth (a personal one from the RK Dashboard)'
        : 'the credential is valid but may not do this; ask your RK admin for one that may';
    return new RKAuthError(operation, status, statusText, body, headers, hint);
  }
  if (status === 404 || status === 405 || status === 410) {
    // A 404 the spec documents is about the thing asked for (a PEM, a report); any other means
    // the route itself is missing: a typo in the base URL, or another service's URL.
    return new RKNotFoundError(operation, status, statusText, body, headers, call, !call.documented.includes(status));
  }
  if (status === 413) return new RKPemTooLargeError(operation, status, statusText, body, headers, call.sizeBytes ?? 0);
  if (status >= 400 && status < 500 && !isTryLater(status)) return new RKRejectedError(operation, status, statusText, body, headers);
  return new RKHttpError(operation, status, statusText, body, headers);
}

/** Reason phrases for answers that came without one (HTTP/2, many proxies). */
const REASON_PHRASES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  425: 'Too Early',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};
