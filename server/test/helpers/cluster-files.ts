import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

/**
 * Writes a cluster dump (PGlite's `dumpDataDir('none')`: a ustar archive of regular files and
 * folders) into `dir` with Node's own file calls: the data directory PGlite would have written
 * (a later PGlite.create(dir) opens it as it is), at the cost of copying 40 MB rather than writing
 * each block through PGlite's emulated file system (about 1.5 CPU s). For tests whose subject is
 * not how a data directory comes to hold a cluster. Test files only.
 */
export function writeClusterFiles(tarball: Uint8Array, dir: string): void {
  const root = resolve(dir);
  mkdirSync(root, { recursive: true });
  const text = (from: number, length: number) => Buffer.from(tarball.subarray(from, from + length)).toString('latin1').replace(/\0.*$/s, '');
  for (let at = 0; at + 512 <= tarball.length && tarball[at] !== 0; ) {
    if (text(at + 257, 5) !== 'ustar') throw new Error(`not a ustar archive at byte ${at}`);
    const prefix = text(at + 345, 155);
    const name = (prefix ? `${prefix}/` : '') + text(at, 100);
    const size = parseInt(text(at + 124, 12).trim() || '0', 8);
    const mode = parseInt(text(at + 100, 8).trim() || '600', 8);
    const type = String.fromCharCode(tarball[at + 156] ?? 0);
    const target = resolve(root, `.${name.startsWith('/') ? '' : '/'}${name}`);
    if (relative(root, target).startsWith('..')) throw new Error(`${name} is outside the data directory`);
    if (type === '5') mkdirSync(target, { recursive: true, mode });
    else if (type === '0' || type === '\0') {
      mkdirSync(join(target, '..'), { recursive: true });
      writeFileSync(target, tarball.subarray(at + 512, at + 512 + size), { mode });
    } else throw new Error(`${name}: an entry of type ${type}, which a cluster dump does not hold`);
    at += 512 + Math.ceil(size / 512) * 512;
  }
}
