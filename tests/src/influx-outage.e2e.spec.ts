import { DEV_GROUP_KEY } from '@parkpulse/dev-services';
import { runLoad, scienceCityFleet, type RunReport } from '@parkpulse/park-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricValue, startPlatform, type Platform } from './support/platform.js';

const DEVICES = 20;
const PER_DEVICE = 300;

describe('InfluxDB hangs for 5 s while messages flow', () => {
  let platform: Platform;
  let report: RunReport;
  const fleet = scienceCityFleet(DEVICES);

  beforeAll(async () => {
    // A short HTTP timeout so that the outage is seen as failed writes, retried with back-off.
    platform = await startPlatform({ ingestionEnv: { INFLUX_TIMEOUT_MS: '1000' } });
    let acked = 0;
    const run = runLoad({
      url: platform.mqttUrl,
      groupKey: DEV_GROUP_KEY,
      devices: fleet,
      ratePerDevice: 100,
      messagesPerDevice: PER_DEVICE,
      seed: 5,
      onProgress: (r) => (acked = r.acked),
    });
    while (acked < 1000) await new Promise((r) => setTimeout(r, 20));
    platform.influx.pause();
    await new Promise((r) => setTimeout(r, 5000));
    platform.influx.resume();
    report = await run;
  });

  afterAll(async () => {
    platform?.influx.resume();
    await platform?.stop();
  });

  it('the devices never notice: the broker acknowledges them throughout', () => {
    expect(report.acked).toBe(DEVICES * PER_DEVICE);
  });

  it('the ingestion saw failed writes and retried them', async () => {
    expect(
      await metricValue(
        platform.ingestionHttp,
        'parkpulse_ingest_write_errors_total',
        '{kind="retriable"}',
      ),
    ).toBeGreaterThan(0);
  });

  it('stores every message exactly once after InfluxDB is back', async () => {
    for (const m of new Set(fleet.map((d) => d.asset.id))) {
      const expected = fleet.filter((d) => d.asset.id === m).length * PER_DEVICE;
      await platform.waitForCount(m, 'seq', expected);
      const [series = []] = await platform.store.query(
        `SELECT COUNT(DISTINCT("seq")), MIN("seq"), MAX("seq") FROM "${m}" GROUP BY "device"`,
      );
      for (const s of series) expect(s.values[0]?.slice(1)).toEqual([PER_DEVICE, 1, PER_DEVICE]);
    }
    expect(
      await metricValue(
        platform.ingestionHttp,
        'parkpulse_ingest_rejects_total',
        '{reason="storage_rejected"}',
      ),
    ).toBe(0);
  });
});
