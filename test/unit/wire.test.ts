import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RKClient, type RKOptions } from '../../src/index.js';

/**
 * The two wires read a body that arrives in many chunks, with multi-byte characters cut between
 * chunks, to the same text: the undici wire (RKClient on Node) decodes chunk by chunk, so no chunk
 * outlives its turn; fetch reads the whole body.
 */

const WIRES: [string, RKOptions][] = [
  ['undici', {}],
  ['fetch', { fetch: (input, init) => globalThis.fetch(input, init) }],
];
/** A Receiver's info with a long version text: a body of many chunks (extra fields are allowed). */
const info = {
  version: 'é€😀日本語'.repeat(20_000),
  pem_version: '2.0.0',
  pem_size_limit: 1000,
  auth_required: false,
  pem_auth_required: false,
};

let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((_req, res) => {
    const bytes = Buffer.from(JSON.stringify(info));
    res.writeHead(200, { 'Content-Type': 'application/json' });
    // Pieces of about 7.8 kB at shifting offsets, one per turn of the event loop: characters are cut between chunks.
    let at = 0;
    const next = () => {
      if (at >= bytes.length) return void res.end();
      res.write(bytes.subarray(at, at + 7777 + (at % 7)));
      at += 7777 + (at % 7);
      setImmediate(next);
    };
    next();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe.each(WIRES)('a body in many chunks (%s)', (_, wire) => {
  it('is read whole, every character intact', async () => {
    const rk = new RKClient(`${base}/receiver`, 'e', { ...wire, retry: false });
    expect(await rk.getInfo()).toEqual({ ok: true, value: info });
    await rk.close();
  });
});
