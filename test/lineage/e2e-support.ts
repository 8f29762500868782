// The public API the end-to-end test uses, plus a tiny helper.
export { Pem, RKAdmin, RKClient, RKLineage, RKQuery, type LoadProgress, type Result } from '../../src/index.js';

/** Seconds since the epoch of a wire timestamp. */
export function parsePemSeconds(text: string): number {
  return Date.parse(`${text.replace(' ', 'T')}Z`) / 1000;
}
