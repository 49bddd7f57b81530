import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { deviceCredentials, serviceCredentials } from '@parkpulse/dev-services';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempSpoolDir, waitForMetric } from './support/fault-fleet.js';
import { startPlatform, type Platform } from './support/platform.js';

const run = promisify(execFile);

const DEVICE = 'cnc-dead-letter';
const TOPIC = `parks/science-city/gz-auto-parts/cnc_machine/${DEVICE}/telemetry`;
const DEAD_LETTER_TOPIC = `$parkpulse/dead-letters/${TOPIC}`;

/**
 * A rejected message is stored as `ingest_reject` and also published on
 * `$parkpulse/dead-letters/{original topic}`, where an observer account can watch it.
 */
describe('dead letters on MQTT', () => {
  let platform: Platform;
  let spool: Awaited<ReturnType<typeof tempSpoolDir>>;
  let observer: MqttClient;
  let device: MqttClient;
  const received: { topic: string; message: Record<string, unknown> }[] = [];
  let mosquittoSub: Promise<{ stdout: string }>;
  const sentAt = Date.now();

  beforeAll(async () => {
    spool = await tempSpoolDir();
    platform = await startPlatform({ ingestionEnv: { SPOOL_DIR: spool.dir } });
    observer = await mqtt.connectAsync(platform.mqttUrl, {
      ...serviceCredentials('parkpulse-observer', 'e2e-dead-letters'),
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    observer.on('message', (topic, payload) =>
      received.push({ topic, message: JSON.parse(payload.toString()) as Record<string, unknown> }),
    );
    const granted = await observer.subscribeAsync('$parkpulse/dead-letters/#', { qos: 1 });
    expect(granted[0]?.qos).toBe(1); // not 128: an observer may read dead letters
    // The documented command (docs/telemetry-contract.md, "Watching your rejects").
    const sub = serviceCredentials('parkpulse-observer', 'rejects');
    mosquittoSub = run('mosquitto_sub', [
      ...['-h', '127.0.0.1', '-p', String(platform.mqttPort)],
      ...['-i', sub.clientId, '-u', sub.username, '-P', sub.password],
      ...['-t', '$parkpulse/dead-letters/#', '-v', '-C', '2', '-W', '30'],
    ]);
    await new Promise((r) => setTimeout(r, 500)); // mosquitto_sub subscribed
    device = await mqtt.connectAsync(platform.mqttUrl, {
      ...deviceCredentials(DEVICE),
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    await device.publishAsync(TOPIC, 'spindle_rpm=11850', { qos: 1 });
    await device.publishAsync(
      TOPIC,
      JSON.stringify({ ts: sentAt, seq: 1, metrics: { spindle_rpm: 1 } }),
      {
        qos: 1,
      },
    );
    await device.publishAsync(TOPIC, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { qos: 1 });
  });

  afterAll(async () => {
    await device?.endAsync();
    await observer?.endAsync();
    await platform?.stop();
    await spool?.remove();
  });

  it('an observer receives each dead letter with its reason, topic, time and payload', async () => {
    await waitForMetric(
      platform.ingestionHttp,
      'parkpulse_ingest_dead_letters_published_total',
      (v) => v >= 2,
    );
    await expect.poll(() => received.filter((r) => r.topic === DEAD_LETTER_TOPIC).length).toBe(2);
    const letters = received.filter((r) => r.topic === DEAD_LETTER_TOPIC).map((r) => r.message);
    expect(letters[0]).toMatchObject({
      reason: 'payload_not_json',
      topic: TOPIC,
      payloadBytes: 17,
      payloadEncoding: 'utf8',
      payload: 'spindle_rpm=11850',
      payloadTruncated: false,
    });
    expect(letters[1]).toMatchObject({
      reason: 'payload_not_utf8',
      topic: TOPIC,
      payloadEncoding: 'base64',
      payload: 'e//+fQ==',
    });
    for (const letter of letters) {
      expect(letter['detail']).toEqual(expect.any(String));
      expect(letter['receivedAtMs']).toBeGreaterThanOrEqual(sentAt);
      expect(Date.parse(String(letter['receivedAt']))).toBe(letter['receivedAtMs']);
    }
  });

  it('the valid message between them is stored, and is no dead letter', async () => {
    await platform.waitForCount('cnc_machine', 'seq', 1, `"device" = '${DEVICE}'`);
    expect(received.filter((r) => r.topic === DEAD_LETTER_TOPIC)).toHaveLength(2);
  });

  it('keeps the ingest_reject record of each', async () => {
    await platform.waitForCount('ingest_reject', 'topic', 2, `"device" = '${DEVICE}'`);
  });

  it('mosquitto_sub with an observer account shows them as documented', async () => {
    const { stdout } = await mosquittoSub;
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]!.startsWith(`${DEAD_LETTER_TOPIC} {`)).toBe(true);
    expect(JSON.parse(lines[0]!.slice(DEAD_LETTER_TOPIC.length + 1))).toMatchObject({
      reason: 'payload_not_json',
    });
  });
});
