import { deviceCredentials, serviceCredentials } from '@parkpulse/dev-services';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latestLedgerRows, sleep } from './support/fault-fleet.js';
import { startPlatform, type Platform } from './support/platform.js';

const SITE = 'clock-back';
const DEVICE = 'cnc-clock-1';
const TOPIC = `parks/science-city/${SITE}/cnc_machine/${DEVICE}/telemetry`;
/** Seconds-aligned, two hours ago: one sample a second, so that seq 3,630 is an hour later. */
const T0 = Math.floor((Date.now() - 2 * 3600_000) / 1000) * 1000;
const tsOf = (seq: number) => T0 + seq * 1000;
const sample = (seq: number, ts = tsOf(seq)) => ({
  ts,
  seq,
  metrics: { spindle_rpm: 10_000 + seq },
});

/**
 * A device's clock steps back one hour: seq 3631–3730 carry the timestamps of seq 31–130. Stored,
 * they would overwrite those samples in InfluxDB (one point per series and time) without a trace.
 * The contract: such samples are refused as `clock_regression` dead letters, counted in the
 * ledger; what was stored before stays as it was.
 */
describe('a device whose clock steps back onto timestamps it used', () => {
  let platform: Platform;
  let device: MqttClient;
  let observer: MqttClient;
  const deadLetters: Record<string, unknown>[] = [];

  beforeAll(async () => {
    platform = await startPlatform({ ingestionEnv: { PLATFORM_STATS_INTERVAL_MS: '500' } });
    observer = await mqtt.connectAsync(platform.mqttUrl, {
      ...serviceCredentials('parkpulse-observer', 'e2e-clock'),
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    observer.on('message', (_topic, payload) =>
      deadLetters.push(JSON.parse(payload.toString()) as Record<string, unknown>),
    );
    await observer.subscribeAsync(`$parkpulse/dead-letters/${TOPIC}`, { qos: 1 });
    device = await mqtt.connectAsync(platform.mqttUrl, {
      ...deviceCredentials(DEVICE),
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    // An hour of samples (uploaded as batches), then the clock goes back an hour, live.
    for (let first = 1; first <= 3630; first += 500) {
      const seqs = Array.from({ length: Math.min(500, 3631 - first) }, (_, i) => first + i);
      await device.publishAsync(TOPIC, JSON.stringify({ samples: seqs.map((s) => sample(s)) }), {
        qos: 1,
      });
    }
    for (let seq = 3631; seq <= 3730; seq++)
      await device.publishAsync(TOPIC, JSON.stringify(sample(seq, tsOf(seq - 3600))), { qos: 1 });
    // The clock is set right again: the next sample is newer than everything.
    await device.publishAsync(TOPIC, JSON.stringify(sample(3731)), { qos: 1 });
  });

  afterAll(async () => {
    await device?.endAsync();
    await observer?.endAsync();
    await platform?.stop();
  });

  it('keeps the samples stored first: nothing overwritten', async () => {
    await platform.waitForCount('cnc_machine', 'seq', 3631, `"device" = '${DEVICE}'`);
    const [series = []] = await platform.store.query(
      `SELECT "seq", "spindle_rpm" FROM "cnc_machine" WHERE "device" = '${DEVICE}' AND time >= ${tsOf(31)}ms AND time <= ${tsOf(130)}ms`,
    );
    const rows = series[0]?.values ?? [];
    expect(rows.map((r) => r[1])).toEqual(Array.from({ length: 100 }, (_, i) => 31 + i));
    expect(rows.map((r) => r[2])).toEqual(Array.from({ length: 100 }, (_, i) => 10_031 + i));
    const [max = []] = await platform.store.query(
      `SELECT MAX("seq") FROM "cnc_machine" WHERE "device" = '${DEVICE}'`,
    );
    expect(max[0]?.values[0]?.[1]).toBe(3731);
  });

  it('records each refused sample as a clock_regression reject', async () => {
    await platform.waitForCount(
      'ingest_reject',
      'topic',
      100,
      `"reason" = 'clock_regression' AND "device" = '${DEVICE}'`,
    );
    const [series = []] = await platform.store.query(
      `SELECT "detail" FROM "ingest_reject" WHERE "reason" = 'clock_regression' AND "device" = '${DEVICE}' LIMIT 1`,
    );
    expect(String(series[0]?.values[0]?.[1])).toMatch(
      /^seq 3631 at \S+ is inside the time the device's earlier samples cover \(its newest: seq 3630 at \S+\): the device clock went back; not stored$/,
    );
  });

  it('tells the device: a dead letter per refused message', async () => {
    for (let i = 0; i < 50 && deadLetters.length < 100; i++) await sleep(100);
    expect(deadLetters).toHaveLength(100);
    expect(deadLetters[0]).toMatchObject({ reason: 'clock_regression', topic: TOPIC });
  });

  it('counts them in the ledger, which shows nothing missing or reset', async () => {
    let row: Record<string, number> | undefined;
    for (let i = 0; i < 100; i++) {
      row = (await latestLedgerRows(platform.store, SITE)).get(DEVICE);
      if (row?.['last_seq'] === 3731 && row['clock_regressions'] === 100) break;
      await sleep(200);
    }
    expect(row).toMatchObject({
      clock_regressions: 100,
      last_seq: 3731,
      expected: 3731,
      missing: 0,
      resets: 0,
      received: 3631,
    });
  });
});
