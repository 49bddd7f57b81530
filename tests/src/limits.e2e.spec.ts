import { connect as tcpConnect } from 'node:net';
import { deviceCredentials, serviceCredentials } from '@parkpulse/dev-services';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawMqttClient, httpBase, metricSamples } from './support/raw-mqtt.js';
import { startPlatform, type Platform } from './support/platform.js';

const MAX_PACKET_BYTES = 4096;
const MAX_CONNECTIONS = 4; // devices (the ingestion attaches to the ingest link, not here)
const MAX_KEEPALIVE_S = 300;

const topicOf = (device: string) => `parks/science-city/gz-limits/cnc_machine/${device}/telemetry`;

describe('broker limits: packet size, connections, connect timeout, keep-alive', () => {
  let platform: Platform;
  let broker: string;
  const clients: MqttClient[] = [];

  async function device(id: string): Promise<MqttClient> {
    const c = await mqtt.connectAsync(platform.mqttUrl, {
      ...deviceCredentials(id),
      reconnectPeriod: 0,
    });
    clients.push(c);
    return c;
  }

  const refusals = () => metricSamples(broker, 'parkpulse_broker_limit_refusals_total');
  const disconnects = () => metricSamples(broker, 'parkpulse_broker_limit_disconnects_total');
  const openClients = async () =>
    ((await (await fetch(platform.broker.healthUrl)).json()) as { clients: number }).clients;

  beforeAll(async () => {
    platform = await startPlatform({
      brokerEnv: {
        MAX_PACKET_BYTES: String(MAX_PACKET_BYTES),
        MAX_CONNECTIONS: String(MAX_CONNECTIONS),
        MAX_KEEPALIVE_S: String(MAX_KEEPALIVE_S),
        CONNECT_TIMEOUT_MS: '1000',
        CONNECTING_TIMEOUT_MS: '1000',
        STATS_INTERVAL_MS: '500',
      },
    });
    broker = httpBase(platform.broker.healthUrl);
  });

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await platform?.stop();
  });

  it('disconnects a device whose packet is above MAX_PACKET_BYTES; what it sent before is stored', async () => {
    const big = await device('cnc-big-1');
    await big.publishAsync(
      topicOf('cnc-big-1'),
      JSON.stringify({ seq: 1, metrics: { spindle_rpm: 1000 } }),
      { qos: 1 },
    );
    const closed = new Promise<void>((r) => big.once('close', () => r()));
    big.publish(topicOf('cnc-big-1'), JSON.stringify({ seq: 2, note: 'x'.repeat(5000) }), {
      qos: 1,
    });
    await closed; // what the device sees: the connection closed, no PUBACK for that message
    expect(await disconnects()).toMatchObject({ '{limit="packet_size"}': 1 });
    await expect
      .poll(() => platform.broker.tail(200))
      .toMatch(/client cnc-big-1 disconnected: a packet of 50\d\d bytes \(MAX_PACKET_BYTES 4096\)/);
    await platform.waitForCount('cnc_machine', 'seq', 1, `"device" = 'cnc-big-1'`);
  });

  it('cuts a packet that announces 256 MB as soon as its header arrives, unbuffered', async () => {
    const liar = await RawMqttClient.connect({
      port: platform.mqttPort,
      ...deviceCredentials('cnc-big-2'),
    });
    // PUBLISH QoS 1, remaining length 268,435,455 (the MQTT maximum), then a few bytes only.
    liar.socket.write(Buffer.from([0x32, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x05, 0x70, 0x61]));
    await liar.closed;
    expect(await disconnects()).toMatchObject({ '{limit="packet_size"}': 2 });
  });

  it('closes a TCP connection that never sends CONNECT (CONNECTING_TIMEOUT_MS)', async () => {
    const idle = tcpConnect({ host: '127.0.0.1', port: platform.mqttPort });
    idle.on('error', () => undefined);
    await new Promise((r) => idle.once('close', r));
    expect(await disconnects()).toMatchObject({ '{limit="connect_timeout"}': 1 });
  });

  it('refuses a keep-alive of 0 or above MAX_KEEPALIVE_S with CONNACK 6', async () => {
    for (const [id, keepalive] of [
      ['cnc-ka-0', 0],
      ['cnc-ka-big', MAX_KEEPALIVE_S + 1],
    ] as const) {
      const code = await RawMqttClient.connect({
        port: platform.mqttPort,
        ...deviceCredentials(id),
        keepalive,
      }).then(
        (c) => (c.destroy(), 'accepted'),
        (e: { code?: number }) => e.code,
      );
      expect({ id, code }).toEqual({ id, code: 6 });
    }
    // Counted when Aedes reports the refused connection, just after the CONNACK went out.
    await expect.poll(refusals).toMatchObject({ '{limit="keepalive"}': 2 });
    await expect
      .poll(() => platform.broker.tail(200))
      .toContain('client cnc-ka-0 refused (CONNACK 6)');
  });

  it('refuses a connection above MAX_CONNECTIONS with CONNACK 3; the ingest link is not one of them', async () => {
    // The ingestion attaches to the broker's ingest link, not as an MQTT client: no slot is its.
    await expect.poll(openClients, { timeout: 10_000 }).toBe(0);
    for (const id of ['cnc-conn-1', 'cnc-conn-2', 'cnc-conn-3', 'cnc-conn-5']) await device(id);
    const refused = await mqtt
      .connectAsync(platform.mqttUrl, { ...deviceCredentials('cnc-conn-4'), reconnectPeriod: 0 })
      .then(
        (c) => (void c.end(true), 'accepted'),
        (e: { code?: number }) => e.code,
      );
    expect(refused).toBe(3);
    expect(await refusals()).toMatchObject({ '{limit="max_connections"}': 1 });
    await expect
      .poll(() => platform.broker.tail(200))
      .toContain('client cnc-conn-4 refused (CONNACK 3): MAX_CONNECTIONS (4) connections open');

    // The ingestion restarts while the broker is full: its link is unaffected by the limit.
    await platform.ingestion.stop();
    await platform.ingestion.start(); // healthy = its link is up
    expect(await openClients()).toBe(MAX_CONNECTIONS);
    await clients
      .at(-1)!
      .publishAsync(
        topicOf('cnc-conn-5'),
        JSON.stringify({ seq: 1, metrics: { spindle_rpm: 1 } }),
        { qos: 1 },
      );
    await platform.waitForCount('cnc_machine', 'seq', 1, `"device" = 'cnc-conn-5'`);
  });

  it('publishes what the limits did in its $SYS figures', async () => {
    for (const c of clients.splice(0)) c.end(true);
    await expect.poll(openClients, { timeout: 10_000 }).toBe(0);
    const observer = await mqtt.connectAsync(platform.mqttUrl, {
      ...serviceCredentials('parkpulse-observer', 'limits'),
      reconnectPeriod: 0,
    });
    clients.push(observer);
    await observer.subscribeAsync('$SYS/parkpulse/brokers/e2e/stats');
    const stats = await new Promise<Record<string, unknown>>((resolve, reject) => {
      setTimeout(() => reject(new Error('no $SYS stats within 10 s')), 10_000).unref();
      observer.once('message', (_t, payload) =>
        resolve(JSON.parse(payload.toString()) as Record<string, unknown>),
      );
    });
    expect(stats).toMatchObject({
      connectionsRefused: 3,
      limitDisconnects: 3,
      deliveriesShed: 0,
      publishThrottled: 0,
      limits: {
        refused: { max_connections: 1, keepalive: 2 },
        disconnected: { packet_size: 2, publish_rate: 0, connect_timeout: 1 },
        shed: { subscriber_backlog: 0 },
      },
    });
  });
});
