import type { Stream } from './output.js';

/**
 * A spinner on stderr for work that takes more than a second (an `--all` listing, loading a
 * lineage). Only when stderr is a terminal, so it never reaches a pipe, a log file or stdout.
 */
export interface Progress {
  /** Replaces the text shown after the spinner. */
  update(text: string): void;
  /** Erases the spinner line before other output; the next frame draws it again. */
  clear(): void;
  /** Removes the spinner for good; always call it, also on failure. */
  stop(): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
export const PROGRESS_DELAY_MS = 1000;
const FRAME_MS = 100;

const silent: Progress = { update() {}, clear() {}, stop() {} };

export function startProgress(stderr: Stream, text: string, options: { delayMs?: number } = {}): Progress {
  if (stderr.isTTY !== true) return silent;
  let label = text;
  let frame = 0;
  let shown = false;
  let spinner: NodeJS.Timeout | undefined;
  const draw = () => {
    shown = true;
    stderr.write(`\r\u001b[2K${FRAMES[frame++ % FRAMES.length]} ${label}`);
  };
  const delay = setTimeout(() => {
    draw();
    spinner = setInterval(draw, FRAME_MS);
    spinner.unref();
  }, options.delayMs ?? PROGRESS_DELAY_MS);
  delay.unref();
  return {
    update(next) {
      label = next;
    },
    clear() {
      if (shown) stderr.write('\r\u001b[2K');
    },
    stop() {
      clearTimeout(delay);
      if (spinner) clearInterval(spinner);
      if (shown) stderr.write('\r\u001b[2K');
      shown = false;
    },
  };
}

/** Waits for `work` with a spinner showing `text` if it takes more than a second. */
export async function during<T>(stderr: Stream, text: string, work: Promise<T>): Promise<T> {
  const progress = startProgress(stderr, text);
  try {
    return await work;
  } finally {
    progress.stop();
  }
}
