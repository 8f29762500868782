import type { DropReason } from './events.js';

const REASONS: readonly DropReason[] = [
  'invalid',
  'too_large',
  'rejected',
  'auth',
  'not_found',
  'queue_full',
  'outbox_full',
  'dropped_oldest',
  'expired',
  'corrupt',
  'shutdown',
  'aborted',
  'timeout',
  'connection',
  'http',
  'unexpected_response',
];

/** The counters behind `stats()`; they only grow. */
export class Tally {
  /** Requests made to send PEMs (first attempts, retries, outbox deliveries). */
  attempts = 0;
  /** Of those, retries within a sendPem call. */
  retries = 0;
  /** Retries the budget refused. */
  retriesDenied = 0;
  /** PEMs the Receiver acknowledged (accepted or duplicate), by sendPem or by the outbox. */
  delivered = 0;
  /** Of those, acknowledged as `duplicate`. */
  duplicates = 0;
  /** sendPem calls that resolved `persisted`. */
  persisted = 0;
  /** Outbox writes that failed (the PEM was then sent without the outbox). */
  outboxWriteErrors = 0;
  readonly dropped: Record<DropReason, number> = Object.fromEntries(REASONS.map((r) => [r, 0])) as Record<DropReason, number>;

  /** Every drop, whatever its reason. */
  get failed(): number {
    return REASONS.reduce((sum, reason) => sum + this.dropped[reason], 0);
  }

  drop(reason: DropReason): void {
    this.dropped[reason]++;
  }
}
