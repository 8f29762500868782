/**
 * Everything `rk` prints goes through here: human text (aligned tables, trees, times, colour only
 * on a terminal and never with NO_COLOR) or JSON for machines, results on stdout, messages and
 * progress on stderr. Credentials are scrubbed from both streams, whatever a server echoes.
 */

export interface Stream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan' | 'magenta';

const CODES: Record<Style, [number, number]> = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
  magenta: [35, 39],
};

/** Colour on a terminal only, and never when NO_COLOR is set to anything (https://no-color.org) or TERM is dumb. */
export function colourWanted(stream: Stream, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

export class Output {
  readonly json: boolean;
  readonly stdout: Stream;
  readonly stderr: Stream;
  readonly #colour: boolean;
  readonly #errColour: boolean;
  #secrets: string[] = [];

  constructor(options: { stdout: Stream; stderr: Stream; env: NodeJS.ProcessEnv; json: boolean }) {
    this.stdout = options.stdout;
    this.stderr = options.stderr;
    this.json = options.json;
    this.#colour = colourWanted(options.stdout, options.env);
    this.#errColour = colourWanted(options.stderr, options.env);
  }

  /** Values never to print (credentials); replaced by `***` wherever they appear. */
  hide(secrets: readonly string[]): void {
    this.#secrets = secrets.filter((s) => s.length > 0);
  }

  scrub(text: string): string {
    let clean = text;
    for (const secret of this.#secrets) clean = clean.split(secret).join('***');
    return clean;
  }

  /** Paints text for stdout (plain when stdout is not a colour terminal). */
  paint(style: Style, text: string): string {
    return this.#colour ? wrap(style, text) : text;
  }

  /** Paints text for stderr. */
  paintErr(style: Style, text: string): string {
    return this.#errColour ? wrap(style, text) : text;
  }

  line(text = ''): void {
    this.stdout.write(`${this.scrub(text)}\n`);
  }

  /** One JSON document, pretty-printed. */
  document(value: unknown): void {
    this.stdout.write(`${this.scrub(JSON.stringify(value, null, 2))}\n`);
  }

  /** One JSON value per line (NDJSON), for streams such as --all. */
  record(value: unknown): void {
    this.stdout.write(`${this.scrub(JSON.stringify(value))}\n`);
  }

  /** A message for the person (stderr), never mixed into results. */
  note(text: string): void {
    this.stderr.write(`${this.scrub(text)}\n`);
  }

  warn(text: string): void {
    this.note(`${this.paintErr('yellow', 'warning:')} ${text}`);
  }

  error(text: string, hint?: string): void {
    this.note(`${this.paintErr('red', 'rk: error:')} ${text}`);
    if (hint) this.note(`${this.paintErr('dim', 'hint:')} ${hint}`);
  }

  /** An aligned table: a header row, then one row per item; the last column is never padded. */
  table(columns: readonly Column[], rows: readonly (readonly string[])[], widths?: number[]): number[] {
    const measured = widths ?? columns.map((c, i) => Math.max(c.title.length, ...rows.map((r) => visibleLength(r[i] ?? ''))));
    if (!widths) this.line(this.#row(columns.map((c) => this.paint('bold', c.title)), columns, measured));
    for (const row of rows) this.line(this.#row(row.map((cell, i) => (columns[i]?.style ? this.paint(columns[i]!.style!, cell) : cell)), columns, measured));
    return measured;
  }

  /** `key  value` pairs, keys aligned. */
  pairs(pairs: readonly (readonly [string, string])[]): void {
    const width = Math.max(0, ...pairs.map(([k]) => k.length));
    for (const [key, value] of pairs) this.line(`${this.paint('dim', key.padEnd(width))}  ${value}`);
  }

  #row(cells: string[], columns: readonly Column[], widths: number[]): string {
    return cells
      .map((cell, i) => (i === cells.length - 1 ? cell : padVisible(cell, widths[i] ?? 0, columns[i]?.align)))
      .join('  ')
      .trimEnd();
  }
}

export interface Column {
  title: string;
  align?: 'left' | 'right';
  style?: Style;
}

function wrap(style: Style, text: string): string {
  const [open, close] = CODES[style];
  return `\u001b[${open}m${text}\u001b[${close}m`;
}

const ESCAPES = /\u001b\[[0-9;]*m/g;

export function visibleLength(text: string): number {
  return text.replace(ESCAPES, '').length;
}

function padVisible(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const pad = ' '.repeat(Math.max(0, width - visibleLength(text)));
  return align === 'right' ? pad + text : text + pad;
}

/** RK times are UTC `YYYY-MM-DD HH:MM:SS` (or ISO 8601); undefined when unreadable. */
export function parseRkTime(text: string | null | undefined): Date | undefined {
  if (!text) return undefined;
  const iso = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?$/.test(text) ? `${text.replace(' ', 'T')}Z` : text;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** `3 min ago`, `in 2 h`, `just now`. */
export function relativeTime(date: Date, now: Date = new Date()): string {
  const seconds = Math.round((now.getTime() - date.getTime()) / 1000);
  const past = seconds >= 0;
  const s = Math.abs(seconds);
  let amount: string;
  if (s < 5) return 'just now';
  if (s < 60) amount = `${s} s`;
  else if (s < 3600) amount = `${Math.floor(s / 60)} min`;
  else if (s < 86_400) amount = `${Math.floor(s / 3600)} h`;
  else if (s < 86_400 * 60) amount = `${Math.floor(s / 86_400)} d`;
  else if (s < 86_400 * 730) amount = `${Math.floor(s / (86_400 * 30))} mo`;
  else amount = `${Math.floor(s / (86_400 * 365))} y`;
  return past ? `${amount} ago` : `in ${amount}`;
}

/** `2026-12-01 08:45:33 UTC (3 min ago)`; the text as given when it is not a time. */
export function humanTime(text: string | null | undefined, now?: Date): string {
  if (!text) return '-';
  const date = parseRkTime(text);
  if (!date) return text;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC (${relativeTime(date, now)})`;
}

/** Shortens text to `max` characters with an ellipsis. */
export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, Math.max(1, max - 1))}…` : text;
}

/** `1.0 MiB`, `512 B`. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** A tree drawn with box characters; each node is a label and its children. */
export interface TreeNode {
  label: string;
  children?: TreeNode[];
}

export function drawTree(root: TreeNode): string[] {
  const lines = [root.label];
  const walk = (nodes: TreeNode[], prefix: string): void => {
    nodes.forEach((node, i) => {
      const last = i === nodes.length - 1;
      lines.push(`${prefix}${last ? '└── ' : '├── '}${node.label}`);
      walk(node.children ?? [], `${prefix}${last ? '    ' : '│   '}`);
    });
  };
  walk(root.children ?? [], '');
  return lines;
}
