#!/usr/bin/env node
// `npm start`: the whole platform on this machine — a local influxd (data in .data/influxdb),
// the broker, the ingestion and a simulated Science City fleet — with a live line of what flows.
// Before the fleet goes live, the last SIM_BACKFILL (default 2h; 0 = none) of the same scenario is
// backfilled and rolled up, so that dashboards have history at once. Ctrl-C stops everything it
// started.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT, ensureDependencies, ensureSystemPackages, run } from './prereqs.mjs';

const env = process.env;
const cfg = {
  influxPort: Number(env.INFLUX_PORT ?? 8086),
  mqttPort: Number(env.MQTT_PORT ?? 1883),
  wsPort: Number(env.MQTT_WS_PORT ?? 8083),
  brokerHttp: Number(env.BROKER_HTTP_PORT ?? 9101),
  linkPort: Number(env.INGEST_LINK_PORT ?? 1884),
  ingestionHttp: Number(env.INGESTION_HTTP_PORT ?? 9102),
  operationsHttp: Number(env.OPERATIONS_HTTP_PORT ?? 9103),
  scenario: env.SIM_SCENARIO ?? 'science-city-demo',
  alarmsScenario: env.SIM_ALARMS_SCENARIO ?? 'alarms-demo',
  // History to upload before the live run (park-sim backfill --duration: 30m, 2h, …); 0 = none.
  backfill: env.SIM_BACKFILL ?? '2h',
};
const DATA = join(ROOT, '.data');
// The simulated devices' enrolment group key (park-sim derives each device's key from it).
const deviceLogin = {};
const children = [];
let influx;

function portFree(port) {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function start(name, args, extraEnv, { once = false } = {}) {
  const log = createWriteStream(join(DATA, 'logs', `${name}.log`), { flags: 'a' });
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...env, NO_COLOR: '1', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: Ctrl-C reaches only this script, which stops the services in order
    // (simulator, ingestion — which flushes to InfluxDB — broker, then influxd).
    detached: true,
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  child.on('exit', (code, signal) => {
    if (!stopping && !once)
      console.error(`\n${name} exited (${code ?? signal}); see .data/logs/${name}.log`);
  });
  children.push({ name, child });
  return child;
}

async function waitHealthy(name, url, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${name} did not become healthy at ${url}; see .data/logs/${name}.log`);
}

// `park-sim backfill` of the scenario's last cfg.backfill, checked in InfluxDB (which also waits
// for the ingestion to store all of it), then rolled up: the continuous queries only roll up
// recent data, so the roll-ups of older history are made here (backfillStatements).
async function backfill(influxUrl) {
  console.log(`backfill    last ${cfg.backfill} of ${cfg.scenario} → broker, then rolled up …`);
  const reportFile = join(DATA, 'logs', 'backfill.json');
  rmSync(reportFile, { force: true });
  const child = start(
    'backfill',
    [
      'simulators/park-sim/dist/cli.js',
      'backfill',
      '--url',
      `mqtt://127.0.0.1:${cfg.mqttPort}`,
      '--scenario',
      cfg.scenario,
      '--duration',
      cfg.backfill,
      '--influx',
      influxUrl,
      '--report',
      reportFile,
    ],
    deviceLogin,
    { once: true },
  );
  const code = await new Promise((r) => child.once('exit', (c, signal) => r(c ?? signal)));
  if (stopping) await new Promise(() => {}); // stopAll() exits
  // 0: stored; 1 with a report: uploaded, but the verdict failed. Otherwise nothing to roll up.
  let report;
  try {
    report = JSON.parse(readFileSync(reportFile, 'utf8'));
  } catch {
    throw new Error(
      `backfill of ${cfg.backfill} failed (${code}); see .data/logs/backfill.log (SIM_BACKFILL=0 skips it)`,
    );
  }
  if (code !== 0) console.error('backfill    verdict FAIL (see .data/logs/backfill.log)');
  const { backfillStatements } = await import('@parkpulse/influx');
  const started = Date.now();
  for (const q of backfillStatements('telemetry', report.startMs, report.endMs)) {
    const res = await fetch(`${influxUrl}/query?db=telemetry`, {
      method: 'POST',
      body: new URLSearchParams({ q }),
    });
    const body = await res.json().catch(() => ({}));
    const error = body.error ?? body.results?.find((r) => r.error)?.error;
    if (!res.ok || error)
      throw new Error(`rolling up the backfill failed: ${error ?? `HTTP ${res.status}`}`);
  }
  console.log(
    `            ${report.verdict.stored ?? report.acked} samples stored (uploaded in ${report.elapsedS} s), rolled up in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

async function metrics(url) {
  const text = await fetch(url).then(
    (r) => r.text(),
    () => '',
  );
  const sum = (name) =>
    text
      .split('\n')
      .filter((l) => l.startsWith(name) && !l.startsWith('#'))
      .reduce((acc, l) => acc + Number(l.split(' ').pop() ?? 0), 0);
  return {
    messages: sum('parkpulse_ingest_messages_total{channel="telemetry"}'),
    points: sum('parkpulse_ingest_points_written_total'),
    rejects: sum('parkpulse_ingest_rejects_total'),
    pending: sum('parkpulse_ingest_pending_messages'),
    clients: sum('parkpulse_broker_clients_connected'),
  };
}

let stopping = false;
async function stopAll(code = 0) {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping …');
  for (const { child } of children.reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGTERM');
    await new Promise((r) => {
      const t = setTimeout(() => (child.kill('SIGKILL'), r()), 15_000);
      child.once('exit', () => (clearTimeout(t), r()));
    });
  }
  await influx?.stop();
  process.exit(code);
}
process.on('SIGINT', () => void stopAll());
// Killed without a chance to stop in order: at least take the services along.
process.on('exit', () => {
  for (const { child } of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
process.on('SIGTERM', () => void stopAll());

try {
  ensureSystemPackages(['influxd']);
  ensureDependencies();
  run('npx', ['nx', 'run-many', '-t', 'build', '--outputStyle=static', '--verbose=false'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  mkdirSync(join(DATA, 'logs'), { recursive: true });
  for (const [name, port] of [
    ['MQTT', cfg.mqttPort],
    ['MQTT over WebSocket', cfg.wsPort],
    ['broker HTTP', cfg.brokerHttp],
    ['ingest link', cfg.linkPort],
    ['ingestion HTTP', cfg.ingestionHttp],
    ['operations HTTP', cfg.operationsHttp],
  ]) {
    if (!(await portFree(port)))
      throw new Error(
        `port ${port} (${name}) is in use: stop what uses it or set the port variable (see README)`,
      );
  }
  const { startInfluxd, devSecretsEnv, serviceCredentials, DEV_OPERATIONS_ACCOUNTS } = await import(
    join(ROOT, 'libs/dev-services/dist/index.js')
  );
  // The registry (deploy/registry/registry.yaml) with its dev-only secrets; a variable set in
  // the environment wins over the dev default.
  const secrets = Object.fromEntries(
    Object.entries(devSecretsEnv(ROOT)).map(([k, v]) => [k, env[k] ?? v]),
  );
  const ingestionLogin = serviceCredentials('parkpulse-ingestion');
  deviceLogin.PARKPULSE_GROUP_KEY = env.PARKPULSE_GROUP_KEY ?? secrets.PARKPULSE_DEV_GROUP_KEY;
  if (!(await portFree(cfg.influxPort)))
    throw new Error(`port ${cfg.influxPort} (InfluxDB) is in use: set INFLUX_PORT`);
  influx = await startInfluxd({
    dataDir: join(DATA, 'influxdb'),
    port: cfg.influxPort,
    ownProcessGroup: true,
  });
  console.log(`influxd     ${influx.url} (data in .data/influxdb)`);

  start('broker', ['apps/broker/dist/main.js'], {
    ...secrets,
    MQTT_PORT: String(cfg.mqttPort),
    MQTT_WS_PORT: String(cfg.wsPort),
    HTTP_PORT: String(cfg.brokerHttp),
    INGEST_LINK_PORT: String(cfg.linkPort),
  });
  await waitHealthy('broker', `http://127.0.0.1:${cfg.brokerHttp}/health`);
  console.log(
    `broker      mqtt://127.0.0.1:${cfg.mqttPort}  ws://127.0.0.1:${cfg.wsPort}/mqtt  http://127.0.0.1:${cfg.brokerHttp}/metrics`,
  );

  // A larger young generation: a third less garbage-collection work per message (docs/performance.md).
  start('ingestion', ['--max-semi-space-size=32', 'apps/ingestion/dist/main.js'], {
    INGEST_LINK_URL: `mqtt://127.0.0.1:${cfg.linkPort}`,
    MQTT_USERNAME: env.MQTT_USERNAME ?? ingestionLogin.username,
    MQTT_PASSWORD: env.MQTT_PASSWORD ?? secrets.PARKPULSE_INGESTION_SECRET,
    INFLUX_URL: influx.url,
    HTTP_PORT: String(cfg.ingestionHttp),
  });
  await waitHealthy('ingestion', `http://127.0.0.1:${cfg.ingestionHttp}/health`);
  console.log(
    `ingestion   http://127.0.0.1:${cfg.ingestionHttp}/health  /metrics  → InfluxDB database "telemetry"`,
  );

  // The operations service (commands to devices): SQLite in .data/, a dev admin and operator.
  const opsUrl = `http://127.0.0.1:${cfg.operationsHttp}`;
  const accounts = DEV_OPERATIONS_ACCOUNTS;
  start('operations', ['apps/operations/dist/main.js'], {
    HTTP_PORT: String(cfg.operationsHttp),
    DATABASE_URL: env.DATABASE_URL ?? `sqlite:${join(DATA, 'operations.sqlite')}`,
    MQTT_URL: `mqtt://127.0.0.1:${cfg.mqttPort}`,
    MQTT_USERNAME: 'parkpulse-operations',
    MQTT_PASSWORD: secrets.PARKPULSE_OPERATIONS_SECRET,
    INFLUX_URL: influx.url,
    ADMIN_PASSWORD: env.ADMIN_PASSWORD ?? accounts.admin.password,
  });
  await waitHealthy('operations', `${opsUrl}/health`);
  const call = (path, body, token) =>
    fetch(`${opsUrl}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: await r.json().catch(() => ({})) }));
  const adminLogin = await call('/api/v1/auth/tokens', {
    username: accounts.admin.username,
    password: env.ADMIN_PASSWORD ?? accounts.admin.password,
  });
  if (adminLogin.status === 201)
    for (const role of ['operator', 'viewer'])
      await call('/api/v1/users', { ...accounts[role], role }, adminLogin.body.token);
  const operatorLogin = await call('/api/v1/auth/tokens', accounts.operator);
  console.log(
    `operations  ${opsUrl}/api/v1  (API: docs/api.md; SQLite in .data/operations.sqlite)`,
  );
  if (operatorLogin.status === 201)
    console.log(
      `            dev operator token (${accounts.operator.username}, expires ${operatorLogin.body.expiresAt}):\n            export PARKPULSE_OPS_TOKEN=${operatorLogin.body.token}\n            npm run ops -- devices --type cnc_machine   |   npm run ops -- send <deviceId> stop --wait`,
    );
  else
    console.log(
      `            could not log in the dev operator (${operatorLogin.status}); see .data/logs/operations.log`,
    );
  console.log(
    `console     ${opsUrl}/console/  (alarms, devices, KPIs; docs/alarms.md)\n            dev logins: ${accounts.operator.username} / ${accounts.operator.password} (acts), ${accounts.viewer.username} / ${accounts.viewer.password} (sees)`,
  );

  if (cfg.backfill !== '0') await backfill(influx.url);

  const simulate = (name, scenario) =>
    start(
      name,
      [
        'simulators/park-sim/dist/cli.js',
        'run',
        '--url',
        `mqtt://127.0.0.1:${cfg.mqttPort}`,
        '--scenario',
        scenario,
        '--duration',
        '720h',
      ],
      deviceLogin,
    );
  simulate('simulator', cfg.scenario);
  console.log(
    `simulator   scenario ${cfg.scenario} (simulators/scenarios), live (logs in .data/logs)`,
  );
  // Freezer doors left ajar at Bio Island: real alarms for the console at any hour (the
  // factories' machines run in shifts, and their faults are hours apart).
  if (cfg.alarmsScenario !== '') {
    simulate('simulator-alarms', cfg.alarmsScenario);
    console.log(
      `            and ${cfg.alarmsScenario}: a freezer door left ajar 45 s from now, then every 10 min`,
    );
  }
  console.log(
    `try:        curl -s 'http://127.0.0.1:${cfg.influxPort}/query?db=telemetry' --data-urlencode 'q=SELECT mean(spindle_load_pct) FROM cnc_machine WHERE time > now() - 1m GROUP BY site'`,
  );
  console.log(
    'security    dev-only keys from libs/dev-services/src/credentials.ts (loopback only; see docs/security.md)',
  );
  console.log('Ctrl-C stops everything.\n');

  let last = await metrics(`http://127.0.0.1:${cfg.ingestionHttp}/metrics`);
  let lastAt = Date.now();
  const tty = process.stdout.isTTY;
  let tick = 0;
  setInterval(async () => {
    const now = await metrics(`http://127.0.0.1:${cfg.ingestionHttp}/metrics`);
    const broker = await metrics(`http://127.0.0.1:${cfg.brokerHttp}/metrics`);
    const dt = (Date.now() - lastAt) / 1000;
    const line =
      `${new Date().toLocaleTimeString()}  devices ${broker.clients - 1}  in ${Math.round((now.messages - last.messages) / dt)} msg/s  ` +
      `stored ${Math.round((now.points - last.points) / dt)} points/s (total ${now.points})  rejects ${now.rejects}  pending ${now.pending}`;
    [last, lastAt] = [now, Date.now()];
    if (tty) process.stdout.write(`\r${line}   `);
    else if (tick++ % 5 === 0) console.log(line);
  }, 2000);
} catch (error) {
  console.error(`npm start: ${error.message}`);
  await stopAll(1);
}
