/**
 * The browser's stand-in for lineage/replica/pglite.js (see README.md): the replica engine keeps
 * its copy on disk, which a browser does not have; opening one fails with this reason.
 */
export function loadPGlite(): Promise<unknown> {
  return Promise.reject(new Error('the replica engine keeps its copy on disk, which a browser has not: use the memory or server engine in a browser'));
}

/** Never reached in a browser (loadPGlite fails first); here so a bundle finds every name the replica imports. */
export function openCluster(): Promise<unknown> {
  return loadPGlite();
}
