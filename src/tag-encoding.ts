/**
 * Tags travel in paths as standard base64 of their UTF-8 bytes. openapi-fetch then percent-encodes
 * the segment, so a `/`, `+` or `=` in the base64 cannot split or corrupt the path (the reference
 * client sends them raw, which breaks on `/`).
 */
export function encodeTagSegment(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}
