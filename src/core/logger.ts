/** Where the client reports what is worth knowing but is not a failure (a skipped duplicate artifact). */
export interface Logger {
  warn(message: string): void;
  debug?(message: string): void;
}

/** Warnings go to stderr by default so they are seen; pass a logger to route or silence them. */
export const consoleLogger: Logger = {
  warn: (message) => console.warn(`[recordkeeper-client] ${message}`),
};
