/**
 * The process environment where the runtime has one (Node, Bun, Deno with `process`), and nothing
 * in a browser or an edge runtime: reading `process.env` there throws a ReferenceError, so every
 * read of an environment variable goes through here.
 */
export function environmentVariable(name: string): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const value = env?.[name];
  return typeof value === 'string' ? value : undefined;
}
