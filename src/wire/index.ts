/**
 * What the client and a Record Keeper server share about the wire, exported as the subpath
 * `recordkeeper-client/wire` so a server (recordkeeper-local) imports it instead of reaching into
 * src/: the Python-literal rows of graph queries (parse and format), timestamps, tag path segments.
 * Values only: no I/O, no Node built-ins.
 */
export { parsePythonLiteral, parseRows, PythonLiteralError, MAX_NESTING_DEPTH, type PythonValue } from './python-literal.js';
export { toPythonLiteral, pythonString } from './python-literal-format.js';
export { formatTimestamp, parseTimestamp } from './timestamps.js';
export { encodeTagSegment, decodeTagSegment, tagPathSerializer } from './tag-segments.js';
