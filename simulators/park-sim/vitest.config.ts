import { defineProjectConfig } from '../../vitest.shared.js';

// The CLI specs run the built CLI and the model specs walk the whole catalogue over weeks of
// simulated time: seconds each, more on a busy machine.
export default defineProjectConfig(import.meta.dirname, { testTimeout: 30_000 });
