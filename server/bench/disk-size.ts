import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** Bytes of every file below a folder: a replica copy's size on disk, for the lineage benchmarks. */
export function bytesUnder(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? bytesUnder(full) : statSync(full).size;
  }
  return total;
}
