/**
 * The browser's stand-in for core/node-wire.js (see README.md): it keeps undici out of a browser
 * bundle. Settings makes a NodeWire only on Node (`onNode()`), so a browser never constructs one
 * and every request goes through the fetch wire; reaching this constructor is a bug, said plainly.
 */
export class NodeWire {
  constructor() {
    throw new Error('the undici send path is for Node.js; in a browser the client sends with fetch');
  }
}
