/**
 * "Did you mean": the closest of the known words to what was typed, when it is close enough to be
 * a slip of the keyboard (`rk pmes`, `--tpye`) rather than another word.
 */
export function closest(typed: string, known: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.min(3, Math.floor(typed.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const word of known) {
    const distance = editDistance(typed.toLowerCase(), word.toLowerCase());
    if (distance < bestDistance) {
      best = word;
      bestDistance = distance;
    }
  }
  // A word that begins the same way (`rk expl`) is a likely meaning even when far in letters.
  if (bestDistance > limit) return known.find((word) => typed.length >= 3 && word.startsWith(typed));
  return best;
}

/** Optimal string alignment distance: Levenshtein with a swap of two neighbours as one edit. */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, d[i - 2]![j - 2]! + 1);
      d[i]![j] = value;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * A date and a time-of-day that arrived as two arguments (`rk state-at 2026-11-30 11:59:59`): the
 * shell split one time at its space. Returns the time as it should have been written.
 */
export function splitTime(argv: readonly string[]): string | undefined {
  for (let i = 0; i + 1 < argv.length; i++) {
    const date = argv[i]!;
    const time = argv[i + 1]!;
    if (/\d{4}-\d{2}-\d{2}$/.test(date) && /^\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(time)) return `${date} ${time}`;
  }
  return undefined;
}
