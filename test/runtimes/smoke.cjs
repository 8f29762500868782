// require() of the ESM package (Node's require(esm), Bun's own interop): the classes are there.
const client = require('recordkeeper-client');
const testing = require('recordkeeper-client/testing');
console.log(JSON.stringify({ RKClient: typeof client.RKClient, RKQuery: typeof client.RKQuery, MockRKQuery: typeof testing.MockRKQuery }));
