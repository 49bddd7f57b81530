import { DEV_GROUP_KEY } from '@parkpulse/dev-services';
import { quoteString } from '@parkpulse/influx';
import { runLoad, scienceCityFleet, type RunReport, type SentSample } from '@parkpulse/park-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricValue, startPlatform, type Platform } from './support/platform.js';

const DEVICES = 50;
const PER_DEVICE = 200;

describe('pipeline: 50 simulated devices, 10,000 QoS-1 messages, through broker and ingestion into InfluxDB', () => {
  let platform: Platform;
  let report: RunReport;
  const sent: SentSample[] = [];
  const fleet = scienceCityFleet(DEVICES);

  beforeAll(async () => {
    platform = await startPlatform({ ingestionEnv: { PLATFORM_STATS_INTERVAL_MS: '1000' } });
    report = await runLoad({
      url: platform.mqttUrl,
      groupKey: DEV_GROUP_KEY,
      devices: fleet,
      ratePerDevice: 0,
      messagesPerDevice: PER_DEVICE,
      window: 20,
      seed: 7,
      onSent: (m) => sent.push(m),
    });
    await platform.waitForCount('device_status', 'online', DEVICES * 2);
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('every message is acknowledged to the devices', () => {
    expect(report.sent).toBe(DEVICES * PER_DEVICE);
    expect(report.acked).toBe(DEVICES * PER_DEVICE);
    expect(report.failed).toBe(0);
  });

  it('stores exactly what was sent, per measurement and per device', async () => {
    const perType = new Map<string, number>();
    for (const d of fleet) perType.set(d.asset.id, (perType.get(d.asset.id) ?? 0) + PER_DEVICE);
    for (const [measurement, expected] of perType) {
      await platform.waitForCount(measurement, 'seq', expected);
    }
    for (const [measurement] of perType) {
      const [series = []] = await platform.store.query(
        `SELECT COUNT("seq"), MIN("seq"), MAX("seq") FROM "${measurement}" GROUP BY "device"`,
      );
      for (const s of series) {
        expect({ device: s.tags?.['device'], row: s.values[0]?.slice(1) }).toEqual({
          device: s.tags?.['device'],
          row: [PER_DEVICE, 1, PER_DEVICE],
        });
      }
      expect(series.length).toBe(fleet.filter((d) => d.asset.id === measurement).length);
    }
  });

  it('stores the values exactly as sent (a sample of 40 messages)', async () => {
    const assetOf = new Map(fleet.map((d) => [d.deviceId, d.asset.id]));
    const siteOf = new Map(fleet.map((d) => [d.deviceId, d.site]));
    const sample = Array.from({ length: 40 }, (_, i) => sent[Math.floor((i * sent.length) / 40)]!);
    const expected = sample.map((m) => [
      {
        ...m.metrics,
        time: m.ts,
        seq: m.seq,
        device: m.deviceId,
        park: 'science-city',
        site: siteOf.get(m.deviceId),
      },
    ]);
    const stored = () =>
      Promise.all(
        sample.map(async (m) => {
          const [series = []] = await platform.store.query(
            `SELECT * FROM "${assetOf.get(m.deviceId)}" WHERE "device" = ${quoteString(m.deviceId)} AND time = ${m.ts}ms`,
          );
          // Whole rows (with device, seq and time), so that a failure shows everything at once.
          return series.flatMap((s) =>
            s.values.map((v): Record<string, unknown> =>
              Object.fromEntries(
                s.columns.map((c, i): [string, unknown] => [c, v[i]]).filter(([, x]) => x !== null),
              ),
            ),
          );
        }),
      );
    // Polled for a few seconds: a read right after a burst of writes may not see all of them yet.
    await expect.poll(stored, { timeout: 5000, interval: 500 }).toEqual(expected);
  });

  it('records each device online on connect and offline on disconnect', async () => {
    const [series = []] = await platform.store.query(
      `SELECT FIRST("online"), LAST("online") FROM "device_status" GROUP BY "device"`,
    );
    expect(series).toHaveLength(DEVICES);
    for (const s of series) expect(s.values[0]?.slice(1)).toEqual([true, false]);
  });

  it('reports its own figures to Prometheus and to platform_ingestion', async () => {
    expect(
      await metricValue(
        platform.ingestionHttp,
        'parkpulse_ingest_messages_total',
        '{channel="telemetry"}',
      ),
    ).toBe(DEVICES * PER_DEVICE);
    expect(
      await metricValue(platform.ingestionHttp, 'parkpulse_ingest_acks_total'),
    ).toBeGreaterThanOrEqual(DEVICES * PER_DEVICE + DEVICES * 2);
    await new Promise((r) => setTimeout(r, 2500));
    const [series = []] = await platform.store.query(
      `SELECT SUM("messages_in") FROM "platform_ingestion"`,
    );
    expect(Number(series[0]?.values[0]?.[1])).toBeGreaterThanOrEqual(DEVICES * PER_DEVICE);
  });
});
