import {
  ServiceProcess,
  deviceCredentials,
  retryOnPortClash,
  serviceCredentials,
} from '@parkpulse/dev-services';
import { LINK_TOPIC, LinkSession } from '@parkpulse/ingest-link';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerNode } from './support/cluster.js';

const DEVICE = 'will-cnc-1';
const STATUS = `parks/science-city/will-works/cnc_machine/${DEVICE}/status`;
const ROUNDS = 10;

async function connected(url: string, options: mqtt.IClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, ...options });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

// The broker runs in its own process, as in production: the race needs the device's FIN to
// reach the broker while the broker is between acknowledging `online` and publishing it.
describe('a last will never overtakes its client’s acknowledged status', () => {
  let broker: ServiceProcess;
  let link: LinkSession | undefined;
  let url: string;
  const rounds: string[][] = [];
  let retainedAfter: string | undefined;

  beforeAll(async () => {
    const node = await retryOnPortClash(() => brokerNode('e2e-will'));
    broker = node.process;
    url = `mqtt://127.0.0.1:${node.mqttPort}`;
    // The broker holds every device publish until it is stored: an ingestion instance that
    // acknowledges each batch at once stands in for the real one.
    link = new LinkSession(
      {
        url: `mqtt://127.0.0.1:${node.linkPort}`,
        ...serviceCredentials('parkpulse-ingestion', 'will'),
        keepaliveS: 30,
        subscriptions: [LINK_TOPIC],
      },
      { message: (batch) => batch.ack() },
    );
    await link.start();

    const observer = await connected(url, serviceCredentials('parkpulse-observer', 'will'));
    const seen: string[] = [];
    observer.on('message', (_topic, payload) => seen.push(payload.toString()));
    await observer.subscribeAsync(STATUS, { qos: 1 });

    // A device that comes online and dies, again and again: its `online` is acknowledged
    // (PUBACK) before its socket goes.
    for (let i = 0; i < ROUNDS; i++) {
      const start = seen.length;
      const device = await connected(url, {
        ...deviceCredentials(DEVICE),
        will: { topic: STATUS, payload: Buffer.from('offline'), qos: 1, retain: true },
      });
      await device.publishAsync(STATUS, 'online', { qos: 1, retain: true });
      device.stream.destroy();
      await new Promise((r) => setTimeout(r, 300));
      rounds.push(seen.slice(start));
    }
    observer.end(true);

    const late = await connected(url, serviceCredentials('parkpulse-observer', 'late'));
    retainedAfter = await new Promise<string>((resolve) => {
      late.once('message', (_topic, payload) => resolve(payload.toString()));
      void late.subscribeAsync(STATUS, { qos: 1 });
    });
    late.end(true);
  });

  afterAll(async () => {
    await link?.stop();
    await broker?.stop();
  });

  it('subscribers see online, then offline, in every round', () => {
    expect(rounds).toEqual(Array.from({ length: ROUNDS }, () => ['online', 'offline']));
  });

  it('the retained status left behind is offline', () => {
    expect(retainedAfter).toBe('offline');
  });
});
