import type { AllOperations, OperationId, Pem, Reply, ReplyOf } from './types.js';

/**
 * How the server words its answers. `rich` (the default) answers what the specs describe first:
 * JSON acknowledgements and JSON errors. `reference` answers only in the forms publicly known from
 * the real Record Keeper and the reference Python client's tests, so a client can be tried
 * against what it will meet there: text acks (`Ack getting <Type>`, `OK`, an empty tag reply) and
 * one-line text errors, with the same status codes. Known replies (infos, lists, counts, reports,
 * graph rows, the tag lookup) are the same in both modes, but for what is ours in them: the Query
 * service's `/info` lists `capabilities` (reads the real RK does not offer) only in rich replies. Every form is documented in the specs,
 * so the tests' spec validator checks both modes.
 *
 * Handlers always produce the rich reply; the mode is applied once, here, to every answer.
 */

export const REPLY_MODES = ['rich', 'reference'] as const;
export type RepliesMode = (typeof REPLY_MODES)[number];

/** What the request turned out to be, as far as it got before it was answered. */
export interface ReplyContext {
  operationId?: string;
  /** The parsed JSON body, once read. */
  body?: unknown;
}

export type ReplyShaper = (reply: Reply, context: ReplyContext) => Reply;

export function replyShaper(mode: RepliesMode): ReplyShaper {
  return mode === 'reference' ? referenceReply : (reply) => reply;
}

/** Throws unless `value` names a mode; the message lists them. */
export function repliesMode(value: unknown, name = 'replies'): RepliesMode {
  if (value === undefined) return 'rich';
  if (REPLY_MODES.includes(value as RepliesMode)) return value as RepliesMode;
  throw new Error(`${name} must be one of ${REPLY_MODES.join(', ')}, got ${JSON.stringify(value)}`);
}

const text = 'text/plain' as const;

// Typed with the generated operations: a form the spec does not document fails to compile.
// Each gets the request's context and the rich reply the handler made.
const REFERENCE_SUCCESS: Partial<Record<OperationId, (context: ReplyContext, rich: Reply) => Reply>> = {
  // The real RK's /info lists no capabilities: what this server offers beyond it is ours.
  getQueryInfo: (_context, rich): ReplyOf<AllOperations['getQueryInfo']> => {
    const { capabilities: _ours, ...info } = rich.body as AllOperations['getQueryInfo']['responses'][200]['content']['application/json'];
    return { status: 200, type: 'application/json', body: info };
  },
  sendPem: ({ body }): ReplyOf<AllOperations['sendPem']> => ({ status: 200, type: text, body: `Ack getting ${(body as Pem).Type}` }),
  setTag: (): ReplyOf<AllOperations['setTag']> => ({ status: 200, type: text, body: '' }),
  cleanDatabases: (): ReplyOf<AllOperations['cleanDatabases']> => ({ status: 200, type: text, body: 'OK' }),
  flushGraph: (): ReplyOf<AllOperations['flushGraph']> => ({ status: 200, type: text, body: 'OK' }),
  // The spec documents this as /rebuild's 2XX reply (its own is 202), which ReplyOf does not list.
  rebuildGraph: () => ({ status: 200, type: text, body: 'OK' satisfies AllOperations['rebuildGraph']['responses']['2XX']['content']['text/plain'] }),
};

/** The reference client's tests expect a refused PEM to be explained in this form. */
const PEM_INVALID_PREFIX = 'PEM is not valid: ';

function referenceReply(reply: Reply, context: ReplyContext): Reply {
  if (reply.status < 300) {
    const known = context.operationId ? REFERENCE_SUCCESS[context.operationId as OperationId] : undefined;
    return known ? { ...known(context, reply), headers: reply.headers } : reply;
  }
  const message = (reply.body as { message?: unknown } | undefined)?.message;
  if (reply.type !== 'application/json' || typeof message !== 'string') return reply;
  const invalidPem = context.operationId === 'sendPem' && (reply.status === 400 || reply.status === 422);
  return { status: reply.status, type: text, body: `${invalidPem ? PEM_INVALID_PREFIX : ''}${oneLine(message)}`, headers: reply.headers };
}

/** A text error is one line: a client shows it as the server's explanation. */
function oneLine(message: string): string {
  return message
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' ');
}
