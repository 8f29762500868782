/**
 * Every timer of this library is unref'd, so an idle client never keeps the process alive. A busy
 * one must: a call waiting out a retry backoff has no socket open, and letting the process end
 * there would drop the work with the caller still awaiting it (Node exits with code 13 on an
 * unsettled top-level await). One ref'd handle while anything holds it, process-wide.
 */
let holders = 0;
/** Made once and ref'd or unref'd as holders come and go: no timer is created per call. */
let handle: ReturnType<typeof setInterval> | undefined;

/** Keeps the process alive until the returned release is called (calling it twice is harmless). */
export function holdProcess(): () => void {
  if (holders++ === 0) {
    if (handle === undefined) handle = setInterval(() => {}, 2 ** 30);
    else handle.ref?.();
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holders === 0) handle?.unref?.();
  };
}
