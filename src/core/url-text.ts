/**
 * A URL as messages may show it: never with the `user:password@` a base URL can carry, so an error
 * message or a log line cannot leak a credential.
 */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = '';
    parsed.password = '';
    const text = parsed.toString();
    // URL adds a slash to a bare origin; keep the caller's form otherwise.
    return url.endsWith('/') || !text.endsWith('/') ? text : text.slice(0, -1);
  } catch {
    return withoutUserinfo(url);
  }
}

/** Any text with the `user:password@` of every URL in it removed (for text that is not one URL). */
export function withoutUserinfo(text: string): string {
  return text.replace(/\/\/[^/?#@\s]*@/g, '//');
}
