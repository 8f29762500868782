import { describe, expect, it } from 'vitest';
import { parseArtifacts } from '../../src/cli/commands/send.js';
import { EXIT, exitCodeOf } from '../../src/cli/exit.js';
import { colourWanted, drawTree, humanTime, Output, relativeTime } from '../../src/cli/output.js';
import { parsePemId, parseTagRef } from '../../src/cli/targets.js';
import { RKConnectionError, RKHttpError, RKInvalidInputError, RKSizeLimitError, RKTimeoutError } from '../../src/index.js';

/** The CLI's pure parts; everything else is tested through the built command (rk.test.ts). */
describe('rk building blocks', () => {
  it('maps every error kind to its exit code', () => {
    expect(exitCodeOf(new RKHttpError('Listing PEMs', 401, '', { message: 'no' }, new Headers()))).toBe(EXIT.refused);
    expect(exitCodeOf(new RKSizeLimitError('Sending PEM', 10, 5))).toBe(EXIT.refused);
    expect(exitCodeOf(new RKConnectionError('Listing PEMs', 'http://x', new Error('ECONNREFUSED')))).toBe(EXIT.unreachable);
    expect(exitCodeOf(new RKTimeoutError('Listing PEMs', 'http://x', 5))).toBe(EXIT.unreachable);
    expect(exitCodeOf(new RKInvalidInputError('Reading PEM', 'pemId', 'must be hex'))).toBe(EXIT.usage);
  });

  it('parses --uses name=key=value, merging repeats of a name; a value may hold "="', () => {
    expect([...parseArtifacts(['a', 'b=uri=s3://x?y=1', 'b=rows=10'], '--uses')]).toEqual([
      ['a', {}],
      ['b', { uri: 's3://x?y=1', rows: '10' }],
    ]);
    expect(() => parseArtifacts(['=k=v'], '--uses')).toThrow('has no artifact name');
    expect(() => parseArtifacts(['a=k'], '--uses')).toThrow('a property needs key=value');
  });

  it('parses tags and PEM IDs', () => {
    expect(parseTagRef('ns/prod', 'me')).toEqual({ namespace: 'ns', name: 'prod' });
    expect(parseTagRef('prod', 'me')).toEqual({ namespace: 'me', name: 'prod' });
    expect(parseTagRef('ns/a/b', 'me')).toEqual({ namespace: 'ns', name: 'a/b' });
    expect(() => parseTagRef('ns/', 'me')).toThrow('is not a tag');
    expect(parsePemId('0192F3C4-A5B6-C7D8-E9F0-A1B2C3D4E5F6')).toBe('0192f3c4a5b6c7d8e9f0a1b2c3d4e5f6');
    expect(() => parsePemId('abc')).toThrow('is not a PEM ID');
  });

  it('writes relative and absolute times', () => {
    const now = new Date('2026-12-01T10:00:00Z');
    expect(relativeTime(new Date('2026-12-01T09:59:58Z'), now)).toBe('just now');
    expect(relativeTime(new Date('2026-12-01T09:59:30Z'), now)).toBe('30 s ago');
    expect(relativeTime(new Date('2026-12-01T09:15:00Z'), now)).toBe('45 min ago');
    expect(relativeTime(new Date('2026-11-29T10:00:00Z'), now)).toBe('2 d ago');
    expect(relativeTime(new Date('2026-12-01T12:00:00Z'), now)).toBe('in 2 h');
    expect(humanTime('2026-12-01 09:00:00', now)).toBe('2026-12-01 09:00:00 UTC (1 h ago)');
    expect(humanTime('not a time', now)).toBe('not a time');
    expect(humanTime(null, now)).toBe('-');
  });

  it('draws trees', () => {
    expect(drawTree({ label: 'a', children: [{ label: 'b', children: [{ label: 'c' }] }, { label: 'd' }] })).toEqual(['a', '├── b', '│   └── c', '└── d']);
  });

  it('colours only a terminal, never with NO_COLOR or TERM=dumb', () => {
    expect(colourWanted({ write() {}, isTTY: true }, {})).toBe(true);
    expect(colourWanted({ write() {}, isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colourWanted({ write() {}, isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(colourWanted({ write() {}, isTTY: true }, { TERM: 'dumb' })).toBe(false);
    expect(colourWanted({ write() {} }, {})).toBe(false);
  });

  it('aligns tables by visible width and scrubs credentials from everything it prints', () => {
    let stdout = '';
    let stderr = '';
    const out = new Output({ stdout: { write: (t: string) => (stdout += t), isTTY: true }, stderr: { write: (t: string) => (stderr += t) }, env: {}, json: false });
    out.hide(['s3cr3t']);
    out.table([{ title: 'A', style: 'bold' }, { title: 'B' }], [['x', 'token s3cr3t'], ['longer', 'y']]);
    out.error('the server echoed s3cr3t');
    const plain = stdout.replace(/\u001b\[[0-9;]*m/g, '');
    expect(plain).toBe('A       B\nx       token ***\nlonger  y\n');
    expect(stdout).toContain('\u001b[1mA\u001b[22m');
    expect(stderr).toBe('rk: error: the server echoed ***\n');
  });
});
