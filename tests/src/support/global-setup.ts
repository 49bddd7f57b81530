import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  POSTGRES_INSTALL_HINT,
  findPostgresBinDir,
  INFLUXD_INSTALL_HINT,
  REDIS_INSTALL_HINT,
  findInfluxd,
  findRedisServer,
} from '@parkpulse/dev-services';
import { OPERATIONS_MAIN } from './operations.js';
import { BROKER_MAIN, INGESTION_MAIN } from './platform.js';

/** Fails the run loudly, before any test, when a real peer the tests need is missing. */
export default function setup(): void {
  const missing: string[] = [];
  if (!findInfluxd()) missing.push(INFLUXD_INSTALL_HINT);
  if (!findRedisServer()) missing.push(REDIS_INSTALL_HINT);
  if (!findPostgresBinDir()) missing.push(POSTGRES_INSTALL_HINT);
  if (spawnSync('mosquitto_pub', ['--help']).error) {
    missing.push(
      'mosquitto_pub is required. On Debian/Ubuntu: sudo apt-get install -y mosquitto-clients',
    );
  }
  for (const main of [BROKER_MAIN, INGESTION_MAIN, OPERATIONS_MAIN]) {
    if (!existsSync(main))
      missing.push(`${main} is missing: build first (npx nx run-many -t build), or run npm test`);
  }
  if (missing.length > 0)
    throw new Error(`end-to-end tests cannot run:\n- ${missing.join('\n- ')}`);
}
