import { describe, expect, it } from 'vitest';
import { JsonStream } from '../../src/core/json-stream.js';

/** JSON.parse of the text as fetch's text() decodes it (a leading BOM dropped), or the error's class. */
function reference(bytes: Uint8Array): unknown {
  try {
    return { value: JSON.parse(new TextDecoder().decode(bytes)) };
  } catch (error) {
    return { error: (error as Error).constructor.name };
  }
}

function streamed(chunks: Uint8Array[]): unknown {
  const stream = new JsonStream();
  try {
    for (const chunk of chunks) stream.push(chunk);
    return { value: stream.end() };
  } catch (error) {
    return { error: (error as Error).constructor.name };
  }
}

const VALID = [
  '[]',
  ' [ ] ',
  '[1]',
  '[1,2,3]',
  '[ -1.5e3 , true,false , null ]',
  '["a","b\\"]c","\\\\",""]',
  '[{"ID":"x","Properties":{"a":[1,{"b":"]}"}]},"UsesArtifacts":[]},{}]',
  '[[[]],[{}],[[1,[2]]]]',
  '["é日本😀", {"k":"€"}]',
  '\n[\t{"a" : 1}\r\n]\n',
  '{"not":"an array"}',
  '"text"',
  '42',
  'null',
  '\ufeff[1,2]',
  '\ufeff{"a":1}',
];

const INVALID = [
  '[',
  '[1',
  '[1,',
  '[1,]',
  '[,1]',
  '[1 2]',
  '[1]]',
  '[1] x',
  '[tru]',
  '[{"a":1}',
  '[{"a":}]',
  '["unterminated]',
  '[01]',
  '   ',
  '{"a":',
  'x',
  '[1]\ufeff',
  ' \ufeff[1]',
];

describe('JsonStream', () => {
  const encode = (text: string) => new TextEncoder().encode(text);

  it('gives what JSON.parse gives, however the body is cut into chunks', () => {
    for (const text of [...VALID, ...INVALID]) {
      const bytes = encode(text);
      const expected = reference(bytes);
      expect(streamed([bytes]), text).toEqual(expected);
      for (let cut = 0; cut <= bytes.length; cut++) {
        expect(streamed([bytes.subarray(0, cut), bytes.subarray(cut)]), `${text} cut at ${cut}`).toEqual(expected);
      }
      expect(streamed([...bytes].map((byte) => Uint8Array.of(byte))), `${text} byte by byte`).toEqual(expected);
    }
  });

  it('refuses what is not JSON, as JSON.parse does', () => {
    for (const text of INVALID) expect(streamed([encode(text)]), text).toEqual({ error: 'SyntaxError' });
  });

  it('says when the body had no bytes at all', () => {
    const stream = new JsonStream();
    stream.push(new Uint8Array(0));
    expect(stream.empty).toBe(true);
  });

  it('parses a page of 500 PEMs cut at socket-sized chunks', () => {
    const page = Array.from({ length: 500 }, (_, i) => ({ ID: i.toString(16).padStart(32, '0'), Properties: { step: String(i), text: 'é "quoted" ]}' }, UsesArtifacts: [`d-${i}`] }));
    const bytes = encode(JSON.stringify(page));
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < bytes.length; at += 16_384) chunks.push(bytes.subarray(at, at + 16_384));
    expect(streamed(chunks)).toEqual({ value: page });
  });
});
