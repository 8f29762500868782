import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

/**
 * Global setup (vitest.config.ts): one temporary folder per test run where the packed tarball is
 * installed once for every suite that needs a user's project (test/packaging/packed-project.ts),
 * removed when the run ends. It sits outside the repository so that nothing the package forgot
 * to depend on is found in the repository's own node_modules. Creating it costs nothing: a run
 * with no packaging suite never installs anything.
 */
declare module 'vitest' {
  export interface ProvidedContext {
    rkInstallDir: string;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'rk-installed-'));
  project.provide('rkInstallDir', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
