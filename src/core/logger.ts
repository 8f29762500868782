/** Where the client reports what is worth knowing but is not a failure (a skipped duplicate artifact). */
export interface Logger {
  /** Something the user should know about, such as a skipped duplicate artifact. */
  warn(message: string): void;
  /** Detail for debugging (requests, retries); optional, and off unless the logger has it. */
  debug?(message: string): void;
}

/** Warnings go to stderr by default so they are seen; pass a logger to route or silence them. */
export const consoleLogger: Logger = {
  warn: (message) => console.warn(`[recordkeeper-client] ${message}`),
};
