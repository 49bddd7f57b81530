import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessControl, deriveDeviceKey, newGroupKey, parseRegistry } from '@parkpulse/access';
import { ConfigError } from '@parkpulse/config';
import { STATS_TOPIC_PREFIX, WS_PATH, startBroker, type RunningBroker } from './broker.js';
import { loadConfig, type BrokerConfig } from './config.js';

const GROUP_KEY = newGroupKey();
const access = new AccessControl(
  parseRegistry(
    `version: 1
groups: [{ id: g, keyEnv: GROUP_KEY, parks: '*', sites: '*', assetTypes: '*' }]
services:
  - { id: ing, role: ingestion, secretEnv: ING_SECRET }
  - { id: obs, role: observer, secretEnv: OBS_SECRET }`,
    { GROUP_KEY, ING_SECRET: 'ing-secret', OBS_SECRET: 'obs-secret' },
  ),
);

/** Connect options of a device of the test group, or of the `ing`/`obs` service accounts. */
function login(clientId: string): { clientId: string; username: string; password: string } {
  if (clientId.startsWith('ing')) return { clientId, username: 'ing', password: 'ing-secret' };
  if (clientId.startsWith('obs')) return { clientId, username: 'obs', password: 'obs-secret' };
  return { clientId, username: clientId, password: deriveDeviceKey(GROUP_KEY, clientId) };
}

function unitConfig(overrides: Partial<BrokerConfig>): BrokerConfig {
  return {
    id: 'unit',
    host: '127.0.0.1',
    mqttPort: 0,
    wsPort: 0,
    httpPort: 0,
    connectTimeoutMs: 5000,
    statsIntervalMs: 0,
    ingestClientIds: [],
    startupGateMs: 0,
    registryFile: '(in memory)',
    plaintext: true,
    ...overrides,
  };
}

describe('config', () => {
  it('has working defaults', () => {
    expect(loadConfig({ BROKER_ID: 'b1' })).toMatchObject({
      id: 'b1',
      mqttPort: 1883,
      wsPort: 8083,
      httpPort: 9101,
      statsIntervalMs: 10_000,
    });
  });
  it('lists every bad variable at once', () => {
    expect(() =>
      loadConfig({ MQTT_PORT: 'x', HTTP_PORT: '99999', BROKER_ID: 'has space' }),
    ).toThrow(ConfigError);
    try {
      loadConfig({ MQTT_PORT: 'x', HTTP_PORT: '99999', BROKER_ID: 'has space' });
    } catch (e) {
      expect((e as ConfigError).problems.map((p) => p.split(':')[0]).sort()).toEqual([
        'BROKER_ID',
        'HTTP_PORT',
        'MQTT_PORT',
      ]);
    }
  });
});

describe('broker over TCP and WebSocket', () => {
  let broker: RunningBroker;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    broker = await startBroker(unitConfig({ statsIntervalMs: 200 }), undefined, access);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await broker?.close();
  });

  async function client(url: string, clientId: string): Promise<MqttClient> {
    const c = await mqtt.connectAsync(url, { ...login(clientId), reconnectPeriod: 0 });
    clients.push(c);
    return c;
  }

  it('relays QoS-1 messages from a TCP publisher to a WebSocket subscriber', async () => {
    const sub = await client(`ws://127.0.0.1:${broker.ports.ws}${WS_PATH}`, 'obs-ws');
    const pub = await client(`mqtt://127.0.0.1:${broker.ports.mqtt}`, 'c1');
    await sub.subscribeAsync('parks/+/+/+/+/telemetry', { qos: 1 });
    const received: string[] = [];
    sub.on('message', (_topic, payload) => received.push(payload.toString()));
    for (let i = 0; i < 20; i++)
      await pub.publishAsync('parks/science-city/f1/cnc_machine/c1/telemetry', `{"seq":${i}}`, {
        qos: 1,
      });
    await expect.poll(() => received.length).toBe(20);
    expect(received[19]).toBe('{"seq":19}');
  });

  it('keeps QoS-1 messages for an offline persistent session and delivers them on return', async () => {
    const first = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.ports.mqtt}`, {
      ...login('ing'),
      clean: false,
      reconnectPeriod: 0,
    });
    await first.subscribeAsync('parks/#', { qos: 1 });
    await first.endAsync();
    const pub = await client(`mqtt://127.0.0.1:${broker.ports.mqtt}`, 'a1');
    for (let i = 0; i < 5; i++)
      await pub.publishAsync('parks/science-city/f1/agv/a1/telemetry', `m${i}`, { qos: 1 });
    const back = await client(`mqtt://127.0.0.1:${broker.ports.mqtt}`, 'ing-2');
    await back.endAsync();
    const received: string[] = [];
    const again = mqtt.connect(`mqtt://127.0.0.1:${broker.ports.mqtt}`, {
      ...login('ing'),
      clean: false,
      reconnectPeriod: 0,
    });
    clients.push(again);
    again.on('message', (_t, p) => received.push(p.toString()));
    await expect.poll(() => received).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
  });

  it('publishes its figures on $SYS for the ingestion to store', async () => {
    const sub = await client(`mqtt://127.0.0.1:${broker.ports.mqtt}`, 'obs-sys');
    await sub.subscribeAsync(`${STATS_TOPIC_PREFIX}/+/stats`);
    const payload = await new Promise<Buffer>((resolve) =>
      sub.once('message', (_t, p) => resolve(p)),
    );
    expect(JSON.parse(payload.toString())).toMatchObject({
      broker: 'unit',
      clients: expect.any(Number),
      messagesIn: expect.any(Number),
    });
  });

  it('answers /health and counts messages in /metrics', async () => {
    const health = await fetch(`http://127.0.0.1:${broker.ports.http}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', broker: 'unit' });
    const text = await (await fetch(`http://127.0.0.1:${broker.ports.http}/metrics`)).text();
    const value = (name: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(`${name} `))
          ?.split(' ')[1],
      );
    expect(value('parkpulse_broker_messages_in_total')).toBe(25);
    expect(value('parkpulse_broker_messages_out_total')).toBeGreaterThanOrEqual(25);
    expect(value('parkpulse_broker_clients_connected')).toBeGreaterThanOrEqual(3);
    expect((await fetch(`http://127.0.0.1:${broker.ports.http}/nope`)).status).toBe(404);
  });
});

describe('startup gate', () => {
  it('refuses devices (CONNACK 3) until the ingestion has subscribed', async () => {
    const broker = await startBroker(
      unitConfig({ id: 'gate', ingestClientIds: ['ing'], startupGateMs: 10_000 }),
      undefined,
      access,
    );
    const url = `mqtt://127.0.0.1:${broker.ports.mqtt}`;
    try {
      const refused = await mqtt
        .connectAsync(url, { ...login('device-1'), reconnectPeriod: 0 })
        .then(
          (c) => (void c.end(true), 'accepted'),
          (e: { code?: number }) => e.code,
        );
      expect(refused).toBe(3);
      const ingestion = await mqtt.connectAsync(url, {
        ...login('ing'),
        clean: false,
        reconnectPeriod: 0,
      });
      await ingestion.subscribeAsync('parks/#', { qos: 1 });
      const device = await mqtt.connectAsync(url, { ...login('device-1'), reconnectPeriod: 0 });
      expect(device.connected).toBe(true);
      await device.endAsync();
      await ingestion.endAsync();
    } finally {
      await broker.close();
    }
  });
});
