/**
 * The writer beside the parser: writes values the way Python's `repr()` does, which is how RK's Query service answers
 * `POST /query` (`[['model', '{"uri": "s3://m"}', None]]`).
 */

import type { PythonValue } from './python-literal.js';

/** A value written as Python's `repr` writes it, as the reference servers answer graph queries. */
export function toPythonLiteral(value: PythonValue): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return pythonNumber(value);
  if (typeof value === 'string') return pythonString(value);
  if (Array.isArray(value)) return `[${value.map(toPythonLiteral).join(', ')}]`;
  return `{${Object.entries(value)
    .map(([k, v]) => `${pythonString(k)}: ${toPythonLiteral(v)}`)
    .join(', ')}}`;
}

function pythonNumber(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  // Integers print as ints; a JS number that is not an integer is a Python float.
  if (Number.isInteger(value)) return Math.abs(value) < 1e21 ? String(value === 0 ? 0 : value) : BigInt(value).toString();
  // Python switches to exponent notation below 1e-4 and from 1e16, with at least two exponent
  // digits (1e-05); JS does so below 1e-6 and from 1e21, with one (1e-5).
  const abs = Math.abs(value);
  const text = abs < 1e-4 || abs >= 1e16 ? value.toExponential() : String(value);
  return text.replace(/e([+-])(\d)$/, 'e$10$2');
}

// Python's str.isprintable(): everything except other (Cc, Cf, Cs, Co, Cn) and separators
// (Zl, Zp, Zs) other than the ASCII space.
const NOT_PRINTABLE = /[\p{C}\p{Z}]/u;

/** Python's repr of a str: single quotes unless the text holds `'` and no `"`. */
export function pythonString(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === quote || char === '\\') out += `\\${char}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (char !== ' ' && NOT_PRINTABLE.test(char)) out += escapeCodePoint(code);
    else out += char;
  }
  return out + quote;
}

function escapeCodePoint(code: number): string {
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\U${code.toString(16).padStart(8, '0')}`;
}
