// The README's install block (```sh install), run as written but for its `git clone` line, which
// a checkout of this repository already is. CI's install step runs it in its own clean clone, so
// CI installs exactly as a newcomer does and the README cannot drift from what CI runs;
// test/readme/fresh-clone.test.ts reads the README's blocks and runs this one through the same
// functions (on a clone of its own, or on the install CI made here: RK_README_INSTALL).
//
//   node scripts/readme-install.mjs DIR
//
// DIR (made if missing; keep it outside the repository, so that the project finds nothing in
// the repository's node_modules) gets the clone's folder as the README names it
// (`recordkeeper-client`, a link to this checkout), where the block's `cd` finds it, and the
// block's `my-project` beside it. Then DIR/readme-install.json records the commands that ran,
// the checkout and the project, for the test to check. Needs only Node: it runs before `npm ci`.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const RECORD = 'readme-install.json';

/** npm's chatter off (no audit, fund or update notice): what it installs is the same. */
export const QUIET_NPM = { npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

/** The commands of the README's ```sh <name> block, without their trailing comments. */
export function readmeCommands(name, readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8')) {
  const body = new RegExp(`^\`\`\`sh ${name}\\n([\\s\\S]*?)^\`\`\`$`, 'm').exec(readme)?.[1];
  if (body === undefined) throw new Error(`the README has no \`\`\`sh ${name} block`);
  return body
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line && !line.startsWith('#'));
}

/**
 * The install block split as it runs: its first line, the `git clone`, and the folder that clone
 * makes (the URL's last part, as git names it); then the rest, run from the clone's parent.
 */
export function installBlock(readme) {
  const [clone, ...rest] = readmeCommands('install', readme);
  const url = /^git clone (\S+) *$/.exec(clone ?? '')?.[1];
  if (url === undefined) throw new Error(`the README's install block must start with \`git clone <url>\`, not ${JSON.stringify(clone)}`);
  const project = rest.map((line) => /\bmkdir (\S+)/.exec(line)?.[1]).find(Boolean);
  if (project === undefined) throw new Error("the README's install block makes no project folder (`mkdir <name>`)");
  return { clone, folder: path.basename(url).replace(/\.git$/, ''), project, rest };
}

/**
 * Runs the install block but for its clone in `dir`, where `dir/<folder>` is the clone (made a
 * link to `checkout` when missing). Resolves to the record it wrote, with the output (none when
 * `inherit` sends it to this process's own).
 */
export async function runInstallBlock(dir, { checkout = ROOT, env = {}, readme, inherit = false } = {}) {
  const block = installBlock(readme);
  mkdirSync(dir, { recursive: true });
  const clone = path.join(dir, block.folder);
  if (!existsSync(clone)) symlinkSync(checkout, clone, 'dir');
  // npm's own variables (when this runs under npm) would point the block's npm at this repository.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  const child = spawn('bash', ['-eo', 'pipefail', '-c', block.rest.join('\n')], {
    cwd: dir,
    env: { ...inherited, ...QUIET_NPM, ...env },
    stdio: ['ignore', inherit ? 'inherit' : 'pipe', inherit ? 'inherit' : 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => (stdout += chunk));
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise((resolve) => {
    child.once('error', (error) => {
      stderr += String(error);
      resolve(1);
    });
    child.once('close', (status) => resolve(status ?? 1));
  });
  const record = { commands: block.rest, code, checkout: realpathSync(clone), clone, project: path.join(dir, block.project) };
  writeFileSync(path.join(dir, RECORD), `${JSON.stringify(record, null, 2)}\n`);
  return { ...record, stdout, stderr };
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node scripts/readme-install.mjs DIR   (DIR outside the repository: the clone is linked there, my-project made beside it)');
    process.exit(2);
  }
  const ran = await runInstallBlock(path.resolve(dir), { inherit: true });
  console.log(`the README's install block, but for its git clone, ran in ${path.resolve(dir)}: exit ${ran.code}`);
  process.exit(ran.code);
}
