#!/usr/bin/env node
// Opt-in load run (not part of `npm test`): a private influxd, the broker and the ingestion, then
// `park-sim load` with 10,000 devices at 0.5 msg/s each (5,000 msg/s) for 60 s. Prints the
// simulator's report, the samples stored in InfluxDB and the broker's peak RSS.
// Usage: npm run sim:load-10k   (DEVICES, RATE and DURATION override the defaults)
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, ensureDependencies, ensureSystemPackages, run } from './prereqs.mjs';

ensureSystemPackages(['influxd']);
ensureDependencies();
run('npx', ['nx', 'run-many', '-t', 'build', '--outputStyle=static'], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
const { startInfluxd, freePort, waitFor, devSecretsEnv, serviceCredentials, DEV_GROUP_KEY } =
  await import(join(ROOT, 'libs/dev-services/dist/index.js'));

const devices = process.env.DEVICES ?? '10000';
const rate = process.env.RATE ?? '0.5';
const duration = process.env.DURATION ?? '60s';
const influx = await startInfluxd();
const [mqtt, ws, brokerHttp, ingestionHttp, link] = [
  await freePort(),
  await freePort(),
  await freePort(),
  await freePort(),
  await freePort(),
];
const env = { ...process.env, NO_COLOR: '1' };
const children = [];
const start = (script, extra) => {
  const child = spawn(process.execPath, [join(ROOT, script)], {
    env: { ...env, ...extra },
    stdio: 'ignore',
  });
  children.push(child);
  return child;
};
const ingestionLogin = serviceCredentials('parkpulse-ingestion');
start('apps/broker/dist/main.js', {
  ...devSecretsEnv(ROOT),
  MQTT_PORT: String(mqtt),
  MQTT_WS_PORT: String(ws),
  HTTP_PORT: String(brokerHttp),
  INGEST_LINK_PORT: String(link),
});
await waitFor('broker', async () => (await fetch(`http://127.0.0.1:${brokerHttp}/health`)).ok);
start('apps/ingestion/dist/main.js', {
  INGEST_LINK_URL: `mqtt://127.0.0.1:${link}`,
  MQTT_USERNAME: ingestionLogin.username,
  MQTT_PASSWORD: ingestionLogin.password,
  INFLUX_URL: influx.url,
  HTTP_PORT: String(ingestionHttp),
});
await waitFor(
  'ingestion',
  async () => (await fetch(`http://127.0.0.1:${ingestionHttp}/health`)).ok,
);

let peakRss = 0;
const sampler = setInterval(async () => {
  const text = await fetch(`http://127.0.0.1:${brokerHttp}/metrics`).then(
    (r) => r.text(),
    () => '',
  );
  const line = text
    .split('\n')
    .find((l) => l.startsWith('parkpulse_broker_process_resident_memory_bytes '));
  if (line) peakRss = Math.max(peakRss, Number(line.split(' ')[1]));
}, 2000);
const sim = spawn(
  process.execPath,
  [
    join(ROOT, 'simulators/park-sim/dist/cli.js'),
    'load',
    '--url',
    `mqtt://127.0.0.1:${mqtt}`,
    '--devices',
    devices,
    '--rate',
    rate,
    '--duration',
    duration,
    '--report',
    join(ROOT, '.data', 'load-10k.json'),
    '--group-key',
    DEV_GROUP_KEY,
  ],
  { stdio: 'inherit' },
);
const code = await new Promise((resolve) => sim.on('exit', resolve));
clearInterval(sampler);
await new Promise((r) => setTimeout(r, 3000));
const q = 'SELECT COUNT("seq") FROM /.*/';
const body = await (
  await fetch(`${influx.url}/query?db=telemetry&q=${encodeURIComponent(q)}`)
).json();
const stored = (body.results?.[0]?.series ?? []).reduce(
  (n, s) => n + Number(s.values[0][1] ?? 0),
  0,
);
console.log(
  `stored in InfluxDB: ${stored} samples; broker peak RSS: ${Math.round(peakRss / 1e6)} MB (${Math.round(peakRss / Number(devices) / 1024)} KiB per connection)`,
);
for (const child of children) child.kill('SIGTERM');
await new Promise((r) => setTimeout(r, 2000));
await influx.stop();
process.exit(code ?? 1);
