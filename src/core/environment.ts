/**
 * The runtime's `process`, where it has one (Node, Bun, Deno), typed as the few parts the core
 * client uses; undefined in a browser or an edge runtime, where naming `process` throws a
 * ReferenceError. Every use of `process` in the core client goes through here.
 */
export interface RuntimeProcess {
  env?: Record<string, string | undefined>;
  versions?: { node?: unknown };
  platform?: string;
  cwd?(): string;
  on?(event: string, listener: () => void): unknown;
}

export function runtimeProcess(): RuntimeProcess | undefined {
  return (globalThis as { process?: RuntimeProcess }).process;
}

/** An environment variable, or undefined where there is none (or no environment at all). */
export function environmentVariable(name: string): string | undefined {
  const value = runtimeProcess()?.env?.[name];
  return typeof value === 'string' ? value : undefined;
}

/** Node itself (not Deno or Bun, which also define process.versions.node). */
export function onNode(): boolean {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  return typeof runtimeProcess()?.versions?.node === 'string' && g.Deno === undefined && g.Bun === undefined;
}
