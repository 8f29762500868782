const HEX_ID = /^[0-9a-f]{32}$/;
const REPORT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isHexId(value: unknown): value is string {
  return typeof value === 'string' && HEX_ID.test(value);
}

export function isReportId(value: unknown): value is string {
  return typeof value === 'string' && REPORT_ID.test(value);
}

let lastMs = 0;
let counter = 0;

/**
 * A new PEM ID: a UUID version 7 (RFC 9562) as 32 lowercase hex digits. Version 7 sorts by
 * creation time and, unlike the reference client's version 1, does not carry the host's MAC
 * address. A 12-bit counter keeps IDs made in the same millisecond in order within a process.
 */
export function newPemId(now: number = Date.now()): string {
  // Web Crypto, not node:crypto or Buffer: the same code runs in Node, Bun, Deno, browsers and edge runtimes.
  const random = globalThis.crypto.getRandomValues(new Uint8Array(10));
  if (now > lastMs) {
    lastMs = now;
    counter = (random[0]! << 4) & 0x7ff; // start low so a burst has room before it borrows a millisecond
  } else {
    counter += 1;
    if (counter > 0xfff) {
      lastMs += 1;
      counter = 0;
    }
  }
  const bytes = new Uint8Array(16);
  // 48-bit milliseconds, big-endian; two steps because bitwise operators stop at 32 bits.
  const high = Math.floor(lastMs / 2 ** 32);
  const low = lastMs >>> 0;
  bytes[0] = (high >>> 8) & 0xff;
  bytes[1] = high & 0xff;
  bytes[2] = (low >>> 24) & 0xff;
  bytes[3] = (low >>> 16) & 0xff;
  bytes[4] = (low >>> 8) & 0xff;
  bytes[5] = low & 0xff;
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | (random[1]! & 0x3f);
  bytes.set(random.subarray(2, 9), 9);
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
