/**
 * The browser's stand-in for core/node-wire.js (see README.md): the transport loads the undici
 * path with a dynamic import and, when that fails, sends with fetch, which is what a browser has.
 */
throw new Error('the undici send path is for Node.js; in a browser the client sends with fetch');

export {};
