/**
 * A JSON body parsed as its bytes arrive, for the direct path's listings: a top-level array is cut
 * into its elements and each is parsed alone, so a page never exists as one string. A page of 500
 * PEMs is some 170 kB of text, over V8's limit for young objects: as one string it would land in
 * the large-object space and stay until a full GC, as would the chunks held to build it. Here each
 * chunk is let go once scanned and each element's text is a small, short-lived string. Anything
 * but an array is kept and parsed whole at the end, as JSON.parse would.
 *
 * The result is JSON.parse's for every valid body; an invalid one throws a SyntaxError, as
 * JSON.parse does (the messages differ). Like fetch's text(), a leading UTF-8 BOM is skipped.
 */

// A leading BOM is dealt with here, once: the decoder must not drop one anywhere else.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

const enum State {
  /** Before the first byte that is not whitespace. */
  Start,
  /** Not an array: every byte is kept and parsed at the end. */
  Whole,
  /** After `[`: an element or `]`. */
  FirstValue,
  /** After `,`: an element. */
  Value,
  /** Inside an element. */
  Element,
  /** After an element: `,` or `]`. */
  CommaOrEnd,
  /** After the closing `]`: whitespace only. */
  Done,
}

const BOM = [0xef, 0xbb, 0xbf];
const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

function isSpace(byte: number): boolean {
  return byte === SPACE || byte === LF || byte === CR || byte === TAB;
}

export class JsonStream {
  #state = State.Start;
  #position = 0;
  /** Bytes of a leading BOM seen so far, while one may still come. */
  #bom = 0;
  #bomAllowed = true;
  /** The bytes kept: all of them (Whole) or the current element's earlier chunks (Element). */
  #kept: Uint8Array[] = [];
  #items: unknown[] = [];
  /** Inside the current element: nesting, and where a string is. */
  #depth = 0;
  #primitive = false;
  #inString = false;
  #escaped = false;
  /** The body had bytes (an empty body is no JSON at all, which the caller decides about). */
  empty = true;

  /** Scans one chunk; throws a SyntaxError at the first byte that cannot be JSON. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.empty = false;
    if (this.#state === State.Whole) {
      this.#kept.push(chunk);
      return;
    }
    let start = this.#state === State.Element ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      switch (this.#state) {
        case State.Start:
          if (this.#bomAllowed && this.#bom < 3 && byte === BOM[this.#bom]) {
            this.#bom++;
            break;
          }
          this.#bomAllowed = false;
          if (isSpace(byte)) break;
          if (byte === OPEN_ARRAY && (this.#bom === 0 || this.#bom === 3)) {
            this.#state = State.FirstValue;
            break;
          }
          // Not an array (or a broken BOM, which JSON.parse refuses): kept whole from here.
          this.#state = State.Whole;
          if (this.#bom !== 0 && this.#bom !== 3) this.#kept.push(Uint8Array.from(BOM.slice(0, this.#bom)));
          this.#kept.push(chunk.subarray(i));
          this.#position += chunk.length - i;
          return;
        case State.FirstValue:
        case State.Value:
          if (isSpace(byte)) break;
          if (byte === CLOSE_ARRAY && this.#state === State.FirstValue) {
            this.#state = State.Done;
            break;
          }
          this.#state = State.Element;
          start = i;
          this.#depth = 0;
          this.#inString = false;
          this.#escaped = false;
          this.#primitive = !(byte === OPEN_OBJECT || byte === OPEN_ARRAY || byte === QUOTE);
          if (this.#primitive) break;
          if (byte === QUOTE) this.#inString = true;
          else this.#depth = 1;
          break;
        case State.Element:
          if (this.#primitive) {
            if (byte === COMMA || byte === CLOSE_ARRAY || isSpace(byte)) {
              this.#element(chunk, start, i);
              this.#state = State.CommaOrEnd;
              i--; // the terminator is read again as what follows the element
            }
            break;
          }
          if (this.#inString) {
            if (this.#escaped) this.#escaped = false;
            else if (byte === BACKSLASH) this.#escaped = true;
            else if (byte === QUOTE) {
              this.#inString = false;
              if (this.#depth === 0) {
                this.#element(chunk, start, i + 1);
                this.#state = State.CommaOrEnd;
              }
            }
            break;
          }
          if (byte === QUOTE) this.#inString = true;
          else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) this.#depth++;
          else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
            if (--this.#depth === 0) {
              this.#element(chunk, start, i + 1);
              this.#state = State.CommaOrEnd;
            }
          }
          break;
        case State.CommaOrEnd:
          if (isSpace(byte)) break;
          if (byte === COMMA) this.#state = State.Value;
          else if (byte === CLOSE_ARRAY) this.#state = State.Done;
          else this.#fail(i);
          break;
        case State.Done:
          if (!isSpace(byte)) this.#fail(i);
          break;
      }
    }
    if (this.#state === State.Element) this.#kept.push(chunk.subarray(start));
    this.#position += chunk.length;
  }

  /** The value of the whole body; throws a SyntaxError when it ended early or is not JSON. */
  end(): unknown {
    if (this.#state === State.Whole || this.#state === State.Start) {
      // Start: only whitespace (or a BOM) came, which JSON.parse refuses as it should.
      const text = this.#state === State.Start ? ' ' : decoder.decode(concat(this.#kept));
      this.#kept = [];
      return JSON.parse(text);
    }
    if (this.#state === State.Element && this.#primitive) {
      // A bare number at the end of the body cannot be an element: the array was never closed.
      this.#fail();
    }
    if (this.#state !== State.Done) throw new SyntaxError('Unexpected end of JSON input');
    const items = this.#items;
    this.#items = [];
    return items;
  }

  #element(chunk: Uint8Array, start: number, end: number): void {
    const tail = chunk.subarray(start, end);
    const bytes = this.#kept.length === 0 ? tail : concat([...this.#kept, tail]);
    this.#kept = [];
    this.#items.push(JSON.parse(decoder.decode(bytes)));
  }

  #fail(at?: number): never {
    throw new SyntaxError(`Unexpected token in JSON at position ${this.#position + (at ?? 0)}`);
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let length = 0;
  for (const part of parts) length += part.length;
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}
