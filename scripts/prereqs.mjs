// What the platform and its tests need from the machine, installed when that is possible
// (root on Debian/Ubuntu), otherwise named with the exact command. Plain Node: it runs before
// `npm ci`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;

export function onPath(bin) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => existsSync(join(dir, bin)));
}

export function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, ...options });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
}

/** Debian packages by the binary they provide. */
const PACKAGES = {
  influxd: 'influxdb',
  mosquitto_pub: 'mosquitto-clients',
  'redis-server': 'redis-server',
  haproxy: 'haproxy',
  // Not a binary: the Python MQTT client for Debian's /usr/bin/python3 (a foreign client in e2e tests).
  'python3-paho-mqtt': 'python3-paho-mqtt',
  // Debian keeps PostgreSQL's server binaries off the PATH, in /usr/lib/postgresql/{version}/bin.
  initdb: 'postgresql',
  // Debian's Chromium, driven by playwright-core in the console's browser tests (no download).
  chromium: 'chromium',
};

/** Whether a "binary" of PACKAGES is there; python3-paho-mqtt is a Python module. */
function present(bin) {
  if (bin === 'python3-paho-mqtt')
    return spawnSync('/usr/bin/python3', ['-c', 'import paho.mqtt.client']).status === 0;
  return onPath(bin);
}

function postgresInstalled() {
  if (process.env.PG_BIN_DIR) return true;
  const dir = '/usr/lib/postgresql';
  return existsSync(dir) && readdirSync(dir).some((v) => existsSync(join(dir, v, 'bin', 'initdb')));
}

export function ensureSystemPackages(bins) {
  const missing = bins.filter(
    (bin) =>
      !present(bin) &&
      !(bin === 'influxd' && process.env.INFLUXD_BIN) &&
      !(bin === 'redis-server' && process.env.REDIS_SERVER_BIN) &&
      !(bin === 'initdb' && postgresInstalled()),
  );
  if (missing.length === 0) return;
  const packages = missing.map((b) => PACKAGES[b]);
  const command = `apt-get update && apt-get install -y ${packages.join(' ')}`;
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.log(`installing ${packages.join(', ')} (Debian packages) …`);
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', ...packages], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    return;
  }
  throw new Error(
    `missing: ${missing.join(', ')}. On Debian/Ubuntu: sudo sh -c '${command}'. ` +
      'Elsewhere: install InfluxDB 1.x (influxd), the Mosquitto clients, Redis (redis-server), HAProxy, paho-mqtt 1.6 for /usr/bin/python3 and PostgreSQL 13+ (PG_BIN_DIR = its bin directory) and Chromium (/usr/bin/chromium), and put them on the PATH.',
  );
}

export function ensureDependencies() {
  if (!existsSync(join(ROOT, 'node_modules', '.package-lock.json')))
    run('npm', ['ci', '--no-audit', '--no-fund']);
}

export { ROOT };
