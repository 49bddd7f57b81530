import { connect as tcpConnect, type Socket } from 'node:net';
import { deviceCredentials } from '@parkpulse/dev-services';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawMqttClient, httpBase, metricSamples, sleep } from './support/raw-mqtt.js';
import { metricValue, startPlatform, type Platform } from './support/platform.js';

const MAX_CONNECTIONS = 30;
const PER_ADDRESS = 20;
const DEVICES = 10;
/** The attacker's sockets: silent ones and ones that send half a CONNECT, kept open, reopened. */
const SILENT = 2 * MAX_CONNECTIONS;
const HALF = MAX_CONNECTIONS;

/** A CONNECT cut in the middle: a client that starts and never finishes. */
const HALF_CONNECT = mqttPacket
  .generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clientId: 'x'.repeat(40),
    clean: true,
    keepalive: 60,
  })
  .subarray(0, 20);

/**
 * One address holds more sockets than MAX_CONNECTIONS before CONNECT — silent, or stopping half
 * way through a CONNECT — reopening each as the broker closes it. They wait outside
 * MAX_CONNECTIONS, at most MAX_CONNECTING_PER_ADDRESS of them from that address, each for at most
 * CONNECTING_TIMEOUT_MS; devices from another address (127.0.0.2) connect at their first attempt
 * or their first retry.
 */
describe('connection slots under a flood of sockets that never finish CONNECT', () => {
  let platform: Platform;
  let broker: string;
  let attacking = true;
  const open = new Set<Socket>();
  let attack: Promise<void>;
  const attempts: number[] = [];
  let connectingSeen = 0;

  function holdSocket(half: boolean): Promise<void> {
    return new Promise((resolve) => {
      const socket = tcpConnect({ host: '127.0.0.1', port: platform.mqttPort });
      open.add(socket);
      socket.on('error', () => undefined);
      if (half) socket.once('connect', () => socket.write(HALF_CONNECT));
      socket.once('close', () => {
        open.delete(socket);
        resolve();
      });
    });
  }

  /** Keeps `count` sockets of a kind open until the attack stops (a short pause between reopens). */
  async function keep(count: number, half: boolean): Promise<void> {
    await Promise.all(
      Array.from({ length: count }, async () => {
        while (attacking) {
          await holdSocket(half);
          await sleep(200);
        }
      }),
    );
  }

  beforeAll(async () => {
    platform = await startPlatform({
      brokerEnv: {
        MAX_CONNECTIONS: String(MAX_CONNECTIONS),
        MAX_CONNECTING_PER_ADDRESS: String(PER_ADDRESS),
        CONNECTING_TIMEOUT_MS: '2000',
      },
    });
    broker = httpBase(platform.broker.healthUrl);
    attack = Promise.all([keep(SILENT, false), keep(HALF, true)]).then(() => undefined);
    await sleep(3000); // the flood is at its height, and the first sockets have timed out
    connectingSeen = await metricValue(broker, 'parkpulse_broker_connecting');
    const clients = await Promise.all(
      Array.from({ length: DEVICES }, async (_, i) => {
        const id = `cnc-flood-${i + 1}`;
        for (let attempt = 1; attempt <= 2; attempt++) {
          try {
            const client = await RawMqttClient.connect({
              port: platform.mqttPort,
              ...deviceCredentials(id),
              localAddress: '127.0.0.2',
            });
            attempts.push(attempt);
            return client;
          } catch {
            await sleep(1000); // a device's first retry
          }
        }
        attempts.push(Number.NaN);
        return undefined;
      }),
    );
    for (const c of clients) c?.destroy();
  });

  afterAll(async () => {
    attacking = false;
    for (const s of open) s.destroy();
    await attack;
    await platform?.stop();
  });

  it('lets every device from the other address in at its first attempt or first retry', () => {
    expect(attempts).toHaveLength(DEVICES);
    for (const a of attempts) expect(a).toBeLessThanOrEqual(2);
  });

  it('holds at most MAX_CONNECTING_PER_ADDRESS of the flooding sockets, and counts the rest', async () => {
    expect(connectingSeen).toBeGreaterThan(0);
    expect(connectingSeen).toBeLessThanOrEqual(PER_ADDRESS);
    const refused = await metricSamples(broker, 'parkpulse_broker_limit_refusals_total');
    expect(refused['{limit="max_connecting_per_address"}']).toBeGreaterThan(0);
    expect(refused['{limit="max_connections"}'] ?? 0).toBe(0);
    const disconnects = await metricSamples(broker, 'parkpulse_broker_limit_disconnects_total');
    expect(disconnects['{limit="connect_timeout"}']).toBeGreaterThanOrEqual(PER_ADDRESS);
    expect(platform.broker.tail(300)).toContain(
      `connection from 127.0.0.1 closed: ${PER_ADDRESS} connections from it not authenticated yet (MAX_CONNECTING_PER_ADDRESS)`,
    );
  });
});
