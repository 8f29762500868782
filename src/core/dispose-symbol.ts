/**
 * `Symbol.asyncDispose` for the declarations, whatever the user's `lib`: RKClient's
 * `[Symbol.asyncDispose]()` (what `await using` calls) would otherwise need `lib: esnext` or
 * `@types/node` under `skipLibCheck: false`. The same declaration lib.esnext and @types/node make,
 * so it merges with theirs. At run time the symbol is the runtime's own (Node 20+, Bun, Deno,
 * recent browsers).
 */
declare global {
  interface SymbolConstructor {
    /** The method `await using` calls at the end of the scope. */
    readonly asyncDispose: unique symbol;
  }
}

export {};
