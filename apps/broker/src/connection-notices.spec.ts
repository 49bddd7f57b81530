import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessControl, deriveDeviceKey, newGroupKey, parseRegistry } from '@parkpulse/access';
import { CONNECTIONS_TOPIC_ROOT, type ConnectionNotice } from '@parkpulse/telemetry';
import { startBroker, type RunningBroker } from './broker.js';
import { unitConfig } from '../test/unit-config.js';

const GROUP_KEY = newGroupKey();
const access = new AccessControl(
  parseRegistry(
    `version: 1
groups: [{ id: g, keyEnv: GROUP_KEY, parks: '*', sites: '*', assetTypes: '*' }]
services:
  - { id: obs, role: observer, secretEnv: OBS_SECRET }
  - { id: ops, role: operations, secretEnv: OPS_SECRET }`,
    { GROUP_KEY, OBS_SECRET: 'obs-secret', OPS_SECRET: 'ops-secret' },
  ),
);

const BASE = 'parks/science-city/f1/cnc_machine';

interface Received {
  readonly topic: string;
  readonly notice: ConnectionNotice;
  readonly retain: boolean;
  readonly qos: number;
}

describe('connection notices ($parkpulse/connections/{clientId})', () => {
  let broker: RunningBroker;
  let url: string;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    broker = await startBroker(unitConfig(), undefined, access);
    url = `mqtt://127.0.0.1:${broker.ports.mqtt}`;
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await broker?.close();
  });

  async function connect(
    clientId: string,
    username: string,
    password: string,
    extra: IClientOptions = {},
  ): Promise<MqttClient> {
    const c = await mqtt.connectAsync(url, {
      clientId,
      username,
      password,
      reconnectPeriod: 0,
      ...extra,
    });
    clients.push(c);
    return c;
  }
  const device = (id: string, extra: IClientOptions = {}) =>
    connect(id, id, deriveDeviceKey(GROUP_KEY, id), extra);

  async function watcher(clientId: string, filter: string): Promise<Received[]> {
    const c = await connect(clientId, 'obs', 'obs-secret');
    const received: Received[] = [];
    c.on('message', (topic, payload, packet) =>
      received.push({
        topic,
        notice: JSON.parse(payload.toString('utf8')) as ConnectionNotice,
        retain: packet.retain,
        qos: packet.qos,
      }),
    );
    const granted = await c.subscribeAsync(filter, { qos: 1 });
    expect(granted[0]?.qos).toBe(1);
    return received;
  }

  /** The SUBACK code for one filter (MQTT.js rejects a failure; the packet holds the code). */
  const granted = (c: MqttClient, filter: string) =>
    c.subscribeAsync(filter, { qos: 1 }).then(
      (grants) => grants[0]?.qos,
      (error: { packet?: { granted?: number[] } }) => error.packet?.granted?.[0],
    );

  it("announces a device's keep-alive, clean flag, protocol and will — no secret, no will payload", async () => {
    const received = await watcher('obs-live', `${CONNECTIONS_TOPIC_ROOT}/#`);
    const before = Date.now();
    await device('cnc-n1', {
      keepalive: 45,
      clean: true,
      will: {
        topic: `${BASE}/cnc-n1/status`,
        payload: Buffer.from('offline'),
        qos: 1,
        retain: true,
      },
    });
    await expect.poll(() => received.filter((r) => r.notice.clientId === 'cnc-n1')).toHaveLength(1);
    const got = received.find((r) => r.notice.clientId === 'cnc-n1')!;
    expect(got.topic).toBe(`${CONNECTIONS_TOPIC_ROOT}/cnc-n1`);
    expect(got.qos).toBe(1);
    expect(got.retain).toBe(false); // a live delivery [MQTT-3.3.1-9]
    expect(got.notice).toEqual({
      clientId: 'cnc-n1',
      keepaliveS: 45,
      clean: true,
      protocolVersion: 4,
      will: { topic: `${BASE}/cnc-n1/status`, qos: 1, retain: true, payloadBytes: 7 },
      connectedAt: expect.any(Number),
    });
    expect(got.notice.connectedAt).toBeGreaterThanOrEqual(before);
    expect(got.notice.connectedAt).toBeLessThanOrEqual(Date.now());
    const text = JSON.stringify(got.notice);
    expect(text).not.toContain(deriveDeviceKey(GROUP_KEY, 'cnc-n1'));
    expect(text).not.toContain('offline');
    expect(Object.keys(got.notice)).not.toContain('password');
    expect(Object.keys(got.notice)).not.toContain('username');
  });

  it('says will null for a CONNECT without a will, and announces no service account', async () => {
    const received = await watcher('obs-nowill', `${CONNECTIONS_TOPIC_ROOT}/+`);
    // A service's client id is its own choice, often new each time: a notice each would pile up.
    await connect('ops-1', 'ops', 'ops-secret');
    await device('cnc-n2', { keepalive: 900, clean: false });
    // (The retained notices of the connections before it come first: not these.)
    await expect
      .poll(() => received.filter((r) => !r.retain).map((r) => r.notice.clientId))
      .toEqual(['cnc-n2']);
    expect(received.map((r) => r.notice.clientId)).not.toContain('obs-nowill');
    expect(received.find((r) => r.notice.clientId === 'cnc-n2')!.notice).toMatchObject({
      keepaliveS: 900,
      clean: false,
      will: null,
    });
  });

  it('replays the latest connect, retained, to a subscriber that comes later', async () => {
    const first = await device('cnc-n3', { keepalive: 30 });
    await first.endAsync();
    await device('cnc-n3', {
      keepalive: 60,
      will: { topic: `${BASE}/cnc-n3/status`, payload: 'offline', qos: 0, retain: false },
    });
    // Both notices published before anyone watches this id: only the last one is kept.
    await new Promise((r) => setTimeout(r, 100));
    const late = await watcher('obs-late', `${CONNECTIONS_TOPIC_ROOT}/cnc-n3`);
    await expect.poll(() => late.length).toBe(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(late).toHaveLength(1);
    expect(late[0]).toMatchObject({
      topic: `${CONNECTIONS_TOPIC_ROOT}/cnc-n3`,
      retain: true,
      notice: {
        clientId: 'cnc-n3',
        keepaliveS: 60,
        will: { topic: `${BASE}/cnc-n3/status`, qos: 0, retain: false, payloadBytes: 7 },
      },
    });
  });

  it('lets no device read the notices (its own included) nor publish one', async () => {
    const spy = await device('cnc-n4');
    const leaked: string[] = [];
    spy.on('message', (topic) => leaked.push(topic));
    for (const filter of [
      `${CONNECTIONS_TOPIC_ROOT}/#`,
      `${CONNECTIONS_TOPIC_ROOT}/cnc-n1`,
      `${CONNECTIONS_TOPIC_ROOT}/cnc-n4`,
      '$parkpulse/#',
    ])
      expect(await granted(spy, filter), filter).toBe(128);
    expect(spy.connected).toBe(true);

    // An operations account (a service without the right) is refused the same way.
    const ops = await connect('ops-2', 'ops', 'ops-secret');
    expect(await granted(ops, `${CONNECTIONS_TOPIC_ROOT}/#`)).toBe(128);

    // A forged notice closes the publisher's connection and replaces nothing.
    const forger = await device('cnc-n5');
    const closed = new Promise<void>((resolve) => forger.once('close', () => resolve()));
    forger.publish(
      `${CONNECTIONS_TOPIC_ROOT}/cnc-n1`,
      JSON.stringify({ clientId: 'cnc-n1', keepaliveS: 30, will: null }),
      { qos: 1, retain: true },
    );
    await closed;
    const check = await watcher('obs-check', `${CONNECTIONS_TOPIC_ROOT}/cnc-n1`);
    await expect.poll(() => check.length).toBe(1);
    expect(check[0]!.notice).toMatchObject({ clientId: 'cnc-n1', keepaliveS: 45 });
    expect(leaked).toEqual([]);
  });
});
