import { defineAdversarialSuite } from './adversarial-suite.js';

// Hostile input on PGlite, in memory.
defineAdversarialSuite('PGlite (in memory)', () => ({ memory: true }));
