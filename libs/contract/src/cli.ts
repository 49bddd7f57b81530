#!/usr/bin/env node
import { resolve } from 'node:path';
import { outdatedSchemas, writeSchemas } from './generate.js';

/**
 * `npm run schemas` — writes the contract's JSON Schemas (docs/schemas) from the catalogue;
 * `--check` only reports what is out of date (exit 1).
 */
const root = resolve(import.meta.dirname, '../../..');
if (process.argv.includes('--check')) {
  const stale = outdatedSchemas(root);
  for (const path of stale) console.log(`out of date: ${path}`);
  process.exitCode = stale.length > 0 ? 1 : 0;
} else {
  const written = writeSchemas(root);
  console.log(written.length ? written.map((p) => `wrote ${p}`).join('\n') : 'up to date');
}
