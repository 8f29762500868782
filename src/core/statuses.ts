/**
 * What a status means to the transport before any error is made of it: success (any 2xx, the
 * reference client's rule) or a redirect to follow. Beside http-errors.ts (which maps failures to
 * error classes) the one other place a status code is compared.
 */

/** Any 2xx: the reference client never reads the status otherwise. */
export function isSuccess(status: number): boolean {
  return status >= 200 && status <= 299;
}

/**
 * The method a redirect is followed with, or undefined when `status` is no redirect. As fetch
 * does: 303 turns anything but GET and HEAD into a GET, 301 and 302 turn a POST into one; 307 and
 * 308 keep method and body.
 */
export function redirectMethod(status: number, method: string): string | undefined {
  switch (status) {
    case 301:
    case 302:
      return method === 'POST' ? 'GET' : method;
    case 303:
      return method === 'GET' || method === 'HEAD' ? method : 'GET';
    case 307:
    case 308:
      return method;
    default:
      return undefined;
  }
}
