import { describe, it, expect } from 'vitest';
import {
  MAX_NESTING_DEPTH,
  PythonLiteralError,
  parsePythonLiteral,
  parseRows,
} from '../../src/wire/python-literal.js';

/** Returns the PythonLiteralError thrown by parsing `text`; fails the test if there is none. */
function errorOf(text: string, parse: (text: string) => unknown = parsePythonLiteral): PythonLiteralError {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(PythonLiteralError);
    return error as PythonLiteralError;
  }
  throw new Error(`expected parsing ${JSON.stringify(text)} to throw`);
}

describe('parsePythonLiteral: scalars', () => {
  it('parses None, True and False', () => {
    expect(parsePythonLiteral('None')).toBeNull();
    expect(parsePythonLiteral('True')).toBe(true);
    expect(parsePythonLiteral('False')).toBe(false);
  });

  it('parses integers, including negative ones and zero', () => {
    expect(parsePythonLiteral('0')).toBe(0);
    expect(parsePythonLiteral('42')).toBe(42);
    expect(parsePythonLiteral('-7')).toBe(-7);
    expect(Object.is(parsePythonLiteral('-0'), 0)).toBe(true);
  });

  it('parses floats as repr() writes them', () => {
    expect(parsePythonLiteral('1.5')).toBe(1.5);
    expect(parsePythonLiteral('-0.25')).toBe(-0.25);
    expect(parsePythonLiteral('2.0')).toBe(2);
    expect(parsePythonLiteral('1e-05')).toBe(0.00001);
    expect(parsePythonLiteral('1.5e+20')).toBe(1.5e20);
    expect(parsePythonLiteral('3E2')).toBe(300);
    expect(Object.is(parsePythonLiteral('-0.0'), -0)).toBe(true);
  });

  it('accepts the largest exactly representable integers', () => {
    expect(parsePythonLiteral('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    expect(parsePythonLiteral('-9007199254740991')).toBe(Number.MIN_SAFE_INTEGER);
  });
});

describe('parsePythonLiteral: strings', () => {
  it('parses single- and double-quoted strings, including empty ones', () => {
    expect(parsePythonLiteral("'abc'")).toBe('abc');
    expect(parsePythonLiteral('"abc"')).toBe('abc');
    expect(parsePythonLiteral("''")).toBe('');
    expect(parsePythonLiteral('""')).toBe('');
  });

  it('parses the quote styles repr() picks', () => {
    expect(parsePythonLiteral(`"it's"`)).toBe("it's");
    expect(parsePythonLiteral(`'say "hi"'`)).toBe('say "hi"');
    // Contains both quote types, so repr() escapes the single quote.
    expect(parsePythonLiteral(String.raw`'both \' and "'`)).toBe(`both ' and "`);
    expect(parsePythonLiteral(String.raw`"both ' and \""`)).toBe(`both ' and "`);
  });

  it('decodes the simple escapes', () => {
    expect(parsePythonLiteral(String.raw`'a\\b'`)).toBe('a\\b');
    expect(parsePythonLiteral(String.raw`'l1\nl2\tt\rr'`)).toBe('l1\nl2\tt\rr');
    expect(parsePythonLiteral(String.raw`'\a\b\f\v'`)).toBe('\x07\b\f\v');
  });

  it('decodes \\x, \\u and \\U escapes', () => {
    expect(parsePythonLiteral(String.raw`'\x41\x7f\x00'`)).toBe('A\x7f\0');
    expect(parsePythonLiteral(String.raw`'caf\u00e9'`)).toBe('café');
    expect(parsePythonLiteral(String.raw`'\U0001F600'`)).toBe('😀');
    expect(parsePythonLiteral(String.raw`'\ud800'`)).toBe('\ud800');
  });

  it('decodes \\0 and longer octal escapes', () => {
    expect(parsePythonLiteral(String.raw`'a\0b'`)).toBe('a\0b');
    expect(parsePythonLiteral(String.raw`'\101\012'`)).toBe('A\n');
    expect(parsePythonLiteral(String.raw`'\1012'`)).toBe('A2');
  });

  it('keeps non-ASCII characters that repr() leaves unescaped', () => {
    expect(parsePythonLiteral("'é😀 ü'")).toBe('é😀 ü');
  });

  it('round-trips a JSON document embedded in a Python string', () => {
    const parsed = parsePythonLiteral(`'{"uri": "s3://b/a.csv"}'`);
    expect(typeof parsed).toBe('string');
    expect(JSON.parse(parsed as string)).toEqual({ uri: 's3://b/a.csv' });
  });

  it('keeps JSON escapes intact inside a Python string', () => {
    // repr(json.dumps({'note': 'line1\nline2', 'q': "it's"})) in CPython.
    const text = String.raw`'{"note": "line1\\nline2", "q": "it\'s"}'`;
    const parsed = parsePythonLiteral(text) as string;
    expect(parsed).toBe(String.raw`{"note": "line1\nline2", "q": "it's"}`);
    expect(JSON.parse(parsed)).toEqual({ note: 'line1\nline2', q: "it's" });
  });
});

describe('parsePythonLiteral: containers', () => {
  it('parses lists, tuples and dicts, empty or not', () => {
    expect(parsePythonLiteral('[]')).toEqual([]);
    expect(parsePythonLiteral('()')).toEqual([]);
    expect(parsePythonLiteral('{}')).toEqual({});
    expect(parsePythonLiteral('[1, 2]')).toEqual([1, 2]);
    expect(parsePythonLiteral('(1, 2)')).toEqual([1, 2]);
    expect(parsePythonLiteral('(1,)')).toEqual([1]);
    expect(parsePythonLiteral("{'a': 1}")).toEqual({ a: 1 });
  });

  it('parses nested combinations', () => {
    const text = "[1, (2, 'x'), {'a': [None, (True,)], 'b': {}}, (), [[]]]";
    expect(parsePythonLiteral(text)).toEqual([1, [2, 'x'], { a: [null, [true]], b: {} }, [], [[]]]);
  });

  it('turns number keys into their Python spelling', () => {
    expect(parsePythonLiteral("{1: 'one', -2: 'minus two', 1e-05: 'tiny', 'k': (2, 3)}")).toEqual({
      '1': 'one',
      '-2': 'minus two',
      '1e-05': 'tiny',
      k: [2, 3],
    });
  });

  it('accepts trailing commas, as Python does', () => {
    expect(parsePythonLiteral('[1, 2,]')).toEqual([1, 2]);
    expect(parsePythonLiteral('(1, 2,)')).toEqual([1, 2]);
    expect(parsePythonLiteral("{'a': 1,}")).toEqual({ a: 1 });
  });

  it("stores a '__proto__' key as data without touching the prototype", () => {
    const parsed = parsePythonLiteral("{'__proto__': {'polluted': True}}") as Record<string, unknown>;
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.hasOwn(parsed, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value).toEqual({ polluted: true });
    expect((parsed as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it(`accepts exactly ${MAX_NESTING_DEPTH} levels of nesting`, () => {
    const text = '['.repeat(MAX_NESTING_DEPTH) + ']'.repeat(MAX_NESTING_DEPTH);
    let value = parsePythonLiteral(text);
    let depth = 0;
    while (Array.isArray(value)) {
      depth++;
      value = value[0] ?? null;
    }
    expect(depth).toBe(MAX_NESTING_DEPTH);
  });
});

describe('parsePythonLiteral: whitespace', () => {
  it('allows no whitespace at all', () => {
    expect(parsePythonLiteral("[1,'a',{'k':(None,)}]")).toEqual([1, 'a', { k: [null] }]);
  });

  it('allows spaces, tabs, newlines and form feeds between tokens and around the value', () => {
    const text = " \n [ 1 ,\n\t2 , ( 3 , ) ,\r\n{ 'a' :\f[ ] } ] \n";
    expect(parsePythonLiteral(text)).toEqual([1, 2, [3], { a: [] }]);
  });

  it('keeps whitespace inside strings', () => {
    expect(parsePythonLiteral("[ '  a \t b  ' ]")).toEqual(['  a \t b  ']);
  });
});

describe('parseRows', () => {
  it('parses a count query answer', () => {
    expect(parseRows('[[3]]')).toEqual([[3]]);
  });

  it('parses artifact rows, whose properties field is JSON', () => {
    const text =
      "[['dataset-a', '{\"uri\": \"s3://b/a.csv\"}', '2023-01-02 10:00:00'], ['model', '', None]]";
    const rows = parseRows(text);
    expect(rows).toEqual([
      ['dataset-a', '{"uri": "s3://b/a.csv"}', '2023-01-02 10:00:00'],
      ['model', '', null],
    ]);
    expect(JSON.parse(rows[0]?.[1] as string)).toEqual({ uri: 's3://b/a.csv' });
  });

  it('accepts tuple rows and an empty result', () => {
    expect(parseRows("[(1, 'a'), [2], ()]")).toEqual([[1, 'a'], [2], []]);
    expect(parseRows('[]')).toEqual([]);
  });

  it('rejects a top level that is not a list, naming what it found', () => {
    const dict = errorOf("  {'a': 1}", parseRows);
    expect(dict.message).toBe('Expected a list of rows at offset 2, found dict');
    expect(dict.position).toBe(2);
    expect(errorOf('3', parseRows).message).toBe('Expected a list of rows at offset 0, found number');
    expect(errorOf('None', parseRows).message).toBe('Expected a list of rows at offset 0, found None');
    expect(errorOf('((1,),)', parseRows).message).toBe('Expected a list of rows at offset 0, found tuple');
  });

  it('rejects a row that is not a list or tuple, pointing at it', () => {
    const error = errorOf("[[1], 'oops', [2]]", parseRows);
    expect(error.message).toBe("Expected row 1 to be a list or tuple at offset 6, found string");
    expect(error.position).toBe(6);
    expect(errorOf('[[1], {}]', parseRows).message).toBe(
      'Expected row 1 to be a list or tuple at offset 6, found dict',
    );
    expect(errorOf('[True]', parseRows).message).toBe(
      'Expected row 0 to be a list or tuple at offset 1, found bool',
    );
  });

  it('passes syntax errors through', () => {
    const error = errorOf('[[3]', parseRows);
    expect(error.message).toBe("Expected ',' or ']' at offset 4, found end of input");
  });
});

describe('errors', () => {
  it('is a PythonLiteralError, which is an Error with a name and position', () => {
    const error = errorOf('[x]');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('PythonLiteralError');
    expect(error.position).toBe(1);
  });

  it('rejects empty and whitespace-only input', () => {
    const empty = errorOf('');
    expect(empty.message).toBe('Expected a value at offset 0, found end of input');
    expect(empty.position).toBe(0);
    const blank = errorOf(' \n ');
    expect(blank.message).toBe('Expected a value at offset 3, found end of input');
    expect(blank.position).toBe(3);
  });

  it('rejects an unterminated string', () => {
    const error = errorOf("['abc");
    expect(error.message).toBe(`Expected closing "'" (string opened at offset 1) at offset 5, found end of input`);
    expect(error.position).toBe(5);
    expect(errorOf('"abc').message).toBe(
      `Expected closing '"' (string opened at offset 0) at offset 4, found end of input`,
    );
  });

  it('rejects a raw line break inside a string', () => {
    const error = errorOf("'ab\ncd'");
    expect(error.message).toBe(`Expected closing "'" (string opened at offset 0) at offset 3, found '\\n'`);
    expect(error.position).toBe(3);
  });

  it('treats an escaped closing quote as part of the string', () => {
    const error = errorOf(String.raw`'abc\'`);
    expect(error.message).toBe(`Expected closing "'" (string opened at offset 0) at offset 6, found end of input`);
  });

  it('rejects unknown identifiers instead of evaluating them', () => {
    const nonee = errorOf('Nonee');
    expect(nonee.message).toBe("Expected None, True or False at offset 0, found unknown identifier 'Nonee'");
    expect(nonee.position).toBe(0);
    const dunder = errorOf("[1, __import__('os')]");
    expect(dunder.message).toBe(
      "Expected None, True or False at offset 4, found unknown identifier '__import__'",
    );
    expect(dunder.position).toBe(4);
    for (const word of ['none', 'true', 'inf', 'nan']) {
      expect(errorOf(word).message).toBe(
        `Expected None, True or False at offset 0, found unknown identifier '${word}'`,
      );
    }
  });

  it('rejects string prefixes such as b or r', () => {
    expect(errorOf("b'abc'").message).toBe(
      "Expected None, True or False at offset 0, found unknown identifier 'b'",
    );
  });

  it('truncates very long identifiers in the message', () => {
    const error = errorOf('x'.repeat(10_000));
    expect(error.message).toBe(
      `Expected None, True or False at offset 0, found unknown identifier '${'x'.repeat(40)}...'`,
    );
  });

  it('rejects trailing garbage after the value', () => {
    const error = errorOf('[1] x');
    expect(error.message).toBe("Expected end of input at offset 4, found 'x'");
    expect(error.position).toBe(4);
    expect(errorOf('[[3]]]').message).toBe("Expected end of input at offset 5, found ']'");
    expect(errorOf("'a' 'b'").message).toBe(`Expected end of input at offset 4, found "'"`);
    expect(errorOf('None None').message).toBe("Expected end of input at offset 5, found 'N'");
  });

  it('rejects a missing separator or an unclosed container', () => {
    const error = errorOf('[1, 2, 3, 4 x]');
    expect(error.message).toBe("Expected ',' or ']' at offset 12, found 'x'");
    expect(error.position).toBe(12);
    expect(errorOf('(1 2)').message).toBe("Expected ',' or ')' at offset 3, found '2'");
    expect(errorOf("{'a': 1 'b': 2}").message).toBe("Expected ',' or '}' at offset 8, found \"'\"");
    expect(errorOf('[1,').message).toBe('Expected a value at offset 3, found end of input');
    expect(errorOf('[,]').message).toBe("Expected a value at offset 1, found ','");
  });

  it('rejects a parenthesised value that is not a tuple', () => {
    const error = errorOf('(1)');
    expect(error.message).toBe("Expected ',' (a one-element tuple is written '(x,)') at offset 2, found ')'");
    expect(error.position).toBe(2);
  });

  it('rejects malformed dict entries', () => {
    const colon = errorOf("{'a' 1}");
    expect(colon.message).toBe("Expected ':' at offset 5, found '1'");
    expect(colon.position).toBe(5);
    const key = errorOf('{None: 1}');
    expect(key.message).toBe("Expected a string or number dict key at offset 1, found 'N'");
    expect(key.position).toBe(1);
    expect(errorOf('{(1,): 2}').message).toBe("Expected a string or number dict key at offset 1, found '('");
  });

  it('rejects dict keys that collide once stringified', () => {
    const error = errorOf("{1: 'int', '1': 'str'}");
    expect(error.message).toBe("Expected unique dict keys at offset 11, found duplicate key '1'");
    expect(error.position).toBe(11);
  });

  it('rejects nesting deeper than the limit without overflowing the stack', () => {
    const tooDeep = '['.repeat(MAX_NESTING_DEPTH + 1) + ']'.repeat(MAX_NESTING_DEPTH + 1);
    const error = errorOf(tooDeep);
    expect(error.message).toBe(
      `Expected at most ${MAX_NESTING_DEPTH} levels of nesting at offset ${MAX_NESTING_DEPTH}, found '['`,
    );
    expect(error.position).toBe(MAX_NESTING_DEPTH);
    expect(errorOf('[('.repeat(200_000)).position).toBe(MAX_NESTING_DEPTH);
  });

  it('rejects integers too large to represent exactly', () => {
    const error = errorOf('[1, 9007199254740992]');
    expect(error.message).toBe(
      'Expected an integer of magnitude at most 9007199254740991 at offset 4, ' +
        'found 9007199254740992, which is too large to represent exactly',
    );
    expect(error.position).toBe(4);
    expect(errorOf('-12345678901234567890').message).toMatch(/found -12345678901234567890, which is too large/);
  });

  it('rejects floats that overflow', () => {
    const error = errorOf('1e400');
    expect(error.message).toBe('Expected a finite float at offset 0, found 1e400');
    expect(error.position).toBe(0);
  });

  it('rejects malformed numbers', () => {
    expect(errorOf('-').message).toBe('Expected a digit at offset 1, found end of input');
    expect(errorOf('- 1').message).toBe("Expected a digit at offset 1, found ' '");
    expect(errorOf('1.').message).toBe('Expected a digit at offset 2, found end of input');
    expect(errorOf('1e+x').message).toBe("Expected a digit at offset 3, found 'x'");
    expect(errorOf('0x1F').message).toBe("Expected end of input at offset 1, found 'x'");
    expect(errorOf('+1').message).toBe("Expected a value at offset 0, found '+'");
  });

  it('rejects unknown escapes', () => {
    const error = errorOf(String.raw`'ab\qc'`);
    expect(error.message).toBe(String.raw`Expected a valid escape sequence at offset 3, found '\\q'`);
    expect(error.position).toBe(3);
    expect(errorOf(String.raw`'\N{DASH}'`).message).toBe(
      String.raw`Expected a valid escape sequence at offset 1, found '\\N'`,
    );
  });

  it('rejects short or non-hex \\x, \\u and \\U escapes', () => {
    const error = errorOf(String.raw`'\x4g'`);
    expect(error.message).toBe(String.raw`Expected 2 hex digits after \x at offset 4, found 'g'`);
    expect(error.position).toBe(4);
    expect(errorOf(String.raw`'\u12'`).message).toBe(
      String.raw`Expected 4 hex digits after \u at offset 5, found "'"`,
    );
    expect(errorOf(String.raw`'\U0001F6'`).message).toBe(
      String.raw`Expected 8 hex digits after \U at offset 9, found "'"`,
    );
  });

  it('rejects \\U escapes beyond the last Unicode code point', () => {
    const error = errorOf(String.raw`'\U00110000'`);
    expect(error.message).toBe(
      String.raw`Expected a code point at most \U0010ffff at offset 1, found '\\U00110000'`,
    );
    expect(error.position).toBe(1);
  });
});
