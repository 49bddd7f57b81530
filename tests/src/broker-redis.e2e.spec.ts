import {
  deviceCredentials,
  redisCommand,
  serviceCredentials,
  startRedis,
  type RedisHandle,
} from '@parkpulse/dev-services';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerNode, ingestionNode } from './support/cluster.js';
import { startPlatform, type Platform } from './support/platform.js';

const DEVICES = 5;

/** The ingestion's environment here: no periodic figures, a spool directory of its own. */
const ingestionEnv = () => ({
  PLATFORM_STATS_INTERVAL_MS: '0',
  SPOOL_DIR: mkdtempSync(join(tmpdir(), 'parkpulse-e2e-spool-')),
});

async function connected(url: string, options: mqtt.IClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

/**
 * `count` QoS-1 telemetry messages from each of `devices` (seq from `firstSeq`), all waited for
 * until acknowledged (PUBACK).
 */
async function publish(
  url: string,
  site: string,
  devices: number,
  count: number,
  firstSeq = 1,
): Promise<void> {
  const base = Date.now() - 60_000;
  await Promise.all(
    Array.from({ length: devices }, async (_, d) => {
      const id = `${site}-cnc-${d}`;
      const client = await connected(url, deviceCredentials(id));
      const topic = `parks/science-city/${site}/cnc_machine/${id}/telemetry`;
      const acks: Promise<unknown>[] = [];
      for (let seq = firstSeq; seq < firstSeq + count; seq++) {
        const payload = { ts: base + seq, seq, metrics: { spindle_rpm: 1000 + seq } };
        acks.push(client.publishAsync(topic, JSON.stringify(payload), { qos: 1 }));
      }
      await Promise.all(acks);
      client.end(true);
    }),
  );
}

/** QoS-1 messages Redis holds for a persistent session. */
async function queued(redis: RedisHandle, clientId: string): Promise<number> {
  return Number((await redisCommand(redis.port, `LLEN outgoing:${clientId}`)).slice(1));
}

async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** COUNT and COUNT DISTINCT of `seq` per device of a site. */
async function stored(platform: Platform, site: string): Promise<Record<string, number[]>> {
  const [series = []] = await platform.store.query(
    `SELECT COUNT("seq"), COUNT(DISTINCT("seq")) FROM "cnc_machine" WHERE "site" = '${site}' GROUP BY "device"`,
  );
  return Object.fromEntries(
    series.map((s) => [s.tags?.['device'] ?? '?', (s.values[0] ?? []).slice(1).map(Number)]),
  );
}

function everyDevice(site: string, n: number): Record<string, number[]> {
  return Object.fromEntries(
    Array.from({ length: DEVICES }, (_, d) => [`${site}-cnc-${d}`, [n, n]]),
  );
}

/**
 * With Redis persistence the broker keeps what is not telemetry on its way to storage — that is
 * stored before its PUBACK whatever the persistence (delivery-guarantee.e2e.spec.ts) — but the
 * sessions, retained messages and messages *to* devices, and several nodes form one broker.
 */
describe('broker on Redis: sessions, retained messages and cross-node routing survive', () => {
  let redis: RedisHandle;
  let platform: Platform;

  beforeAll(async () => {
    redis = await startRedis();
    platform = await startPlatform({
      brokerEnv: { BROKER_PERSISTENCE: 'redis', REDIS_URL: redis.url, STATS_INTERVAL_MS: '0' },
      ingestionEnv: ingestionEnv(),
    });
  });

  afterAll(async () => {
    await platform?.stop();
    await redis?.stop();
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`delivers commands queued for an offline device after a ${signal} of the broker`, async () => {
      const id = `redis-cmd-${signal.toLowerCase()}`;
      const cmdTopic = `parks/science-city/redis-cmd/street_light/${id}/cmd`;
      const login = { ...deviceCredentials(id), clean: false };
      const device = await connected(platform.mqttUrl, login);
      await device.subscribeAsync(cmdTopic, { qos: 1 });
      device.end(true);
      const operator = await connected(
        platform.mqttUrl,
        serviceCredentials('parkpulse-operations', signal.toLowerCase()),
      );
      for (let i = 1; i <= 5; i++)
        await operator.publishAsync(cmdTopic, JSON.stringify({ id: `c${i}` }), { qos: 1 });
      operator.end(true);
      // The operator's PUBACK comes before Aedes stores the message: wait until Redis has all 5.
      await until('5 queued', async () => (await queued(redis, id)) === 5);

      await platform.broker.stop(signal);
      await platform.broker.start();

      const received: string[] = [];
      const back = mqtt.connect(platform.mqttUrl, { ...login, reconnectPeriod: 0 });
      back.on('message', (_t, payload) => received.push(payload.toString()));
      await until('5 commands', () => Promise.resolve(received.length === 5));
      back.end(true);
      expect(received.map((r) => (JSON.parse(r) as { id: string }).id)).toEqual([
        'c1',
        'c2',
        'c3',
        'c4',
        'c5',
      ]);
    });
  }

  it('keeps retained messages through a restart', async () => {
    const id = 'redis-retained-cnc';
    const topic = `parks/science-city/redis-retained/cnc_machine/${id}/status`;
    const device = await connected(platform.mqttUrl, deviceCredentials(id));
    await device.publishAsync(topic, 'online', { qos: 1, retain: true });
    device.end(true);
    await platform.broker.stop('SIGTERM');
    await platform.broker.start();
    const observer = await connected(
      platform.mqttUrl,
      serviceCredentials('parkpulse-observer', 'retained'),
    );
    const retained = await new Promise<string>((resolve) => {
      observer.once('message', (_t, payload) => resolve(payload.toString()));
      void observer.subscribeAsync(topic, { qos: 1 });
    });
    observer.end(true);
    expect(retained).toBe('online');
  });

  it('scales out: a second node stores its devices through its own ingestion, and node 1 sees them', async () => {
    const second = await brokerNode('e2e-2', { BROKER_PERSISTENCE: 'redis', REDIS_URL: redis.url });
    const ingestion = await ingestionNode('node-2', second.linkPort, platform.influx.url);
    try {
      const observer = await connected(
        platform.mqttUrl,
        serviceCredentials('parkpulse-observer', 'node-1'),
      );
      const seen: string[] = [];
      observer.on('message', (topic) => seen.push(topic));
      await observer.subscribeAsync('parks/science-city/redis-scale/#', { qos: 1 });
      await publish(`mqtt://127.0.0.1:${second.mqttPort}`, 'redis-scale', DEVICES, 100);
      await platform.waitForCount('cnc_machine', 'seq', DEVICES * 100, `"site" = 'redis-scale'`);
      expect(await stored(platform, 'redis-scale')).toEqual(everyDevice('redis-scale', 100));
      await until('the observer on node 1', () => Promise.resolve(seen.length === DEVICES * 100));
      observer.end(true);
    } finally {
      await ingestion.process.stop();
      ingestion.cleanUp();
      await second.process.stop();
    }
  });
});
