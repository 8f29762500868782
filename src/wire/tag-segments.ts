/**
 * Tags travel in paths as standard base64 of their UTF-8 bytes, in the reference client's form:
 * `=` and `+` raw (the form known to work with the real Record Keeper; both are legal in a path
 * segment). Only `/` is percent-encoded, as `%2F`: sent raw it would split the segment, which is
 * where the reference client's own request breaks.
 */
export function encodeTagSegment(text: string): string {
  return tagBase64(text).replaceAll('/', '%2F');
}

/** Standard base64 of the text's UTF-8 bytes: a tag segment's value before it goes in a path. */
export function tagBase64(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * Fills a path template with segments already in their wire form (encodeTagSegment) and hex IDs,
 * as given: for a caller that builds tag paths itself (a percent-encoding of every parameter
 * would turn `=` into `%3D`).
 */
export function tagPathSerializer(pathname: string, params: Record<string, unknown>): string {
  return pathname.replace(/\{([^}]+)\}/g, (match, name: string) => {
    const value = params[name];
    return typeof value === 'string' ? value : match;
  });
}

/**
 * The text of a tag path segment: standard base64 of UTF-8, raw or percent-encoded (`%2F`, `%3D`,
 * `%2B`). Undefined when it is not base64 of UTF-8 text. `+` is a base64 digit here, never a space.
 */
export function decodeTagSegment(segment: string): string | undefined {
  let base64: string;
  try {
    base64 = decodeURIComponent(segment);
  } catch {
    return undefined;
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) return undefined;
  let binary: string;
  try {
    binary = atob(base64);
  } catch {
    return undefined;
  }
  const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
