/**
 * The browser's stand-in for delivery/outbox/outbox.js (see README.md). The outbox loads it on
 * first use; this failure becomes the outbox's `ready` rejection and the warning the client logs.
 */
throw new Error(
  'this is the browser build of recordkeeper-client, and a browser has no file system for an outbox: ' +
    'PEMs are sent directly (with retries); pass no outbox option in a browser',
);

export {};
