import { createServer, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { newClient } from 'sparkplug-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SparkplugHost, type SparkplugOutcome } from '../src/index.js';
import { GROUP, MAPPING, NODE } from './fixtures.js';

/**
 * A foreign edge node: Eclipse Tahu's `sparkplug-client` (npm, 3.2.4) connects to a real MQTT
 * broker (Aedes, in process, on loopback), publishes NBIRTH / DBIRTH / DDATA and loses its
 * connection; everything the broker routes is captured as it went over the wire and handed to
 * the host. Its known quirks show up here: bdSeq is always 0 (never incremented per connect)
 * and the NDEATH will has QoS 0.
 */
interface Captured {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: number;
  readonly retain: boolean;
}

let broker: Aedes;
let server: ReturnType<typeof createServer>;
let port = 0;
const sockets = new Set<Socket>();
const captured: Captured[] = [];
const waiters: { until: (c: Captured[]) => boolean; resolve: () => void }[] = [];

function waitFor(until: (c: Captured[]) => boolean): Promise<void> {
  if (until(captured)) return Promise.resolve();
  return new Promise((resolve) => waiters.push({ until, resolve }));
}

beforeAll(async () => {
  broker = await Aedes.createBroker();
  broker.on('publish', (packet) => {
    if (!packet.topic.startsWith('spBv1.0/')) return;
    captured.push({
      topic: packet.topic,
      payload: Buffer.from(packet.payload),
      qos: packet.qos,
      retain: packet.retain,
    });
    for (const w of [...waiters]) if (w.until(captured)) w.resolve();
  });
  server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  await new Promise<void>((r) => broker.close(() => r()));
});

describe('Eclipse Tahu sparkplug-client 3.2.4 as a foreign edge node', () => {
  it('its NBIRTH, DBIRTH, DDATA and NDEATH will are read exactly; a rebirth request reaches it', async () => {
    const T = Date.now();
    const client = newClient({
      serverUrl: `mqtt://127.0.0.1:${port}`,
      username: NODE,
      password: 'not checked by this broker',
      groupId: GROUP,
      edgeNode: NODE,
      clientId: NODE,
      keepalive: 30,
    });
    const commands: unknown[] = [];
    const gotCommand = new Promise<void>((resolve) =>
      client.on('ncmd', (payload) => {
        commands.push(payload);
        resolve();
      }),
    );
    client.on('birth', () => {
      client.publishNodeBirth({
        timestamp: T,
        metrics: [
          { name: 'Node Control/Rebirth', type: 'Boolean', value: false },
          { name: 'Line/Good Count', alias: 1, type: 'UInt64', value: 4200 },
          { name: 'Line/Power kW', alias: 2, type: 'Float', value: 41.2 },
        ],
      });
      client.publishDeviceBirth('cnc-1', {
        timestamp: T,
        metrics: [
          { name: 'Spindle/Speed RPM', alias: 10, type: 'Int32', value: 11850 },
          { name: 'Temperature C', alias: 11, type: 'Double', value: 41.5 },
          { name: 'State', alias: 12, type: 'String', value: 'running' },
          { name: 'Door Open', alias: 13, type: 'Boolean', value: false },
        ],
      });
      client.publishDeviceData('cnc-1', {
        timestamp: T + 1000,
        metrics: [
          { alias: 10, type: 'Int32', value: -5 + 12005 },
          { alias: 11, type: 'Double', value: 43.25 },
        ],
      });
    });
    await waitFor((c) => c.length >= 3);

    const host = new SparkplugHost({ mapping: MAPPING });
    const outcomes: SparkplugOutcome[] = captured.map((m) =>
      host.handle({ topic: m.topic, payload: m.payload, receivedAt: T + 2000 }),
    );
    expect(captured.map((m) => m.topic)).toEqual([
      `spBv1.0/${GROUP}/NBIRTH/${NODE}`,
      `spBv1.0/${GROUP}/DBIRTH/${NODE}/cnc-1`,
      `spBv1.0/${GROUP}/DDATA/${NODE}/cnc-1`,
    ]);
    expect(outcomes.flatMap((o) => o.rejects)).toEqual([]);
    expect(outcomes.flatMap((o) => o.notes)).toEqual([]);
    expect(outcomes.flatMap((o) => o.telemetry.map((t) => [t.topic.deviceId, t.samples]))).toEqual([
      ['gz-line-1', [{ ts: T, fields: { line_good_count: 4200, line_power_kw: 41.2 } }]],
      [
        'gz-cnc-001',
        [
          {
            ts: T,
            fields: { spindle_rpm: 11850, temperature_c: 41.5, state: 'running', door_open: false },
          },
        ],
      ],
      ['gz-cnc-001', [{ ts: T + 1000, fields: { spindle_rpm: 12000, temperature_c: 43.25 } }]],
    ]);
    expect(outcomes.flatMap((o) => o.ledger.map((l) => l.seq))).toEqual([0, 1, 2]);

    // The host's rebirth request, published through the broker, is what Tahu understands.
    const request = host.handle({
      topic: `spBv1.0/${GROUP}/NDATA/${NODE}`,
      payload: captured[2]!.payload,
      receivedAt: T + 3000,
    });
    expect(request.publishes).toHaveLength(1);
    const publish = request.publishes[0]!;
    broker.publish(
      {
        cmd: 'publish',
        topic: publish.topic,
        payload: publish.payload,
        qos: publish.qos,
        retain: publish.retain,
        dup: false,
      },
      () => undefined,
    );
    await gotCommand;
    expect(commands).toEqual([
      expect.objectContaining({
        metrics: [
          expect.objectContaining({ name: 'Node Control/Rebirth', value: true, type: 'Boolean' }),
        ],
      }),
    ]);

    // The connection drops without a DISCONNECT: the broker publishes its will, the NDEATH.
    const before = captured.length;
    for (const s of sockets) s.destroy();
    await waitFor((c) => c.some((m, i) => i >= before && m.topic.includes('/NDEATH/')));
    client.stop();
    const will = captured.find((m) => m.topic === `spBv1.0/${GROUP}/NDEATH/${NODE}`)!;
    expect(will.qos).toBe(0); // Tahu's quirk; the specification wants QoS 1
    expect(will.retain).toBe(false);
    const death = host.handle({ topic: will.topic, payload: will.payload, receivedAt: T + 4000 });
    expect(death.notes).toEqual([]); // bdSeq 0 in NBIRTH and NDEATH alike: it matches
    expect(death.status.map((s) => [s.topic.deviceId, s.online])).toEqual([
      ['gz-line-1', false],
      ['gz-cnc-001', false],
    ]);
  });
});
