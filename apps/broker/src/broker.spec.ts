import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessControl, deriveDeviceKey, newGroupKey, parseRegistry } from '@parkpulse/access';
import { ConfigError } from '@parkpulse/config';
import { STATS_TOPIC_PREFIX, WS_PATH, startBroker, type RunningBroker } from './broker.js';
import { loadConfig } from './config.js';
import { unitConfig } from '../test/unit-config.js';
import { LINK_TOPIC, LinkSession, decodeBatch, type LinkMessage } from '@parkpulse/ingest-link';

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
    // An ingestion instance that acknowledges every batch at once (MQTT.js, a foreign client).
    const link = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.ports.link}`, {
      ...login('ing-1'),
      reconnectPeriod: 0,
    });
    await link.subscribeAsync(LINK_TOPIC, { qos: 1 });
    clients.push(link);
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
      ...login('obs'),
      clean: false,
      reconnectPeriod: 0,
    });
    await first.subscribeAsync('parks/#', { qos: 1 });
    await first.endAsync();
    const pub = await client(`mqtt://127.0.0.1:${broker.ports.mqtt}`, 'a1');
    for (let i = 0; i < 5; i++)
      await pub.publishAsync('parks/science-city/f1/agv/a1/telemetry', `m${i}`, { qos: 1 });
    const back = await client(`mqtt://127.0.0.1:${broker.ports.mqtt}`, 'obs-2');
    await back.endAsync();
    const received: string[] = [];
    const again = mqtt.connect(`mqtt://127.0.0.1:${broker.ports.mqtt}`, {
      ...login('obs'),
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

/** An ingestion instance on the link that acknowledges a batch only when told. */
async function linkClient(port: number, clientId: string, autoAck = false) {
  const batches: { messages: LinkMessage[]; ack: () => void }[] = [];
  const session = new LinkSession(
    {
      url: `mqtt://127.0.0.1:${port}`,
      ...login(clientId),
      keepaliveS: 10,
      subscriptions: [LINK_TOPIC],
    },
    {
      message: (m) => {
        batches.push({ messages: decodeBatch(m.payload), ack: m.ack });
        if (autoAck) m.ack();
      },
    },
  );
  await session.start();
  const messages = () => batches.flatMap((b) => b.messages);
  return { session, batches, messages };
}

describe('capture: a PUBACK means stored', () => {
  let broker: RunningBroker;
  const open: MqttClient[] = [];
  const sessions: LinkSession[] = [];
  const url = () => `mqtt://127.0.0.1:${broker.ports.mqtt}`;

  beforeAll(async () => {
    broker = await startBroker(unitConfig({ id: 'capture' }), undefined, access);
  });
  afterAll(async () => {
    await Promise.all(open.map((c) => c.endAsync(true)));
    await Promise.all(sessions.map((s) => s.stop()));
    await broker?.close();
  });
  async function device(id: string): Promise<MqttClient> {
    const c = await mqtt.connectAsync(url(), { ...login(id), reconnectPeriod: 0 });
    open.push(c);
    return c;
  }

  it('holds the device PUBACK and the delivery to observers until the batch is acknowledged', async () => {
    const ing = await linkClient(broker.ports.link, 'ing-hold');
    sessions.push(ing.session);
    const observer = await mqtt.connectAsync(url(), { ...login('obs-hold'), reconnectPeriod: 0 });
    open.push(observer);
    await observer.subscribeAsync('parks/#', { qos: 1 });
    const seen: string[] = [];
    observer.on('message', (_t, p) => seen.push(p.toString()));
    const dev = await device('hold-1');
    const topic = 'parks/science-city/f1/cnc_machine/hold-1/telemetry';
    const before = Date.now();
    let acked = false;
    const published = dev.publishAsync(topic, '{"seq":1}', { qos: 1 }).then(() => (acked = true));
    await expect.poll(() => ing.batches.length).toBe(1);
    expect(ing.messages()).toEqual([
      {
        topic,
        payload: Buffer.from('{"seq":1}'),
        qos: 1,
        retain: false,
        will: false,
        clientId: 'hold-1',
        receivedAt: expect.any(Number),
      },
    ]);
    expect(ing.messages()[0]!.receivedAt).toBeGreaterThanOrEqual(before);
    // Not stored yet: no PUBACK, and no observer has it (a round trip's worth of waiting).
    await new Promise((r) => setTimeout(r, 200));
    expect(acked).toBe(false);
    expect(seen).toEqual([]);
    expect(broker.dispatcher.pending.messages).toBe(1);
    ing.batches[0]!.ack();
    await published;
    await expect.poll(() => seen).toEqual(['{"seq":1}']);
    expect(broker.dispatcher.pending.messages).toBe(0);
    await ing.session.stop();
  });

  it('sends an unacknowledged batch again when the instance comes back, and QoS 0 the same way', async () => {
    const first = await linkClient(broker.ports.link, 'ing-back');
    const dev = await device('back-1');
    const topic = 'parks/science-city/f1/agv/back-1/telemetry';
    const published = [1, 2, 3].map((seq) =>
      dev.publishAsync(topic, `{"seq":${seq}}`, { qos: seq === 3 ? 0 : 1 }),
    );
    await expect.poll(() => first.messages().length).toBe(3);
    // A crash: nothing acknowledged (a session's socket is private: stop reading, then cut it).
    (first.session as unknown as { socket: { destroy(): void } }).socket.destroy();
    void first.session.stop();
    await expect.poll(() => broker.dispatcher.attached.includes('ing-back')).toBe(false);
    const second = await linkClient(broker.ports.link, 'ing-back');
    sessions.push(second.session);
    await expect.poll(() => second.messages().length).toBe(3);
    expect(second.messages().map((m) => [m.payload.toString(), m.qos])).toEqual([
      ['{"seq":1}', 1],
      ['{"seq":2}', 1],
      ['{"seq":3}', 0],
    ]);
    for (const b of second.batches) b.ack();
    await Promise.all(published);
    await second.session.stop();
  });

  it('gives each device to exactly one of two instances, and moves them when one leaves', async () => {
    await expect.poll(() => broker.dispatcher.attached).toEqual([]);
    const a = await linkClient(broker.ports.link, 'ing-a', true);
    const b = await linkClient(broker.ports.link, 'ing-b', true);
    sessions.push(b.session);
    const ids = Array.from({ length: 16 }, (_, i) => `part-${i}`);
    const devices = await Promise.all(ids.map((id) => device(id)));
    const send = (round: number) =>
      Promise.all(
        devices.map((d, i) =>
          d.publishAsync(`parks/science-city/f1/agv/${ids[i]}/telemetry`, `${round}`, { qos: 1 }),
        ),
      );
    await send(1);
    await send(2);
    const owners = (id: string) =>
      [a, b].filter((l) => l.messages().some((m) => m.clientId === id)).length;
    for (const id of ids) expect(owners(id), id).toBe(1);
    expect(a.messages().length).toBeGreaterThan(0);
    expect(b.messages().length).toBeGreaterThan(0);
    expect(a.messages().length + b.messages().length).toBe(32);
    await a.session.stop();
    await expect.poll(() => broker.dispatcher.attached.includes('ing-a')).toBe(false);
    const before = b.messages().length;
    await send(3);
    expect(b.messages().length - before).toBe(16);
    await b.session.stop();
  });

  it('captures a misspelt channel under the device path instead of disconnecting', async () => {
    const ing = await linkClient(broker.ports.link, 'ing-typo');
    sessions.push(ing.session);
    const dev = await device('typo-1');
    const acked = dev.publishAsync('parks/science-city/f1/agv/typo-1/telemetri', '{}', { qos: 1 });
    await expect.poll(() => ing.batches.length).toBe(1);
    expect(ing.messages()[0]!.topic).toBe('parks/science-city/f1/agv/typo-1/telemetri');
    ing.batches[0]!.ack();
    await acked;
    expect(dev.connected).toBe(true);
    await ing.session.stop();
  });

  it('lets only ingestion accounts attach', async () => {
    const attempt = (clientId: string, password?: string) =>
      mqtt
        .connectAsync(`mqtt://127.0.0.1:${broker.ports.link}`, {
          ...login(clientId),
          ...(password ? { password } : {}),
          reconnectPeriod: 0,
        })
        .then(
          (c) => (void c.end(true), 0),
          (e: { code?: number }) => e.code,
        );
    expect(await attempt('obs-link')).toBe(5);
    expect(await attempt('device-x')).toBe(5);
    expect(await attempt('ing-x', 'wrong')).toBe(4);
  });
});
