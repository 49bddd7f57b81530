#!/usr/bin/env node
// `npm test`: the whole suite — lint, typecheck, unit, integration and end-to-end tests against
// a real influxd, broker and ingestion — after making sure the machine has what it needs.
import { ensureDependencies, ensureSystemPackages, run } from './prereqs.mjs';

try {
  ensureSystemPackages([
    'influxd',
    'mosquitto_pub',
    'redis-server',
    'haproxy',
    'python3-paho-mqtt',
    'initdb',
    'chromium',
  ]);
  ensureDependencies();
  const nx = ['nx', 'run-many', '--outputStyle=static'];
  run('npx', [...nx, '-t', 'build', 'lint', 'typecheck', '--parallel=2']);
  // One project at a time: the integration tiers start their own influxd and services.
  run('npx', [...nx, '-t', 'test', '--parallel=1', '--skipNxCache']);
  run('npx', ['prettier', '--check', '.', '--log-level=warn']);
  console.log('\nall checks passed');
} catch (error) {
  console.error(`\nnpm test: ${error.message}`);
  process.exit(1);
}
