import { defineProjectConfig } from '../vitest.shared.js';

// End-to-end tiers: real influxd, broker and ingestion processes. One file at a time: each file
// starts its own platform, and the machine has two cores.
export default defineProjectConfig(import.meta.dirname, {
  include: ['src/**/*.e2e.spec.ts'],
  globalSetup: ['src/support/global-setup.ts'],
  fileParallelism: false,
  testTimeout: 180_000,
  hookTimeout: 120_000,
});
