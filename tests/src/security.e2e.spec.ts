import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { deriveDeviceKey, hashSecret, newGroupKey } from '@parkpulse/access';
import { deviceCredentials, freePort, serviceCredentials } from '@parkpulse/dev-services';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { generate } from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, metricValue, startPlatform, type Platform } from './support/platform.js';

const SITE = 'parks/science-city/gz-auto-parts/cnc_machine';
const GROUP_KEY = newGroupKey();
const FREEZER_KEY = 'individually-issued-freezer-key';

/** A registry of its own: one scoped group, one registered device, the three service roles. */
function writeRegistry(dir: string): string {
  const file = join(dir, 'registry.yaml');
  writeFileSync(
    file,
    `version: 1
groups:
  - id: sc-cnc
    keyEnv: SC_CNC_GROUP_KEY
    parks: [science-city]
    sites: [gz-auto-parts]
    assetTypes: [cnc_machine]
    devicePattern: 'cnc-[0-9]{3}'
devices:
  - { id: ulf-001, park: bio-island, site: bsl-3, assetType: ultra_low_freezer, keyHash: '${hashSecret(FREEZER_KEY)}' }
services:
  - { id: parkpulse-ingestion, role: ingestion, secretEnv: PARKPULSE_INGESTION_SECRET }
  - { id: parkpulse-observer, role: observer, secretEnv: PARKPULSE_OBSERVER_SECRET }
  - { id: parkpulse-operator, role: operator, secretEnv: PARKPULSE_OPERATOR_SECRET }
  - { id: parkpulse-operations, role: operations, secretEnv: PARKPULSE_OPERATIONS_SECRET }
`,
  );
  return file;
}

const device = (id: string, key = deriveDeviceKey(GROUP_KEY, id)): IClientOptions => ({
  clientId: id,
  username: id,
  password: key,
  reconnectPeriod: 0,
  connectTimeout: 5000,
});

/**
 * The CONNACK return code a connection attempt ends with: 'accepted' when it connects, 'failed'
 * when it never gets a CONNACK (refused socket, failed TLS handshake, timeout).
 */
async function connackOf(
  url: string,
  options: IClientOptions,
): Promise<number | 'accepted' | 'failed'> {
  try {
    const client = await mqtt.connectAsync(url, { ...options, reconnectPeriod: 0 });
    await client.endAsync(true);
    return 'accepted';
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'number' ? code : 'failed';
  }
}

/** A plain-text MQTT CONNECT sent to a port: what came back before the socket closed. */
function plainConnect(port: number, connect: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = netConnect(port, '127.0.0.1', () => socket.write(connect));
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    socket.once('close', () => {
      const first = Buffer.concat(chunks)[0];
      resolve(first === 0x20 ? 'CONNACK' : 'closed without CONNACK');
    });
  });
}

/** Publishes on a topic the client may not use: the broker closes the connection. */
async function forbiddenPublish(client: MqttClient, topic: string): Promise<void> {
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  client.publish(topic, JSON.stringify({ seq: 999, metrics: { spindle_rpm: 1 } }), { qos: 1 });
  await closed;
  client.end(true);
}

describe('authentication and authorisation: real broker, registry, ingestion and InfluxDB', () => {
  let platform: Platform;
  let dir: string;
  let brokerHttp: string;
  const clients: MqttClient[] = [];
  /** Everything an observer saw on parks/#. */
  const seen: { topic: string; payload: string }[] = [];

  const connect = async (options: IClientOptions) => {
    const client = await mqtt.connectAsync(platform.mqttUrl, options);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parkpulse-security-'));
    platform = await startPlatform({
      brokerEnv: {
        REGISTRY_FILE: writeRegistry(dir),
        SC_CNC_GROUP_KEY: GROUP_KEY,
        STATS_INTERVAL_MS: '500',
      },
    });
    brokerHttp = platform.broker.healthUrl.replace(/\/health$/, '');
    const observer = await connect({
      ...serviceCredentials('parkpulse-observer', 'security'),
      reconnectPeriod: 0,
    });
    observer.on('message', (topic, payload) => seen.push({ topic, payload: payload.toString() }));
    await observer.subscribeAsync('parks/#', { qos: 1 });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await platform?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses wrong keys (4), unknown devices (5) and client-id mismatches (2); counts each reason', async () => {
    const url = platform.mqttUrl;
    expect(await connackOf(url, device('cnc-001'))).toBe('accepted');
    expect(await connackOf(url, device('cnc-001', 'wrong-key'))).toBe(4);
    expect(await connackOf(url, device('cnc-001', deriveDeviceKey(newGroupKey(), 'cnc-001')))).toBe(
      4,
    );
    expect(await connackOf(url, { clientId: 'cnc-001' })).toBe(4);
    expect(await connackOf(url, device('plc-001'))).toBe(5);
    expect(await connackOf(url, { ...device('cnc-001'), clientId: 'cnc-002' })).toBe(2);
    expect(await connackOf(url, device('cnc,x'))).toBe(2); // not a device id of the contract
    expect(await connackOf(url, device('ulf-001', FREEZER_KEY))).toBe('accepted');
    // A will on a topic the device may not publish on: refused before it can ever be sent.
    expect(
      await connackOf(url, {
        ...device('cnc-001'),
        will: {
          topic: `${SITE}/cnc-002/status`,
          payload: Buffer.from('offline'),
          qos: 1,
          retain: true,
        },
      }),
    ).toBe(5);
    expect(await connackOf(url, device('ulf-001', 'guess'))).toBe(4);
    expect(
      await connackOf(url, {
        ...serviceCredentials('parkpulse-observer'),
        clientId: 'not-the-observer',
      }),
    ).toBe(2);
    expect(
      await connackOf(url, { ...serviceCredentials('parkpulse-operator'), password: 'nope' }),
    ).toBe(4);
    const refused = (reason: string) =>
      metricValue(brokerHttp, 'parkpulse_broker_connect_refused_total', `{reason="${reason}"}`);
    expect(await refused('bad_secret')).toBe(4);
    expect(await refused('no_credentials')).toBe(1);
    expect(await refused('unknown_identity')).toBe(1);
    expect(await refused('client_id_mismatch')).toBe(2);
    expect(await refused('client_id_invalid')).toBe(1);
    expect(await refused('will_not_allowed')).toBe(1);
  });

  it("a device cannot publish into another device's topics nor outside its enrolment; nothing leaks", async () => {
    const a = await connect(device('cnc-001'));
    const b = await connect(device('cnc-002'));
    const ts = Date.now() - 5000;
    await a.publishAsync(
      `${SITE}/cnc-001/telemetry`,
      JSON.stringify({ ts, seq: 1, metrics: { spindle_rpm: 100 } }),
      { qos: 1 },
    );
    await b.publishAsync(
      `${SITE}/cnc-002/telemetry`,
      JSON.stringify({ ts, seq: 1, metrics: { spindle_rpm: 200 } }),
      { qos: 1 },
    );
    // Into B's topic, into a site, an asset type and a park outside the enrolment, onto a cmd
    // channel: each closes the offender's connection (MQTT 3.1.1 has no negative PUBACK).
    const forbidden = [
      `${SITE}/cnc-002/telemetry`,
      'parks/science-city/robotics-works/cnc_machine/cnc-001/telemetry',
      'parks/science-city/gz-auto-parts/agv/cnc-001/telemetry',
      'parks/yuzhu/gz-auto-parts/cnc_machine/cnc-001/telemetry',
      `${SITE}/cnc-001/cmd`,
    ];
    for (const topic of forbidden) await forbiddenPublish(await connect(device('cnc-001')), topic);
    expect(await metricValue(brokerHttp, 'parkpulse_broker_publish_refused_total')).toBe(
      forbidden.length,
    );

    await platform.waitForCount('cnc_machine', 'spindle_rpm', 2);
    await new Promise((r) => setTimeout(r, 500)); // anything refused would have arrived by now
    const [series = []] = await platform.store.query(
      `SELECT "spindle_rpm" FROM "cnc_machine" GROUP BY "device", "site"`,
    );
    expect(
      series.map((s) => [s.tags?.['device'], s.tags?.['site'], s.values.map((v) => v[1])]),
    ).toEqual([
      ['cnc-001', 'gz-auto-parts', [100]],
      ['cnc-002', 'gz-auto-parts', [200]],
    ]);
    expect(seen.filter((m) => m.payload.includes('"seq":999'))).toEqual([]);
  });

  it('a device subscribes to its own cmd only: parks/# and other devices are refused (SUBACK 0x80)', async () => {
    const a = await connect(device('cnc-003'));
    const granted = (filter: string) =>
      a.subscribeAsync(filter, { qos: 1 }).then(
        (grants) => grants[0]?.qos,
        // MQTT.js rejects a SUBACK failure; the packet holds the code.
        (error: { packet?: { granted?: number[] } }) => error.packet?.granted?.[0],
      );
    expect(await granted('parks/#')).toBe(128);
    expect(await granted('#')).toBe(128);
    expect(await granted(`${SITE}/+/telemetry`)).toBe(128);
    expect(await granted(`${SITE}/cnc-004/cmd`)).toBe(128);
    expect(await granted(`${SITE}/cnc-003/cmd`)).toBe(1);
    expect(a.connected).toBe(true);

    const received: string[] = [];
    a.on('message', (topic) => received.push(topic));
    const b = await connect(device('cnc-004'));
    await b.publishAsync(`${SITE}/cnc-004/telemetry`, '{"metrics":{"spindle_rpm":3}}', {
      qos: 1,
    });
    // Only the operations service publishes commands (validated against the catalogue, audited).
    const operations = await connect({
      ...serviceCredentials('parkpulse-operations', 'security'),
      reconnectPeriod: 0,
    });
    await operations.publishAsync(`${SITE}/cnc-004/cmd`, '{"cmd":"stop"}', { qos: 1 });
    await operations.publishAsync(`${SITE}/cnc-003/cmd`, '{"cmd":"start"}', { qos: 1 });
    await expect.poll(() => received).toEqual([`${SITE}/cnc-003/cmd`]);
    expect(await metricValue(brokerHttp, 'parkpulse_broker_subscribe_refused_total')).toBe(4);
  });

  it("a person's MQTT account (role operator) watches but cannot publish a command", async () => {
    const target = await connect(device('cnc-006'));
    const received: string[] = [];
    target.on('message', (topic) => received.push(topic));
    await target.subscribeAsync(`${SITE}/cnc-006/cmd`, { qos: 1 });
    const refusedBefore = await metricValue(brokerHttp, 'parkpulse_broker_publish_refused_total');
    const operator = await connect({
      ...serviceCredentials('parkpulse-operator', 'security'),
      reconnectPeriod: 0,
    });
    expect((await operator.subscribeAsync(`${SITE}/+/telemetry`, { qos: 1 }))[0]?.qos).toBe(1);
    await forbiddenPublish(operator, `${SITE}/cnc-006/cmd`);
    expect(await metricValue(brokerHttp, 'parkpulse_broker_publish_refused_total')).toBe(
      refusedBefore + 1,
    );
    // A command that reached the device would have arrived well within this.
    await new Promise((r) => setTimeout(r, 500));
    expect(received).toEqual([]);
  });

  it('admits a device added with the admin CLI once the broker reloads its registry (SIGHUP)', async () => {
    const registry = join(dir, 'registry.yaml');
    const before = readFileSync(registry, 'utf8');
    expect(await connackOf(platform.mqttUrl, device('ulf-002', 'not-yet'))).toBe(5);
    const out = execFileSync(
      process.execPath,
      [
        join(ROOT, 'apps/admin/dist/main.js'),
        'add-device',
        '--registry',
        registry,
        '--id',
        'ulf-002',
        '--park',
        'bio-island',
        '--site',
        'bsl-3',
        '--asset-type',
        'ultra_low_freezer',
      ],
      { encoding: 'utf8' },
    );
    const key = /key \(shown once\): (\S+)/.exec(out)?.[1] ?? '';
    expect(await connackOf(platform.mqttUrl, device('ulf-002', key))).toBe(5);
    process.kill(platform.broker.pid!, 'SIGHUP');
    await expect
      .poll(() => connackOf(platform.mqttUrl, device('ulf-002', key)), { timeout: 5000 })
      .toBe('accepted');
    expect(await connackOf(platform.mqttUrl, device('ulf-002', `${key}x`))).toBe(4);
    // Devices of the group still connect after the reload.
    expect(await connackOf(platform.mqttUrl, device('cnc-009'))).toBe('accepted');

    // Removed again and reloaded: its open connection is closed, the group's devices stay.
    const freezer = await connect(device('ulf-002', key));
    const groupDevice = await connect(device('cnc-009'));
    const closed = new Promise<void>((resolve) => freezer.once('close', () => resolve()));
    writeFileSync(registry, before);
    process.kill(platform.broker.pid!, 'SIGHUP');
    await closed;
    expect(await connackOf(platform.mqttUrl, device('ulf-002', key))).toBe(5);
    expect(groupDevice.connected).toBe(true);
  });

  it('an observer reads but cannot publish', async () => {
    const observer = await connect({
      ...serviceCredentials('parkpulse-observer', 'publisher'),
      reconnectPeriod: 0,
    });
    await forbiddenPublish(observer, `${SITE}/cnc-001/cmd`);
    // Five refused in the device test, one operator command, this one.
    expect(await metricValue(brokerHttp, 'parkpulse_broker_publish_refused_total')).toBe(7);
  });

  it('the refusals reach InfluxDB with the broker figures (platform_broker)', async () => {
    const last = async () => {
      const [series = []] = await platform.store.query(
        `SELECT LAST("publish_refused_total"), LAST("subscribe_refused_total") FROM "platform_broker"`,
      );
      return series[0]?.values[0]?.slice(1);
    };
    await expect.poll(last, { timeout: 10_000 }).toEqual([7, 4]);
  });
});

describe('TLS: mqtts and wss with a test CA, client certificates, no plain text', () => {
  let platform: Platform;
  let dir: string;
  let ports: { mqtts: number; wss: number; plain: number };
  let ca: Buffer;
  const file = (name: string) => join(dir, name);

  /** A test CA, a server certificate for 127.0.0.1 and a client certificate for cnc-005. */
  function makeCertificates(): void {
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=ParkPulse test CA',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
    );
    for (const [name, cn, ext] of [
      ['server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
      ['client', 'cnc-005', 'extendedKeyUsage=clientAuth'],
    ] as const) {
      ssl(
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        `/CN=${cn}`,
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
      );
      writeFileSync(file(`${name}.ext`), `${ext}\n`);
      ssl(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        '1',
        '-extfile',
        `${name}.ext`,
        '-out',
        `${name}.crt`,
      );
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parkpulse-tls-'));
    makeCertificates();
    ca = readFileSync(file('ca.crt'));
    ports = { mqtts: await freePort(), wss: await freePort(), plain: 0 };
    platform = await startPlatform({
      brokerEnv: {
        MQTT_PLAINTEXT: 'false',
        MQTTS_PORT: String(ports.mqtts),
        MQTT_WSS_PORT: String(ports.wss),
        TLS_CERT_FILE: file('server.crt'),
        TLS_KEY_FILE: file('server.key'),
        TLS_CA_FILE: file('ca.crt'),
        TLS_CLIENT_CERTS: 'optional',
      },
      ingestionEnv: {
        // The ingest link is TLS as well (mqtts://, set by startPipelineServices).
        // The ingestion trusts the test CA the way an operator would make Node trust theirs.
        NODE_EXTRA_CA_CERTS: file('ca.crt'),
      },
    });
    ports.plain = platform.mqttPort;
  });

  afterAll(async () => {
    await platform?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const sample = (seq: number) =>
    JSON.stringify({ ts: Date.now() - 1000, seq, metrics: { spindle_rpm: 1000 + seq } });
  // A device of the dev registry (startPlatform's default).
  const dev = (id: string) => ({
    ...deviceCredentials(id),
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });

  it('stores what devices publish over mqtts and wss (the ingest link is TLS too)', async () => {
    const overTls = await mqtt.connectAsync(`mqtts://127.0.0.1:${ports.mqtts}`, {
      ...dev('cnc-010'),
      ca,
    });
    const overWss = await mqtt.connectAsync(`wss://127.0.0.1:${ports.wss}/mqtt`, {
      ...dev('cnc-011'),
      ca,
    });
    await overTls.publishAsync(`${SITE}/cnc-010/telemetry`, sample(1), { qos: 1 });
    await overWss.publishAsync(`${SITE}/cnc-011/telemetry`, sample(1), { qos: 1 });
    await platform.waitForCount('cnc_machine', 'seq', 2);
    await overTls.endAsync();
    await overWss.endAsync();
  });

  it('takes a client certificate of the CA instead of a password; its name is the identity', async () => {
    const withCert = {
      ca,
      cert: readFileSync(file('client.crt')),
      key: readFileSync(file('client.key')),
      reconnectPeriod: 0,
      connectTimeout: 5000,
    };
    const url = `mqtts://127.0.0.1:${ports.mqtts}`;
    const client = await mqtt.connectAsync(url, { ...withCert, clientId: 'cnc-005' });
    await client.publishAsync(`${SITE}/cnc-005/telemetry`, sample(2), { qos: 1 });
    await platform.waitForCount('cnc_machine', 'seq', 1, `"device" = 'cnc-005'`);
    await client.endAsync();
    // The certificate names cnc-005: it cannot be used as cnc-006.
    expect(await connackOf(url, { ...withCert, clientId: 'cnc-006' })).toBe(2);
    expect(await connackOf(url, { ...withCert, ...dev('cnc-006'), password: undefined })).toBe(4);
  });

  it('survives clients that present a certificate and vanish right after CONNECT', async () => {
    const connect = generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clientId: 'cnc-005',
      clean: true,
      keepalive: 30,
    });
    for (let i = 0; i < 30; i++)
      await new Promise<void>((resolve) => {
        const socket = tlsConnect(
          {
            host: '127.0.0.1',
            port: ports.mqtts,
            ca,
            cert: readFileSync(file('client.crt')),
            key: readFileSync(file('client.key')),
          },
          // CONNECT and FIN at once: the broker authenticates a socket that is closing.
          () => socket.end(connect),
        );
        socket.setTimeout(1000, () => socket.destroy());
        socket.on('error', () => resolve());
        socket.on('close', () => resolve());
      });
    const pid = platform.broker.pid;
    expect((await fetch(platform.broker.healthUrl)).status).toBe(200);
    expect(platform.broker.pid).toBe(pid);
    const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${ports.mqtts}`, {
      ...dev('cnc-013'),
      ca,
    });
    await client.endAsync();
  });

  it('refuses plain text: no plain listener, and plain MQTT on the TLS port never connects', async () => {
    const connect = generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clientId: 'cnc-012',
      clean: true,
      keepalive: 30,
      username: 'cnc-012',
      password: Buffer.from(dev('cnc-012').password),
    });
    expect(await plainConnect(ports.plain, connect)).toBe('ECONNREFUSED');
    expect(await plainConnect(ports.mqtts, connect)).toBe('closed without CONNACK');
    // …nor does TLS with a server certificate the client does not trust.
    const untrusted = await new Promise<string>((resolve) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: ports.mqtts }, () =>
        resolve('handshake done'),
      );
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    expect(untrusted).toBe('SELF_SIGNED_CERT_IN_CHAIN');
  });
});
