/**
 * Tags travel in paths as standard base64 of their UTF-8 bytes, in the reference client's form:
 * `=` and `+` raw (the form known to work with the real Record Keeper; both are legal in a path
 * segment). Only `/` is percent-encoded, as `%2F`: sent raw it would split the segment, which is
 * where the reference client's own request breaks.
 */
export function encodeTagSegment(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('/', '%2F');
}

/**
 * openapi-fetch percent-encodes every path parameter (`=` becomes `%3D`). Tag paths carry
 * segments already in their wire form (encodeTagSegment) and hex IDs, so they are put in as given.
 */
export function tagPathSerializer(pathname: string, params: Record<string, unknown>): string {
  return pathname.replace(/\{([^}]+)\}/g, (match, name: string) => {
    const value = params[name];
    return typeof value === 'string' ? value : match;
  });
}
