// Types of scripts/readme-install.mjs for the tests that import it (test/readme/fresh-clone.test.ts).
export declare const ROOT: string;
/** The file the install writes in its folder: what ran, where, and how it ended. */
export declare const RECORD: string;
export declare const QUIET_NPM: Record<string, string>;
export declare function readmeCommands(name: string, readme?: string): string[];
export declare function installBlock(readme?: string): { clone: string; folder: string; project: string; rest: string[] };
export interface InstallRecord {
  commands: string[];
  code: number;
  /** The real path of the clone the block ran in. */
  checkout: string;
  clone: string;
  project: string;
}
export declare function runInstallBlock(
  dir: string,
  options?: { checkout?: string; env?: Record<string, string>; readme?: string; inherit?: boolean },
): Promise<InstallRecord & { stdout: string; stderr: string }>;
