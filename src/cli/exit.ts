import { RKAuthError, RKNotFoundError, type RKError } from '../public.js';

/** The one auth status that means "known but not allowed" rather than "no credential". */
const FORBIDDEN = 403;

/** The exit codes of `rk`, one meaning each, so scripts can branch on them. */
export const EXIT = Object.freeze({
  /** Done as asked. */
  ok: 0,
  /** The service said no (its message is printed), or what was asked for does not exist. */
  refused: 1,
  /** The command line is wrong: the usage is printed. */
  usage: 2,
  /** A service could not be reached (refused connection, DNS, TLS, timeout). */
  unreachable: 3,
});

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * A failure `rk` reports and exits on: the message says what went wrong, `hint` what to do.
 * Commands throw it; main prints it once and exits with `code`.
 */
export class CliError extends Error {
  readonly code: ExitCode;
  readonly hint: string | undefined;

  constructor(code: ExitCode, message: string, hint?: string) {
    super(message);
    this.code = code;
    this.hint = hint;
  }
}

/** A mistake on the command line; main prints the command's usage after it. */
export class UsageError extends CliError {
  constructor(message: string, hint?: string) {
    super(EXIT.usage, message, hint);
  }
}

/** Which exit code a library error means, from its `kind`. */
export function exitCodeOf(error: RKError): ExitCode {
  switch (error.kind) {
    case 'connection':
    case 'timeout':
      return EXIT.unreachable;
    case 'invalid_input':
      return EXIT.usage;
    default:
      // http (the server's answer), size_limit, unexpected_response, queue_full, shutdown, abort
      return EXIT.refused;
  }
}

/** Where to look next, for the failures people meet most. */
export function hintFor(error: RKError, setting?: { flag: string; env: string }): string | undefined {
  const where = setting ? `${setting.flag} or ${setting.env}` : 'the service URL';
  switch (error.kind) {
    case 'connection':
      return `Is Record Keeper running there? Check ${where}, or start one with "rk local".`;
    case 'timeout':
      return 'The service is slow or stuck: try again, or raise --timeout (milliseconds).';
    case 'auth':
      return error instanceof RKAuthError && error.status === FORBIDDEN
        ? 'The credential is known but not allowed to do this; ask your RK admin.'
        : 'Give a credential: --user-auth or RK_USER_AUTH (personal, from the RK Dashboard), or --puc-auth or RK_PUC_AUTH (a machine credential from your RK admin).';
    case 'not_found':
      return error instanceof RKNotFoundError && error.wrongUrl ? `There is no such route: check ${where} (…/receiver, …/query, …/graph-builder).` : undefined;
    case 'unexpected_response':
      return `It answered, but not as Record Keeper does there: is ${where} the right service's base URL (…/receiver, …/query, …/graph-builder)?`;
    case 'size_limit':
      return 'Move large content out of Properties (store it elsewhere and reference it by URI).';
    default:
      return undefined;
  }
}

/** Throws the library error as a CliError with its exit code and a hint. */
export function failWith(error: RKError, setting?: { flag: string; env: string }): never {
  throw new CliError(exitCodeOf(error), error.message, hintFor(error, setting));
}
