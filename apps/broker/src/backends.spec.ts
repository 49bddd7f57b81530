import { createServer, type AddressInfo, type Socket } from 'node:net';
import { startRedis, redisCommand, type RedisHandle } from '@parkpulse/dev-services';
import { ConfigError } from '@parkpulse/config';
import { Aedes } from 'aedes';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEMORY_BACKENDS, createBackends, type BackendConfig, type Backends } from './backends.js';
import { loadConfig } from './config.js';
import { willsAfterPublishes } from './will-order.js';

interface Node {
  readonly url: string;
  readonly aedes: Aedes;
  readonly backends: Backends;
  close(): Promise<void>;
}

/** Aedes on the chosen backends over TCP, as the broker builds it (no listeners but MQTT). */
async function startNode(id: string, config: BackendConfig): Promise<Node> {
  const backends = await createBackends(config);
  const aedes = await Aedes.createBroker(
    willsAfterPublishes({ id, persistence: backends.persistence, mq: backends.mq }),
  );
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    aedes,
    backends,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => aedes.close(() => r()));
      await backends.close();
    },
  };
}

async function client(url: string, options: IClientOptions): Promise<MqttClient> {
  const c = mqtt.connect(url, { reconnectPeriod: 0, ...options });
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  return c;
}

/** Messages a client receives, as `topic=payload`. */
function collect(c: MqttClient): string[] {
  const seen: string[] = [];
  c.on('message', (topic, payload) => seen.push(`${topic}=${payload.toString()}`));
  return seen;
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const TOPIC = 'parks/science-city/f1/cnc_machine';
const INGEST = { clientId: 'ingest-1', clean: false } as const;

describe('backend config', () => {
  it('is memory by default, Redis when asked', () => {
    expect(loadConfig({}).backends).toMatchObject({ persistence: 'memory' });
    expect(
      loadConfig({
        BROKER_PERSISTENCE: 'redis',
        REDIS_URL: 'redis://cache:6380/2',
        REDIS_PASSWORD: 'pw',
      }).backends,
    ).toMatchObject({
      persistence: 'redis',
      redisUrl: 'redis://cache:6380/2',
      redisPassword: 'pw',
      redisMaxSessionDelivery: 1_000_000,
    });
  });

  it('refuses a password in REDIS_URL and an unknown persistence, and never logs the password', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis://:secret@cache:6379' })).toThrow(/REDIS_PASSWORD/);
    expect(() => loadConfig({ BROKER_PERSISTENCE: 'mongo' })).toThrow(ConfigError);
    const logged = JSON.stringify(loadConfig({ REDIS_PASSWORD: 'hunter2' }));
    expect(logged).not.toContain('hunter2');
    expect(logged).toContain('"redisPassword":"***"');
  });

  it('fails a start at once, naming the URL, when Redis does not answer', async () => {
    const started = Date.now();
    await expect(
      createBackends({
        ...MEMORY_BACKENDS,
        persistence: 'redis',
        redisUrl: 'redis://127.0.0.1:1',
        redisConnectTimeoutMs: 2000,
      }),
    ).rejects.toThrow(/Redis at redis:\/\/127\.0\.0\.1:1 did not answer/);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('Redis persistence (a real redis-server)', () => {
  let redis: RedisHandle;
  let config: BackendConfig;

  beforeAll(async () => {
    redis = await startRedis();
    config = { ...MEMORY_BACKENDS, persistence: 'redis', redisUrl: redis.url };
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('keeps sessions, subscriptions, retained and queued QoS-1 messages through a restart', async () => {
    let node = await startNode('n1', config);
    const ingest = await client(node.url, INGEST);
    await ingest.subscribeAsync(`${TOPIC}/#`, { qos: 1 });
    ingest.end(true);
    const device = await client(node.url, { clientId: 'cnc-1' });
    for (let i = 0; i < 50; i++)
      await device.publishAsync(`${TOPIC}/cnc-1/telemetry`, `m${i}`, { qos: 1 });
    await device.publishAsync(`${TOPIC}/cnc-1/status`, 'online', { qos: 1, retain: true });
    device.end(true);
    await until(
      '51 queued in Redis',
      async () => (await redisCommand(redis.port, 'LLEN outgoing:ingest-1')) === ':51',
    );
    await node.close();

    node = await startNode('n1', config);
    try {
      expect(await node.backends.storedSessions(['ingest-1', 'nobody'])).toEqual(['ingest-1']);
      const back = mqtt.connect(node.url, { ...INGEST, reconnectPeriod: 0 });
      const seen = collect(back);
      const connack = await new Promise<boolean>((r) =>
        back.once('connect', (p) => r(p.sessionPresent)),
      );
      expect(connack).toBe(true);
      await until('51 redelivered', () => seen.length >= 51);
      expect(seen).toEqual([
        ...Array.from({ length: 50 }, (_, i) => `${TOPIC}/cnc-1/telemetry=m${i}`),
        `${TOPIC}/cnc-1/status=online`,
      ]);
      // Acknowledged: the queue is empty, and nothing comes again on the next connect.
      await until(
        'queue drained',
        async () => (await redisCommand(redis.port, 'LLEN outgoing:ingest-1')) === ':0',
      );
      back.end(true);

      const observer = await client(node.url, { clientId: 'obs-1' });
      const retained = collect(observer);
      await observer.subscribeAsync(`${TOPIC}/+/status`, { qos: 1 });
      await until('the retained status', () => retained.length === 1);
      expect(retained).toEqual([`${TOPIC}/cnc-1/status=online`]);
      observer.end(true);
      await ingestCleanUp(node);
    } finally {
      await node.close();
    }
  });

  it('acknowledges a persistent session’s SUBSCRIBE with several filters', async () => {
    const node = await startNode('n-multi', config);
    try {
      const ingest = await client(node.url, { clientId: 'ingest-multi', clean: false });
      const granted = await Promise.race([
        ingest.subscribeAsync([`${TOPIC}/#`, '$SYS/parkpulse/brokers/+/stats', 'parks/yuzhu/#'], {
          qos: 1,
        }),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('no SUBACK within 2 s')), 2000),
        ),
      ]);
      expect(granted.map((g) => g.qos)).toEqual([1, 1, 1]);
      expect(await redisCommand(redis.port, 'HLEN client:ingest-multi')).toBe(':3');
      ingest.end(true);
      const cleanUp = await client(node.url, { clientId: 'ingest-multi', clean: true });
      cleanUp.end(true);
    } finally {
      await node.close();
    }
  });

  it('delivers across two broker nodes on one Redis (scale-out)', async () => {
    const [a, b] = [await startNode('node-a', config), await startNode('node-b', config)];
    try {
      const observer = await client(b.url, { clientId: 'obs-b' });
      const seen = collect(observer);
      await observer.subscribeAsync(`${TOPIC}/+/telemetry`, { qos: 1 });
      const device = await client(a.url, { clientId: 'cnc-2' });
      for (let i = 0; i < 20; i++)
        await device.publishAsync(`${TOPIC}/cnc-2/telemetry`, `x${i}`, { qos: 1 });
      await until('20 on node b', () => seen.length >= 20);
      expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => `${TOPIC}/cnc-2/telemetry=x${i}`));
      device.end(true);
      observer.end(true);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('survives Redis going away: unhealthy meanwhile, healthy and delivering when it is back', async () => {
    const node = await startNode('n-outage', config);
    try {
      const observer = await client(node.url, { clientId: 'obs-2' });
      const seen = collect(observer);
      await observer.subscribeAsync(`${TOPIC}/+/event`, { qos: 1 });
      expect(node.backends.healthy()).toBe(true);
      await redis.stop('SIGKILL');
      await until('unhealthy', () => !node.backends.healthy());
      await new Promise((r) => setTimeout(r, 500)); // a few failed reconnections: no crash
      redis = await startRedis({ port: redis.port, dataDir: redis.dataDir });
      await until('healthy again', () => node.backends.healthy(), 10_000);
      const device = await client(node.url, { clientId: 'cnc-3' });
      await device.publishAsync(`${TOPIC}/cnc-3/event`, 'after', { qos: 1 });
      await until('delivered', () => seen.length === 1);
      expect(seen).toEqual([`${TOPIC}/cnc-3/event=after`]);
      device.end(true);
      observer.end(true);
    } finally {
      await node.close();
    }
  });
});

describe('memory persistence', () => {
  it('starts empty after a restart: no session is kept (hence the startup gate)', async () => {
    let node = await startNode('m1', MEMORY_BACKENDS);
    const ingest = await client(node.url, INGEST);
    await ingest.subscribeAsync(`${TOPIC}/#`, { qos: 1 });
    ingest.end(true);
    expect(await node.backends.storedSessions(['ingest-1'])).toEqual(['ingest-1']);
    await node.close();
    node = await startNode('m1', MEMORY_BACKENDS);
    try {
      expect(await node.backends.storedSessions(['ingest-1'])).toEqual([]);
      expect(node.backends.healthy()).toBe(true);
    } finally {
      await node.close();
    }
  });
});

/** Ends the persistent session of the first test, so that the other tests start from none. */
async function ingestCleanUp(node: Node): Promise<void> {
  const c = await client(node.url, { clientId: 'ingest-1', clean: true });
  c.end(true);
}
