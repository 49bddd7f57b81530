import { startInfluxd, startRedis, waitFor, type InfluxdHandle } from '@parkpulse/dev-services';
import { DEFAULT_INFLUX_CONFIG, InfluxStore } from '@parkpulse/influx';
import { afterEach, describe, expect, it } from 'vitest';
import {
  brokerNode,
  durableFleet,
  ingestionNode,
  lostAcknowledged,
  sleep,
  snapshot,
  storedSeqs,
  type BrokerNode,
  type DurableFleet,
  type IngestionNode,
} from './support/cluster.js';
import { startHaproxy } from './support/haproxy.js';

/**
 * A PUBACK means stored: whatever crashes, every message a device had acknowledged is in
 * InfluxDB, and once the devices have resent what was not, every message is — each once.
 */

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function influxdb(): Promise<{ influx: InfluxdHandle; store: (db?: string) => InfluxStore }> {
  const influx = await startInfluxd();
  const stores: InfluxStore[] = [];
  cleanups.push(async () => {
    for (const s of stores) s.close();
    await influx.stop();
  });
  return {
    influx,
    store: (database = 'telemetry') => {
      const s = new InfluxStore({ ...DEFAULT_INFLUX_CONFIG, url: influx.url, database });
      stores.push(s);
      return s;
    },
  };
}

function own(node: BrokerNode | IngestionNode): void {
  cleanups.push(async () => {
    await node.process.stop('SIGKILL');
    if ('cleanUp' in node) node.cleanUp();
  });
}

function ownFleet(fleet: DurableFleet): void {
  cleanups.push(() => fleet.close());
}

async function ackedAtLeast(fleet: DurableFleet, n: number): Promise<void> {
  await waitFor(`${n} acknowledged`, () => Promise.resolve(fleet.ackedCount() >= n), 60_000, 20);
}

/** Every device has exactly 1..perDevice stored, once each. */
async function expectAllStoredOnce(
  store: InfluxStore,
  site: string,
  devices: number,
  perDevice: number,
): Promise<void> {
  let stored = new Map<string, number[]>();
  const total = () => [...stored.values()].reduce((n, s) => n + s.length, 0);
  await waitFor(
    `${devices * perDevice} stored`,
    async () => {
      stored = await storedSeqs(store, site);
      return total() >= devices * perDevice;
    },
    60_000,
    250,
  ).catch(() => undefined);
  expect(stored.size).toBe(devices);
  for (const [device, seqs] of stored) {
    expect(seqs.length, device).toBe(perDevice);
    expect(new Set(seqs).size, device).toBe(perDevice);
  }
}

describe('the delivery guarantee under crashes', () => {
  it('broker kill -9 mid-stream (memory persistence): nothing acknowledged is lost, then everything is stored once', async () => {
    const { influx, store } = await influxdb();
    const broker = await brokerNode('crash');
    own(broker);
    const ingestion = await ingestionNode('a', broker.linkPort, influx.url);
    own(ingestion);
    const fleet = await durableFleet({
      urls: [`mqtt://127.0.0.1:${broker.mqttPort}`],
      prefix: 'bk',
      site: 'broker-kill',
      devices: 50,
      perDevice: 400,
      ratePerDevice: 40,
    });
    ownFleet(fleet);
    await ackedAtLeast(fleet, 6_000);
    await broker.process.stop('SIGKILL');
    const acknowledged = snapshot(fleet.acked);
    await sleep(1000);
    await broker.process.start();
    await fleet.done;
    const db = store();
    await expectAllStoredOnce(db, 'broker-kill', 50, 400);
    expect(lostAcknowledged(acknowledged, await storedSeqs(db, 'broker-kill'))).toEqual([]);
  });

  it('broker kill -9 while the ingestion is away: devices get no PUBACK meanwhile, so nothing acknowledged is lost', async () => {
    const { influx, store } = await influxdb();
    const broker = await brokerNode('away');
    own(broker);
    const ingestion = await ingestionNode('a', broker.linkPort, influx.url);
    own(ingestion);
    const fleet = await durableFleet({
      urls: [`mqtt://127.0.0.1:${broker.mqttPort}`],
      prefix: 'aw',
      site: 'ingestion-away',
      devices: 50,
      perDevice: 400,
      ratePerDevice: 25,
    });
    ownFleet(fleet);
    for (let round = 0; round < 2; round++) {
      await ackedAtLeast(fleet, 2_000 + round * 5_000);
      // A rolling upgrade of the ingestion, and the broker crashes while it is away.
      await ingestion.process.stop('SIGKILL');
      const ackedWhenItLeft = fleet.ackedCount();
      await sleep(2000);
      // Whatever the devices sent meanwhile is held in the broker, unacknowledged.
      expect(fleet.ackedCount() - ackedWhenItLeft).toBeLessThan(50 * 3);
      await broker.process.stop('SIGKILL');
      const acknowledged = snapshot(fleet.acked);
      await sleep(500);
      await broker.process.start();
      await ingestion.process.start();
      const db = store();
      await waitFor(
        'acknowledged messages stored',
        async () =>
          lostAcknowledged(acknowledged, await storedSeqs(db, 'ingestion-away')).length === 0,
        30_000,
        250,
      ).catch(() => undefined);
      expect(lostAcknowledged(acknowledged, await storedSeqs(db, 'ingestion-away'))).toEqual([]);
    }
    await fleet.done;
    await expectAllStoredOnce(store(), 'ingestion-away', 50, 400);
  });

  it('Redis persistence: broker kill -9 and redis-server kill -9 under load lose nothing acknowledged', async () => {
    const { influx, store } = await influxdb();
    let redis = await startRedis();
    const { port: redisPort, dataDir } = redis;
    cleanups.push(() => redis.stop('SIGKILL'));
    const broker = await brokerNode('redis', {
      BROKER_PERSISTENCE: 'redis',
      REDIS_URL: redis.url,
    });
    own(broker);
    const ingestion = await ingestionNode('a', broker.linkPort, influx.url);
    own(ingestion);
    const fleet = await durableFleet({
      urls: [`mqtt://127.0.0.1:${broker.mqttPort}`],
      prefix: 'rd',
      site: 'redis-kill',
      devices: 50,
      perDevice: 400,
      ratePerDevice: 25,
    });
    ownFleet(fleet);
    await ackedAtLeast(fleet, 3_000);
    await broker.process.stop('SIGKILL');
    const beforeBrokerKill = snapshot(fleet.acked);
    await sleep(500);
    await broker.process.start();
    await ackedAtLeast(fleet, 9_000);
    await redis.stop('SIGKILL');
    await sleep(1000);
    redis = await startRedis({ port: redisPort, dataDir });
    await fleet.done;
    const db = store();
    await expectAllStoredOnce(db, 'redis-kill', 50, 400);
    expect(lostAcknowledged(beforeBrokerKill, await storedSeqs(db, 'redis-kill'))).toEqual([]);
  });
});

describe('scale-out', () => {
  it('two ingestion instances on one broker: each device is stored by exactly one; one killed, its devices move', async () => {
    const { influx, store } = await influxdb();
    const broker = await brokerNode('two');
    own(broker);
    // Each instance writes to a database of its own, so that who stored what can be seen.
    const a = await ingestionNode('a', broker.linkPort, influx.url, 'telemetry_a');
    own(a);
    const b = await ingestionNode('b', broker.linkPort, influx.url, 'telemetry_b');
    own(b);
    await waitFor(
      'both instances attached',
      async () =>
        (
          (await (await fetch(`http://127.0.0.1:${broker.httpPort}/health`)).json()) as {
            ingestLinks: number;
          }
        ).ingestLinks === 2,
      10_000,
      100,
    );
    const site = 'two-instances';
    const first = await durableFleet({
      urls: [`mqtt://127.0.0.1:${broker.mqttPort}`],
      prefix: 'tw',
      site,
      devices: 40,
      perDevice: 100,
      ratePerDevice: 50,
    });
    await first.done;
    await first.close();
    const [dbA, dbB] = [store('telemetry_a'), store('telemetry_b')];
    let inA = new Map<string, number[]>();
    let inB = new Map<string, number[]>();
    await waitFor(
      '4,000 stored',
      async () => {
        [inA, inB] = [await storedSeqs(dbA, site), await storedSeqs(dbB, site)];
        const n = [...inA.values(), ...inB.values()].reduce((t, s) => t + s.length, 0);
        return n >= 4_000;
      },
      30_000,
      250,
    );
    for (let i = 1; i <= 40; i++) {
      const id = `tw-${i}`;
      const where = [inA.has(id), inB.has(id)].filter(Boolean).length;
      expect(where, id).toBe(1);
      expect((inA.get(id) ?? inB.get(id))!.length, id).toBe(100);
    }
    expect(inA.size).toBeGreaterThan(0);
    expect(inB.size).toBeGreaterThan(0);

    // Instance a crashes: its devices' messages go to b from now on.
    await a.process.stop('SIGKILL');
    const second = await durableFleet({
      urls: [`mqtt://127.0.0.1:${broker.mqttPort}`],
      prefix: 'tw',
      site: `${site}-after`,
      devices: 40,
      perDevice: 100,
      ratePerDevice: 50,
    });
    ownFleet(second);
    await second.done;
    await expectAllStoredOnce(dbB, `${site}-after`, 40, 100);
  });

  it('two broker nodes behind HAProxy sharing Redis: one killed -9, its devices reconnect to the other, nothing acknowledged lost', async () => {
    const { influx, store } = await influxdb();
    const redis = await startRedis();
    cleanups.push(() => redis.stop('SIGKILL'));
    const shared = { BROKER_PERSISTENCE: 'redis', REDIS_URL: redis.url };
    const b1 = await brokerNode('node-1', shared);
    own(b1);
    const b2 = await brokerNode('node-2', shared);
    own(b2);
    // Each node hands its devices' telemetry to its own ingestion instance.
    own(await ingestionNode('n1', b1.linkPort, influx.url));
    own(await ingestionNode('n2', b2.linkPort, influx.url));
    const lb = await startHaproxy([b1.mqttPort, b2.mqttPort]);
    cleanups.push(() => lb.stop());
    const fleet = await durableFleet({
      urls: [`mqtt://127.0.0.1:${lb.port}`],
      prefix: 'lb',
      site: 'two-nodes',
      devices: 40,
      perDevice: 300,
      ratePerDevice: 25,
    });
    ownFleet(fleet);
    await ackedAtLeast(fleet, 3_000);
    await b1.process.stop('SIGKILL');
    const acknowledged = snapshot(fleet.acked);
    await fleet.done;
    const db = store();
    await expectAllStoredOnce(db, 'two-nodes', 40, 300);
    expect(lostAcknowledged(acknowledged, await storedSeqs(db, 'two-nodes'))).toEqual([]);
  });
});
