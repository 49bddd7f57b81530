import { deviceCredentials } from '@parkpulse/dev-services';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from './support/platform.js';

const DEVICE = 'cnc-ledger-1';
const TOPIC = `parks/science-city/gz-auto-parts/cnc_machine/${DEVICE}/telemetry`;
const T0 = Date.now() - 60_000;
const sample = (seq: number) =>
  JSON.stringify({ ts: T0 + seq * 100, seq, metrics: { spindle_rpm: seq } });

describe('delivery ledger: a device that skips seq values shows exactly those gaps', () => {
  let platform: Platform;
  let device: MqttClient;

  /** The newest device_ledger row of the device once it shows `received`. */
  async function ledgerWhen(received: number): Promise<Record<string, number>> {
    let row: Record<string, number> = {};
    for (let i = 0; i < 100; i++) {
      const [series = []] = await platform.store.query(
        `SELECT * FROM "device_ledger" WHERE "device" = '${DEVICE}' ORDER BY time DESC LIMIT 1`,
      );
      const s = series[0];
      if (s) row = Object.fromEntries(s.columns.map((c, k) => [c, s.values[0]![k] as number]));
      if (row['received'] === received) return row;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`no ledger row with received = ${received}; last: ${JSON.stringify(row)}`);
  }

  beforeAll(async () => {
    platform = await startPlatform({ ingestionEnv: { PLATFORM_STATS_INTERVAL_MS: '500' } });
    device = await mqtt.connectAsync(platform.mqttUrl, deviceCredentials(DEVICE));
  });

  afterAll(async () => {
    await device?.endAsync();
    await platform?.stop();
  });

  it('counts the skipped values as missing, then a late arrival and a duplicate', async () => {
    const skipped = new Set([10, 11, 50]);
    for (let seq = 1; seq <= 100; seq++)
      if (!skipped.has(seq)) await device.publishAsync(TOPIC, sample(seq), { qos: 1 });
    const first = await ledgerWhen(97);
    expect(first).toMatchObject({
      missing: 3,
      expected: 100,
      last_seq: 100,
      duplicates: 0,
      late: 0,
    });
    expect(first['completeness']).toBeCloseTo(0.97, 12);
    expect(first['lag_max_ms']).toBeGreaterThan(50_000); // device time was a minute ago

    await device.publishAsync(TOPIC, sample(50), { qos: 1 }); // late
    await device.publishAsync(TOPIC, sample(5), { qos: 1 }); // again
    const second = await ledgerWhen(99);
    expect(second).toMatchObject({ missing: 2, expected: 100, late: 1, duplicates: 1, resets: 0 });
    // the repeat overwrote its own point: 98 distinct samples stored
    expect(await platform.count('cnc_machine', 'spindle_rpm', `"device" = '${DEVICE}'`)).toBe(98);
  });
});
