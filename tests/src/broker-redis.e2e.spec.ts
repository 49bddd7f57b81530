import {
  ServiceProcess,
  deviceCredentials,
  devSecretsEnv,
  freePort,
  redisCommand,
  retryOnPortClash,
  serviceCredentials,
  startRedis,
  type RedisHandle,
} from '@parkpulse/dev-services';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROKER_MAIN, ROOT, startPlatform, type Platform } from './support/platform.js';

const DEVICES = 5;
const PER_DEVICE = 300; // 1,500 queued: more than aedes-persistence-redis replays by default (1,001)
const QUEUE = 'outgoing:parkpulse-ingestion';

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

async function queued(redis: RedisHandle): Promise<number> {
  return Number((await redisCommand(redis.port, `LLEN ${QUEUE}`)).slice(1));
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

describe('broker on Redis: messages queued for a stopped ingestion survive broker restarts', () => {
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
    it(`stores every queued message exactly once after a ${signal} of the broker`, async () => {
      const site = `redis-${signal.toLowerCase()}`;
      await platform.ingestion.stop('SIGTERM'); // its persistent session stays in the broker
      await publish(platform.mqttUrl, site, DEVICES, PER_DEVICE);
      // Acknowledged to the devices is not yet queued: wait for the queue in Redis.
      await until(
        `${DEVICES * PER_DEVICE} queued`,
        async () => (await queued(redis)) >= DEVICES * PER_DEVICE,
      );
      expect(await queued(redis)).toBe(DEVICES * PER_DEVICE);

      await platform.broker.stop(signal);
      await platform.broker.start();
      // The session survived, so devices are let in at once (no startup gate) and queue more.
      expect(platform.broker.tail(200)).toMatch(/session of parkpulse-ingestion kept in redis/);
      await publish(platform.mqttUrl, site, DEVICES, 50, PER_DEVICE + 1);
      const total = PER_DEVICE + 50;
      await until('all queued', async () => (await queued(redis)) >= DEVICES * total);

      await platform.ingestion.start();
      await platform.waitForCount('cnc_machine', 'seq', DEVICES * total, `"site" = '${site}'`);
      expect(await stored(platform, site)).toEqual(everyDevice(site, total));
      await until('queue acknowledged', async () => (await queued(redis)) === 0);
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

  it('scales out: a device on a second broker node reaches the ingestion on the first', async () => {
    const second = await retryOnPortClash(async () => {
      const [mqttPort, wsPort, httpPort] = [await freePort(), await freePort(), await freePort()];
      const node = new ServiceProcess(
        'broker-2',
        BROKER_MAIN,
        {
          ...devSecretsEnv(ROOT),
          BROKER_ID: 'e2e-2',
          MQTT_HOST: '127.0.0.1',
          MQTT_PORT: String(mqttPort),
          MQTT_WS_PORT: String(wsPort),
          HTTP_PORT: String(httpPort),
          BROKER_PERSISTENCE: 'redis',
          REDIS_URL: redis.url,
          STATS_INTERVAL_MS: '0',
        },
        `http://127.0.0.1:${httpPort}/health`,
      );
      await node.start();
      return { node, url: `mqtt://127.0.0.1:${mqttPort}` };
    });
    try {
      const observer = await connected(
        platform.mqttUrl,
        serviceCredentials('parkpulse-observer', 'node-1'),
      );
      const seen: string[] = [];
      observer.on('message', (topic) => seen.push(topic));
      await observer.subscribeAsync('parks/science-city/redis-scale/#', { qos: 1 });
      await publish(second.url, 'redis-scale', DEVICES, 100);
      await platform.waitForCount('cnc_machine', 'seq', DEVICES * 100, `"site" = 'redis-scale'`);
      expect(await stored(platform, 'redis-scale')).toEqual(everyDevice('redis-scale', 100));
      await until('the observer on node 1', () => Promise.resolve(seen.length === DEVICES * 100));
      observer.end(true);
    } finally {
      await second.node.stop();
    }
  });
});

describe('contrast: the in-memory broker loses what it queued when it restarts', () => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await startPlatform({
      brokerEnv: { STATS_INTERVAL_MS: '0', STARTUP_GATE_MS: '2000' },
      ingestionEnv: ingestionEnv(),
    });
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('stores nothing of what was queued for the stopped ingestion', async () => {
    const site = 'memory-restart';
    await platform.ingestion.stop('SIGTERM');
    await publish(platform.mqttUrl, site, DEVICES, 20);
    await platform.broker.stop('SIGTERM');
    await platform.broker.start();
    await platform.ingestion.start();
    // A marker published now is stored: whatever was queued before the restart would be by then.
    await publish(platform.mqttUrl, `${site}-after`, 1, 1);
    await platform.waitForCount('cnc_machine', 'seq', 1, `"site" = '${site}-after'`);
    expect(await stored(platform, site)).toEqual({});
  });
});
