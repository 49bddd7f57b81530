#!/usr/bin/env node
import { resolve } from 'node:path';
import { outdated, writeAll } from './generate.js';

/**
 * `npm run dashboards` — writes the Grafana dashboards, the alerting provisioning and the InfluxDB
 * init script from the code; `--check` only reports what is out of date (exit 1).
 */
const root = resolve(import.meta.dirname, '../../..');
if (process.argv.includes('--check')) {
  const stale = outdated(root);
  for (const path of stale) console.log(`out of date: ${path}`);
  process.exitCode = stale.length > 0 ? 1 : 0;
} else {
  const written = writeAll(root);
  console.log(written.length ? written.map((p) => `wrote ${p}`).join('\n') : 'up to date');
}
