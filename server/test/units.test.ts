import { describe, expect, it } from 'vitest';
import { parsePythonLiteral, parseRows } from '../../src/python-literal.js';
import { parseOptions } from '../src/cli.js';
import { parseStatement, tokenize, UnsupportedQueryError } from '../src/cypher.js';
import { pythonString, toPythonLiteral } from '../src/python-literal.js';
import { escapeLike } from '../src/records.js';
import { readSegments } from '../src/base64-path.js';

describe('Python literal writer', () => {
  it('writes what repr() writes', () => {
    expect(toPythonLiteral([[3]])).toBe('[[3]]');
    expect(toPythonLiteral([['a', null, true, false, 1.5, -2]])).toBe("[['a', None, True, False, 1.5, -2]]");
    expect(toPythonLiteral({ k: ['x'] })).toBe("{'k': ['x']}");
    expect(pythonString("it's")).toBe(`"it's"`);
    expect(pythonString(`it's "x"`)).toBe(`'it\\'s "x"'`);
    expect(pythonString('a\\b\n\t\r')).toBe("'a\\\\b\\n\\t\\r'");
    expect(pythonString('\u0001\u007f\u00a0é☃🚀')).toBe("'\\x01\\x7f\\xa0é☃🚀'");
    expect(pythonString('\u2028\ud800')).toBe("'\\u2028\\ud800'");
    expect(toPythonLiteral([0.00001, 1e21, 1e-7, 0.1])).toBe('[1e-05, 1000000000000000000000, 1e-07, 0.1]');
  });

  it("round-trips through the client's parser", () => {
    const rows = [['model', '{"uri": "s3://m"}', null], ["quote ' and \" and \\", 'ünï ☃ 🚀 \u0000 \u2029', 42], [[], [[true]], -0.5]];
    expect(parseRows(toPythonLiteral(rows))).toEqual(rows);
    expect(parsePythonLiteral(toPythonLiteral({ a: 'b' }))).toEqual({ a: 'b' });
  });
});

describe('Cypher statements', () => {
  it('matches the reference statements exactly, whatever the whitespace, keyword case or final ;', () => {
    expect(parseStatement('MATCH (a:Artifact) RETURN count(a);').literals).toEqual([]);
    expect(parseStatement('  match (a:Artifact)\n  return COUNT ( a )  ').statement.shape).toBe('MATCH (a:Artifact) RETURN count(a)');
    expect(parseStatement("CALL rk.lineage.upstream('PEM', \"x\\\"y\\u00e9\")").literals).toEqual(['PEM', 'x"yé']);
  });

  it('refuses anything else', () => {
    for (const query of ['MATCH (a:artifact) RETURN count(a)', 'MATCH (a:Artifact) RETURN count(a) LIMIT 1', 'MATCH (a:Artifact) RETURN count(a);;', "CALL rk.lineage.upstream('a')", "CALL rk.lineage.upstream('a', 'b'", "'unterminated", 'x \\q']) {
      expect(() => parseStatement(query), query).toThrow(UnsupportedQueryError);
    }
    expect(() => tokenize("'a\\qb'")).toThrow(/unknown escape/);
  });
});

describe('LIKE escaping', () => {
  it('escapes the wildcards and the escape character', () => {
    expect(escapeLike('a%b_c\\d')).toBe('a\\%b\\_c\\\\d');
  });
});

describe('command line', () => {
  it('defaults to a data directory on 127.0.0.1:8082', () => {
    expect(parseOptions([], {})).toMatchObject({ port: 8082, host: '127.0.0.1', dataDir: './.rk-data', pemSizeLimit: 1048576, pemAuth: false });
  });

  it('reads flags and the environment', () => {
    const options = parseOptions(['--memory', '--port', '0', '--user-token', 'a', '--user-token', 'b', '--admin-token', 'c', '--pem-auth', '--pem-size-limit', '100', '--graph-interval', '0.5'], {
      RK_LOCAL_USER_TOKENS: 'd, e',
      RK_LOCAL_PUC_TOKENS: 'p',
    });
    expect(options).toMatchObject({ memory: true, port: 0, userTokens: ['a', 'b', 'd', 'e'], pucTokens: ['p'], adminTokens: ['c'], pemAuth: true, pemSizeLimit: 100, graphIntervalMs: 500 });
    expect(parseOptions([], { RK_DATABASE_URL: 'postgres://x@h/db' })).toMatchObject({ databaseUrl: 'postgres://x@h/db' });
  });

  it('refuses mistakes with a message', () => {
    expect(() => parseOptions(['--port', 'x'], {})).toThrow(/--port must be a whole number/);
    expect(() => parseOptions(['--memory', '--data-dir', 'd'], {})).toThrow(/choose one of/);
    expect(() => parseOptions(['--memory'], { RK_DATABASE_URL: 'postgres://x' })).toThrow(/choose one of/);
    expect(() => parseOptions(['--graph-interval', '0'], {})).toThrow(/--graph-interval/);
    expect(() => parseOptions(['--nope'], {})).toThrow();
    expect(() => parseOptions(['--replies', 'json'], {})).toThrow(/--replies must be one of rich, reference, got "json"/);
  });

  it('takes the reply mode, rich unless told', () => {
    expect(parseOptions([], {})).not.toHaveProperty('replies'); // startLocalRK's default, rich
    expect(parseOptions(['--replies', 'reference'], {})).toMatchObject({ replies: 'reference' });
    expect(parseOptions(['--replies', 'rich'], {})).toMatchObject({ replies: 'rich' });
  });
});

describe('reading base64 path segments that hold a raw /', () => {
  const getTag = [{ literal: 'tag' }, { param: 'ns', base64: true }, { param: 'tag', base64: true }];
  const setTag = [...getTag, { param: 'id', base64: false }];
  const read = (segments: typeof setTag, path: string) => readSegments(segments, path.split('/'));
  const id = '0192f3a4b5c67d8e9f0a1b2c3d4e5f60';

  it('takes one segment per parameter as it is, for validation to judge', () => {
    expect(read(getTag, 'tag/abc/d')).toEqual([{ ns: 'abc', tag: 'd' }]);
    expect(read(setTag, `tag/Pz8%2F/dA%3D%3D/${id}`)).toEqual([{ ns: 'Pz8%2F', tag: 'dA%3D%3D', id }]);
  });

  it('splits by length and padding, the last segment of a tag move being the PEM id', () => {
    expect(read(getTag, 'tag/Pz8//dA==')).toEqual([{ ns: 'Pz8/', tag: 'dA==' }]);
    expect(read(setTag, `tag/bg==/Pz8//${id}`)).toEqual([{ ns: 'bg==', tag: 'Pz8/', id }]);
    expect(read(setTag, `tag/Pz8/Pz8//Pz4//${id}`)).toEqual([{ ns: 'Pz8/Pz8/', tag: 'Pz4/', id }]);
    expect(read(setTag, `tag/Pz8/x/dA==/${id}`)).toEqual([]);
    expect(read(getTag, 'tag/YQ==/Yg==/Yw==')).toEqual([]); // '=' inside a value
  });

  it('prefers the only reading that decodes to UTF-8 text, and reports several otherwise', () => {
    // AAAA + BBB/CCCC and AAAA/BBB + CCCC both have base64's structure; neither is UTF-8.
    expect(read(getTag, 'tag/AAAA/BBB/CCCC')).toEqual([{ ns: 'AAAA', tag: 'BBB/CCCC' }, { ns: 'AAAA/BBB', tag: 'CCCC' }]);
    // YWJj + YWJ/ZGVm is 'abc' + 'ab\x7fdef'; YWJj/YWJ starts a quad with '/' (a byte from 0xFC), never UTF-8.
    expect(read(getTag, 'tag/YWJj/YWJ/ZGVm')).toEqual([{ ns: 'YWJj', tag: 'YWJ/ZGVm' }]);
  });
});
