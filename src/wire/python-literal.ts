/**
 * Parser for the Python `repr()` text that Record Keeper Query's `POST /query`
 * returns instead of JSON, e.g. `[['model', '', None], ['x', '{"a": 1}', 3]]`.
 *
 * The text comes from the network, so it is parsed by hand: never `eval`,
 * `Function` or `JSON.parse`. Nesting depth is bounded so hostile input cannot
 * overflow the stack, and every step moves forward through the text, so the
 * work is linear in its length. Anything outside the literal subset that
 * `repr()` produces for query rows is rejected rather than guessed at.
 */

export type PythonValue =
  | null
  | boolean
  | number
  | string
  | PythonValue[]
  | { [key: string]: PythonValue };

/** Deeper input is rejected; real query rows are two or three levels deep. */
export const MAX_NESTING_DEPTH = 256;

export class PythonLiteralError extends Error {
  /** Character offset into the parsed text where the problem was found. */
  readonly position: number;

  constructor(message: string, position: number) {
    super(message);
    this.name = 'PythonLiteralError';
    this.position = position;
  }
}

/** Parses one Python literal; the whole text (bar surrounding whitespace) must be that literal. */
export function parsePythonLiteral(text: string): PythonValue {
  return new Parser(text).parseDocument();
}

/**
 * Parses a `POST /query` answer: a list whose items (rows) are lists or tuples.
 * Tuples and lists both become arrays.
 */
export function parseRows(text: string): PythonValue[][] {
  const parser = new Parser(text);
  const value = parser.parseDocument();
  const start = parser.documentStart;
  if (!Array.isArray(value) || text[start] !== '[') {
    throw new PythonLiteralError(
      `Expected a list of rows at offset ${start}, found ${kindOf(value, text[start])}`,
      start,
    );
  }
  const rows: PythonValue[][] = [];
  value.forEach((row, index) => {
    const at = parser.topLevelItemOffsets[index] ?? start;
    if (!Array.isArray(row)) {
      throw new PythonLiteralError(
        `Expected row ${index} to be a list or tuple at offset ${at}, found ${kindOf(row, text[at])}`,
        at,
      );
    }
    rows.push(row);
  });
  return rows;
}

// Python's own escapes besides \x \u \U and octal. \N{NAME} is deliberately
// absent: it would need the Unicode name table, and repr() never emits it.
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  n: '\n',
  t: '\t',
  r: '\r',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
};

const MAX_SHOWN = 40;

class Parser {
  private pos = 0;
  private depth = 0;
  /** Where the top-level value starts, after leading whitespace. */
  documentStart = 0;
  /** Start offsets of the outermost container's items, so parseRows can point at a bad row. */
  readonly topLevelItemOffsets: number[] = [];

  constructor(private readonly text: string) {}

  parseDocument(): PythonValue {
    this.skipWhitespace();
    this.documentStart = this.pos;
    const value = this.parseValue();
    this.skipWhitespace();
    if (this.pos < this.text.length) this.fail('end of input');
    return value;
  }

  private parseValue(): PythonValue {
    const ch = this.text[this.pos];
    if (ch === '[') return this.parseSequence(']');
    if (ch === '(') return this.parseSequence(')');
    if (ch === '{') return this.parseDict();
    if (ch === "'" || ch === '"') return this.parseString();
    if (ch === '-' || isDigit(ch)) return this.parseNumber().value;
    if (isIdentifierStart(ch)) return this.parseKeyword();
    return this.fail('a value');
  }

  private parseKeyword(): PythonValue {
    const start = this.pos;
    while (isIdentifierPart(this.text[this.pos])) this.pos++;
    const word = this.text.slice(start, this.pos);
    if (word === 'None') return null;
    if (word === 'True') return true;
    if (word === 'False') return false;
    return this.fail('None, True or False', start, `unknown identifier ${quote(truncate(word))}`);
  }

  /** Lists and tuples, which both become arrays. */
  private parseSequence(close: ']' | ')'): PythonValue[] {
    this.enterContainer();
    const recordOffsets = this.depth === 1;
    const items: PythonValue[] = [];
    let endedWithComma = false;
    this.skipWhitespace();
    while (this.text[this.pos] !== close) {
      if (recordOffsets) this.topLevelItemOffsets.push(this.pos);
      items.push(this.parseValue());
      this.skipWhitespace();
      endedWithComma = this.text[this.pos] === ',';
      if (endedWithComma) {
        this.pos++;
        this.skipWhitespace();
      } else if (this.text[this.pos] !== close) {
        this.fail(`',' or '${close}'`);
      }
    }
    // In Python `(x)` is just x in parentheses, not a tuple. repr() never
    // writes that, so refusing it beats guessing which one the caller meant.
    if (close === ')' && items.length === 1 && !endedWithComma) {
      this.fail("',' (a one-element tuple is written '(x,)')");
    }
    this.pos++;
    this.depth--;
    return items;
  }

  private parseDict(): { [key: string]: PythonValue } {
    this.enterContainer();
    const dict: { [key: string]: PythonValue } = {};
    this.skipWhitespace();
    while (this.text[this.pos] !== '}') {
      const keyStart = this.pos;
      const key = this.parseKey();
      this.skipWhitespace();
      if (this.text[this.pos] !== ':') this.fail("':'");
      this.pos++;
      this.skipWhitespace();
      const value = this.parseValue();
      // Keys are stringified, so 1 and '1' would silently collide.
      if (Object.hasOwn(dict, key)) {
        this.fail('unique dict keys', keyStart, `duplicate key ${quote(truncate(key))}`);
      }
      // defineProperty, because assigning a '__proto__' key would replace the prototype.
      Object.defineProperty(dict, key, { value, enumerable: true, writable: true, configurable: true });
      this.skipWhitespace();
      if (this.text[this.pos] === ',') {
        this.pos++;
        this.skipWhitespace();
      } else if (this.text[this.pos] !== '}') {
        this.fail("',' or '}'");
      }
    }
    this.pos++;
    this.depth--;
    return dict;
  }

  private parseKey(): string {
    const ch = this.text[this.pos];
    if (ch === "'" || ch === '"') return this.parseString();
    // The source spelling is Python's str() of the number, e.g. '1e-05' rather than JS's '0.00001'.
    if (ch === '-' || isDigit(ch)) return this.parseNumber().raw;
    return this.fail('a string or number dict key');
  }

  private parseNumber(): { value: number; raw: string } {
    const start = this.pos;
    if (this.text[this.pos] === '-') this.pos++;
    this.skipDigits();
    let isFloat = false;
    if (this.text[this.pos] === '.') {
      isFloat = true;
      this.pos++;
      this.skipDigits();
    }
    if (this.text[this.pos] === 'e' || this.text[this.pos] === 'E') {
      isFloat = true;
      this.pos++;
      if (this.text[this.pos] === '+' || this.text[this.pos] === '-') this.pos++;
      this.skipDigits();
    }
    const raw = this.text.slice(start, this.pos);
    const value = Number(raw);
    if (!isFloat && !Number.isSafeInteger(value)) {
      this.fail(
        `an integer of magnitude at most ${Number.MAX_SAFE_INTEGER}`,
        start,
        `${truncate(raw)}, which is too large to represent exactly`,
      );
    }
    // Python's repr of an overflowing float is 'inf', so an infinite result means malformed input.
    if (!Number.isFinite(value)) this.fail('a finite float', start, truncate(raw));
    // Python has no negative integer zero, but -0.0 is a real float.
    return { value: !isFloat && value === 0 ? 0 : value, raw };
  }

  private skipDigits(): void {
    if (!isDigit(this.text[this.pos])) this.fail('a digit');
    while (isDigit(this.text[this.pos])) this.pos++;
  }

  private parseString(): string {
    const start = this.pos;
    const delimiter = this.text.charAt(this.pos);
    this.pos++;
    let result = '';
    let chunkStart = this.pos;
    for (;;) {
      const ch = this.text[this.pos];
      // Python forbids raw line breaks in a one-line string, so one means the quote never closed.
      if (ch === undefined || ch === '\n' || ch === '\r') {
        this.fail(`closing ${quote(delimiter)} (string opened at offset ${start})`);
      }
      if (ch === delimiter) break;
      if (ch === '\\') {
        result += this.text.slice(chunkStart, this.pos) + this.parseEscape();
        chunkStart = this.pos;
      } else {
        this.pos++;
      }
    }
    result += this.text.slice(chunkStart, this.pos);
    this.pos++;
    return result;
  }

  private parseEscape(): string {
    const start = this.pos;
    const kind = this.text[this.pos + 1];
    this.pos += 2;
    if (kind !== undefined && Object.hasOwn(SIMPLE_ESCAPES, kind)) return SIMPLE_ESCAPES[kind] ?? '';
    if (kind === 'x') return String.fromCharCode(this.readHex(2, kind));
    if (kind === 'u') return String.fromCharCode(this.readHex(4, kind));
    if (kind === 'U') {
      const codePoint = this.readHex(8, kind);
      if (codePoint > 0x10ffff) {
        this.fail('a code point at most \\U0010ffff', start, quote(this.text.slice(start, this.pos)));
      }
      return String.fromCodePoint(codePoint);
    }
    if (isOctalDigit(kind)) {
      // Octal takes up to three digits, so '\012' is a newline, not NUL followed by '12'.
      const digitsStart = this.pos - 1;
      while (this.pos - digitsStart < 3 && isOctalDigit(this.text[this.pos])) this.pos++;
      return String.fromCharCode(parseInt(this.text.slice(digitsStart, this.pos), 8));
    }
    return this.fail('a valid escape sequence', start, quote(this.text.slice(start, this.pos)));
  }

  private readHex(count: number, kind: string): number {
    const digitsStart = this.pos;
    for (let i = 0; i < count; i++, this.pos++) {
      if (!isHexDigit(this.text[this.pos])) this.fail(`${count} hex digits after \\${kind}`);
    }
    return parseInt(this.text.slice(digitsStart, this.pos), 16);
  }

  private enterContainer(): void {
    if (this.depth >= MAX_NESTING_DEPTH) this.fail(`at most ${MAX_NESTING_DEPTH} levels of nesting`);
    this.depth++;
    this.pos++;
  }

  private skipWhitespace(): void {
    while (isWhitespace(this.text[this.pos])) this.pos++;
  }

  private fail(expected: string, at = this.pos, found = describeChar(this.text[at])): never {
    throw new PythonLiteralError(`Expected ${expected} at offset ${at}, found ${found}`, at);
  }
}

function kindOf(value: PythonValue, firstChar: string | undefined): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return 'bool';
  if (Array.isArray(value)) return firstChar === '[' ? 'list' : 'tuple';
  if (typeof value === 'object') return 'dict';
  return typeof value;
}

function describeChar(ch: string | undefined): string {
  return ch === undefined ? 'end of input' : quote(ch);
}

/** Quotes text for an error message, making control characters visible. */
function quote(text: string): string {
  const visible = JSON.stringify(text).slice(1, -1).replaceAll('\\"', '"');
  return text === "'" ? `"'"` : `'${visible}'`;
}

function truncate(text: string): string {
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}...` : text;
}

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9';
}

function isOctalDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '7';
}

function isHexDigit(ch: string | undefined): boolean {
  return ch !== undefined && /^[0-9a-fA-F]$/.test(ch);
}

function isIdentifierStart(ch: string | undefined): boolean {
  return ch !== undefined && /^[A-Za-z_]$/.test(ch);
}

function isIdentifierPart(ch: string | undefined): boolean {
  return ch !== undefined && /^\w$/.test(ch);
}

function isWhitespace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f';
}
