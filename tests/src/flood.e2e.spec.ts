import { deviceCredentials, serviceCredentials } from '@parkpulse/dev-services';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpBase, metricSamples, metricSum, sleep } from './support/raw-mqtt.js';
import { startPlatform, type Platform } from './support/platform.js';

const RATE = 50; // PUBLISH_RATE_LIMIT, msg/s per client
const BURST = 50;
const CUTOFF_MS = 4000; // THROTTLE_DISCONNECT_MS
const FLOOD = 3000; // QoS-1 messages the flooding device tries to send at once
const DEVICES = 4;
const PER_DEVICE = 40; // at 10 msg/s each: well under the limit, during the flood
const FLOODER = 'agv-flood-1';

const topicOf = (id: string) => `parks/science-city/gz-flood/agv/${id}/telemetry`;
const sample = (ts: number, seq: number) =>
  JSON.stringify({ ts, seq, metrics: { battery_pct: 50 + (seq % 40), speed_m_s: 1.2 } });

describe('flood: one device above its publish rate is throttled, then cut off; the others are unaffected', () => {
  let platform: Platform;
  let broker: string;
  const clients: MqttClient[] = [];
  let lastStats: Record<string, unknown> = {};
  const flood = { acked: 0, connectedAt: 0, closedAt: 0, closedByUs: false };
  const normalAcked = new Map<string, number>();

  beforeAll(async () => {
    platform = await startPlatform({
      brokerEnv: {
        PUBLISH_RATE_LIMIT: String(RATE),
        PUBLISH_BURST: String(BURST),
        THROTTLE_DISCONNECT_MS: String(CUTOFF_MS),
        STATS_INTERVAL_MS: '500',
      },
    });
    broker = httpBase(platform.broker.healthUrl);
    const observer = await mqtt.connectAsync(platform.mqttUrl, {
      ...serviceCredentials('parkpulse-observer', 'flood'),
      reconnectPeriod: 0,
    });
    clients.push(observer);
    observer.on('message', (_t, payload) => {
      lastStats = JSON.parse(payload.toString()) as Record<string, unknown>;
    });
    await observer.subscribeAsync('$SYS/parkpulse/brokers/e2e/stats');

    const t0 = Date.now() - 60_000;
    // The flooder: a device that queues 3,000 QoS-1 messages at once (MQTT.js sends them all).
    flood.connectedAt = performance.now();
    const flooder = await mqtt.connectAsync(platform.mqttUrl, {
      ...deviceCredentials(FLOODER),
      reconnectPeriod: 0,
    });
    clients.push(flooder);
    const floodClosed = new Promise<void>((resolve) =>
      flooder.once('close', () => {
        flood.closedAt = performance.now();
        resolve();
      }),
    );
    for (let i = 1; i <= FLOOD; i++)
      flooder.publish(topicOf(FLOODER), sample(t0 + i, i), { qos: 1 }, (error) => {
        if (!error) flood.acked++;
      });

    // Well-behaved devices publish at 10 msg/s each meanwhile, and must all be stored.
    const normal = Array.from({ length: DEVICES }, async (_, d) => {
      const id = `agv-calm-${d}`;
      const c = await mqtt.connectAsync(platform.mqttUrl, {
        ...deviceCredentials(id),
        reconnectPeriod: 0,
      });
      clients.push(c);
      for (let i = 1; i <= PER_DEVICE; i++) {
        await c.publishAsync(topicOf(id), sample(t0 + i, i), { qos: 1 });
        normalAcked.set(id, i);
        await sleep(100);
      }
    });
    await Promise.all([...normal, floodClosed]);
  });

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await platform?.stop();
  });

  it('throttles the flooder: its PUBACKs come no faster than the limit allows', () => {
    const seconds = (flood.closedAt - flood.connectedAt) / 1000;
    console.log(
      `flooder: ${flood.acked} of ${FLOOD} acknowledged in ${seconds.toFixed(1)} s, then cut off`,
    );
    expect(flood.acked).toBeGreaterThan(BURST);
    // The token bucket lets through at most BURST + RATE × t publishes: never more PUBACKs.
    expect(flood.acked).toBeLessThanOrEqual(BURST + Math.ceil(RATE * seconds) + 1);
    expect(flood.acked).toBeLessThan(FLOOD);
  });

  it('cuts the flooder off after sustained abuse, and counts both', async () => {
    expect(flood.closedAt).toBeGreaterThan(0); // the broker closed it: we never did
    expect(await metricSamples(broker, 'parkpulse_broker_limit_disconnects_total')).toMatchObject({
      '{limit="publish_rate"}': 1,
    });
    expect(await metricSum(broker, 'parkpulse_broker_publish_throttled_total')).toBe(1);
    expect(await metricSum(broker, 'parkpulse_broker_clients_throttled')).toBe(0);
    expect(
      await metricSum(broker, 'parkpulse_broker_publish_throttled_seconds_total'),
    ).toBeGreaterThan(0);
    const log = platform.broker.tail(400);
    expect(log).toContain(`client ${FLOODER} throttled: publishing above ${RATE} msg/s`);
    expect(log).toMatch(
      new RegExp(`client ${FLOODER} disconnected: above ${RATE} msg/s for \\d+ s`),
    );
  });

  it('says so in its $SYS figures', async () => {
    await expect.poll(() => lastStats['limitDisconnects'], { timeout: 5_000 }).toBe(1);
    expect(lastStats).toMatchObject({
      publishThrottled: 1,
      clientsThrottled: 0,
      limits: { disconnected: { publish_rate: 1 } },
    });
  });

  it('stores every message of the other devices, and what the flooder got acknowledged', async () => {
    for (let d = 0; d < DEVICES; d++) {
      expect(normalAcked.get(`agv-calm-${d}`)).toBe(PER_DEVICE);
      await platform.waitForCount('agv', 'seq', PER_DEVICE, `"device" = 'agv-calm-${d}'`);
    }
    // At least once: every acknowledged message is stored; a few more may be (the broker had
    // read them when it closed the connection, the PUBACK was lost with it).
    await expect
      .poll(() => platform.count('agv', 'seq', `"device" = '${FLOODER}'`), { timeout: 20_000 })
      .toBeGreaterThanOrEqual(flood.acked);
    // …but never more than the token bucket let through: after the cut, what the client had
    // sent and the broker had not read yet goes nowhere.
    const seconds = (flood.closedAt - flood.connectedAt) / 1000;
    const stored = await platform.count('agv', 'seq', `"device" = '${FLOODER}'`);
    expect(stored).toBeLessThanOrEqual(BURST + Math.ceil(RATE * seconds) + 1);
  });
});
