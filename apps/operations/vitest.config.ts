import { defineProjectConfig } from '../../vitest.shared.js';

// The store suite runs against a real PostgreSQL (initdb, then a database per case): slower than
// vitest's 5 s default on a busy two-core machine.
export default defineProjectConfig(import.meta.dirname, {
  testTimeout: 30_000,
  hookTimeout: 90_000,
});
