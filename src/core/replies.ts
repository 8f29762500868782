import { isPlainObject } from './checks.js';
import { isHexId } from '../wire/ids.js';
import type { components } from '../generated/receiver.js';

type TagRecord = components['schemas']['TagRecord'];
type PemAck = components['schemas']['PemAck'];

/**
 * Reading the answers whose body the real Record Keeper never made public: `POST /pem`,
 * `POST /tag/...`, `POST /clean`, `POST /rebuild`, `POST /flush`. The reference client never reads
 * them, so any 2xx is success whatever it carries (empty, `Ack getting ingest`, `OK`, `{}`, our
 * local RK's JSON). Our richer JSON is used when it is there; otherwise the value is built from what
 * the client sent. Publicly known bodies (infos, lists, counts) are checked elsewhere, strictly.
 *
 * These operations are fetched with `parseAs: 'text'`, so the body arrives here as text.
 */

/** A 2xx body as text, and as JSON when it parses as JSON. */
export interface Reply {
  text: string;
  json: unknown;
}

export function replyOf(data: unknown): Reply {
  const text = typeof data === 'string' ? data : '';
  const trimmed = text.trim();
  let json: unknown;
  if (trimmed.startsWith('{') || trimmed.startsWith('[') || trimmed.startsWith('"')) {
    try {
      json = JSON.parse(trimmed);
    } catch {
      json = undefined;
    }
  }
  return { text: trimmed, json };
}

/** The Receiver's acknowledgement of a PEM, as the client reads it from any 2xx. */
export type ReceiverAck = PemAck & {
  /** The Receiver's own words when its answer was not a JSON acknowledgement, e.g. `Ack getting ingest`. */
  reply?: string;
};

/** `duplicate` only when the Receiver said so (our local RK does); any other 2xx is `accepted`. */
const ACK_STATUSES: readonly PemAck['status'][] = ['accepted', 'duplicate'];

/** Ours when the body is our `{ID, status}` for this PEM; otherwise `accepted`, with the body's text. */
export function pemAckOf(id: string, data: unknown): ReceiverAck {
  // Our local RK's answer as it writes it (JSON.stringify of {ID, status}): known without a parse.
  if (data === `{"ID":"${id}","status":"accepted"}`) return { ID: id, status: 'accepted' };
  const reply = replyOf(data);
  const body = reply.json;
  if (isPlainObject(body) && body.ID === id && ACK_STATUSES.includes(body.status as PemAck['status'])) {
    return { ID: id, status: body.status as PemAck['status'] };
  }
  return reply.text ? { ID: id, status: 'accepted', reply: oneLine(reply.text) } : { ID: id, status: 'accepted' };
}

/** What setTag sent: the tag record less the Receiver's time. */
export type TagSent = Omit<TagRecord, 'UpdatedAt'>;

/** What setTag resolves with: what was set, and `UpdatedAt` when the Receiver says when (only our local RK does). */
export type TagAck = TagSent & Partial<Pick<TagRecord, 'UpdatedAt'>>;

/**
 * Ours when the body is the tag record of this namespace and tag: the PEM it names and the time it
 * gives win (the Receiver's word on where the tag points); otherwise what was sent.
 */
export function tagAckOf(sent: TagSent, data: unknown): TagAck {
  const body = replyOf(data).json;
  if (!isPlainObject(body)) return { ...sent };
  const record = body as Partial<Record<keyof TagRecord, unknown>>;
  if (record.NamespaceID !== sent.NamespaceID || record.Tag !== sent.Tag || !isHexId(record.EventID)) return { ...sent };
  return typeof record.UpdatedAt === 'string' ? { ...sent, EventID: record.EventID, UpdatedAt: record.UpdatedAt } : { ...sent, EventID: record.EventID };
}

/** The message of an admin POST: our `{msg}`, a JSON string, or the body's text ('' when there is none). */
export function messageOf(data: unknown): string {
  const reply = replyOf(data);
  const body = reply.json;
  if (isPlainObject(body)) {
    for (const key of ['msg', 'message', 'status'] as const) {
      const value = body[key];
      if (typeof value === 'string') return value;
    }
    return '';
  }
  if (typeof body === 'string') return body;
  return reply.text;
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}
