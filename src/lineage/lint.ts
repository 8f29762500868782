import { RKError, RKInvalidInputError } from '../public.js';
import { bindAt } from './binding.js';
import { LineageIndex, type LineagePemInput } from './lineage-index.js';
import { wireSeconds } from './time.js';

/**
 * Findings about PEMs before (or after) they are sent: each with a stable `code` and the PEM ID.
 * `lintPem` checks one PEM against what is known (an index, e.g. RKLineage's); it is what
 * `sendPem(pem, { lint })` calls. `lintPems` checks a batch against itself and, optionally, an index.
 */

export type LintCode =
  /** Predecessor names a PEM that is neither known nor in the batch. */
  | 'dangling-predecessor'
  /** Following Predecessor from this PEM comes back to it. */
  | 'predecessor-cycle'
  /** It uses an artifact that no known PEM produced at or before its TimestampClient. */
  | 'unproduced-use'
  /** Its TimestampClient is earlier than its Predecessor's. */
  | 'timestamp-before-predecessor'
  /** Its JSON is larger than the size limit. */
  | 'oversize'
  /** The batch holds this ID twice. */
  | 'duplicate-id'
  /** It could not be read as a PEM at all. */
  | 'invalid';

/** A problem lint found in a PEM: its code, severity, message and the artifact or PEM involved. */
export interface LintFinding {
  code: LintCode;
  pem: string;
  severity: 'error' | 'warning' | 'info';
  message: string;
  artifact?: string;
  /** The other PEM involved (the predecessor). */
  related?: string;
}

/** Options of lint: the Receiver's PEM size limit. */
export interface LintOptions {
  /** Largest JSON size in bytes (the Receiver's `pem_size_limit`); default 1 MiB. */
  sizeLimit?: number;
}

const SEVERITY: Record<LintCode, LintFinding['severity']> = {
  'dangling-predecessor': 'warning',
  'predecessor-cycle': 'error',
  'unproduced-use': 'info',
  'timestamp-before-predecessor': 'warning',
  oversize: 'error',
  'duplicate-id': 'error',
  invalid: 'error',
};

const CHAIN_LIMIT = 10_000;
const DEFAULT_SIZE_LIMIT = 1024 * 1024;

/** Lints one PEM against the indexes given (the first that holds a PEM answers for it). */
export function lintPem(pem: LineagePemInput, known: LineageIndex | readonly LineageIndex[], options: LintOptions = {}): LintFinding[] {
  const indexes = Array.isArray(known) ? (known as readonly LineageIndex[]) : [known as LineageIndex];
  const sizeLimit = options.sizeLimit ?? DEFAULT_SIZE_LIMIT;
  if (!(Number.isInteger(sizeLimit) && sizeLimit > 0)) throw new RKInvalidInputError('Linting PEM', 'sizeLimit', `must be a whole number of bytes from 1, got ${String(sizeLimit)}`);
  const id = typeof pem?.ID === 'string' ? pem.ID : '';
  const findings: LintFinding[] = [];
  const add = (code: LintCode, message: string, extra: Partial<LintFinding> = {}) => findings.push({ code, pem: id, severity: SEVERITY[code], message, ...extra });
  const time = typeof pem?.TimestampClient === 'string' ? wireSeconds(pem.TimestampClient) : Number.NaN;
  if (!id || Number.isNaN(time)) {
    add('invalid', !id ? 'the PEM has no ID' : `TimestampClient ${JSON.stringify(pem.TimestampClient)} is not "YYYY-MM-DD HH:MM:SS"`);
    return findings;
  }
  const holder = (pemId: string) => indexes.find((index) => index.has(pemId));

  const predecessor = pem.Predecessor ?? null;
  if (predecessor) {
    const index = holder(predecessor);
    if (!index) add('dangling-predecessor', `Predecessor ${predecessor} is not a known PEM`, { related: predecessor });
    else {
      const predecessorTime = index.timeOf(index.slotOf(predecessor));
      if (time < predecessorTime) {
        add('timestamp-before-predecessor', `TimestampClient ${pem.TimestampClient} is earlier than its Predecessor's`, { related: predecessor });
      }
    }
    // Follow the chain through whichever index knows each PEM.
    let current: string | null = predecessor;
    for (let steps = 0; current && steps < CHAIN_LIMIT; steps++) {
      if (current === id) {
        add('predecessor-cycle', `following Predecessor from ${id} comes back to it`, { related: predecessor });
        break;
      }
      const at = holder(current);
      if (!at) break;
      const pred = at.predecessorOf(at.slotOf(current));
      current = pred >= 0 ? at.idOf(pred) : null;
    }
  }

  for (const use of pem.UsesArtifacts ?? []) {
    const name = typeof use === 'string' ? use : use?.Name;
    if (typeof name !== 'string') continue;
    const self = indexes.map((index) => (index.has(id) ? index.slotOf(id) : -1));
    const produced = indexes.some((index, i) => {
      const artifact = index.artifactId(name);
      return artifact >= 0 && bindAt(index, artifact, time, self[i]!) >= 0;
    });
    if (!produced) add('unproduced-use', `uses ${name}, which no known PEM produced at or before ${pem.TimestampClient}`, { artifact: name });
  }

  const size = new TextEncoder().encode(JSON.stringify(pem)).length;
  if (size > sizeLimit) add('oversize', `its JSON is ${size} bytes, over the limit of ${sizeLimit}`);
  return findings;
}

/** Lints a batch of PEMs against each other and, optionally, what an index already knows. */
export function lintPems(pems: readonly LineagePemInput[], options: LintOptions & { against?: LineageIndex } = {}): LintFinding[] {
  if (!Array.isArray(pems)) throw new RKInvalidInputError('Linting PEMs', 'pems', 'must be an array of PEMs');
  const batch = new LineageIndex();
  const findings: LintFinding[] = [];
  const seen = new Set<string>();
  const valid: LineagePemInput[] = [];
  for (const pem of pems) {
    const id = typeof pem?.ID === 'string' ? pem.ID : '';
    if (id && seen.has(id)) {
      findings.push({ code: 'duplicate-id', pem: id, severity: SEVERITY['duplicate-id'], message: `the batch holds ${id} more than once` });
      continue;
    }
    seen.add(id);
    try {
      batch.add(pem);
      valid.push(pem);
    } catch (error) {
      findings.push({ code: 'invalid', pem: id, severity: 'error', message: error instanceof RKError ? error.message : String(error) });
    }
  }
  const known = options.against ? [batch, options.against] : [batch];
  for (const pem of valid) findings.push(...lintPem(pem, known, options));
  return findings;
}
