import { DEV_GROUP_KEY } from '@parkpulse/dev-services';
import { runLoad, scienceCityFleet, type RunReport } from '@parkpulse/park-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from './support/platform.js';

const DEVICES = 20;
const PER_DEVICE = 500;

describe('redelivery: the ingestion is SIGKILLed mid-stream and restarted', () => {
  let platform: Platform;
  let report: RunReport;
  const fleet = scienceCityFleet(DEVICES);
  let ackedAtKill = -1;

  beforeAll(async () => {
    platform = await startPlatform();
    let acked = 0;
    const run = runLoad({
      url: platform.mqttUrl,
      groupKey: DEV_GROUP_KEY,
      devices: fleet,
      ratePerDevice: 250, // ~5,000 msg/s in all, for about two seconds
      messagesPerDevice: PER_DEVICE,
      seed: 3,
      onProgress: (r) => (acked = r.acked),
    });
    while (acked < 2000) await new Promise((r) => setTimeout(r, 20));
    ackedAtKill = acked;
    // The hard crash: no flush, no DISCONNECT. Whatever it held unacknowledged is still the broker's.
    await platform.ingestion.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    await platform.ingestion.start();
    report = await run;
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('was killed while messages were flowing', () => {
    expect(ackedAtKill).toBeGreaterThanOrEqual(2000);
    expect(ackedAtKill).toBeLessThan(DEVICES * PER_DEVICE);
    expect(report.acked).toBe(DEVICES * PER_DEVICE);
  });

  it('the broker held what was unacknowledged and sent it to the restarted instance', () => {
    const log = platform.broker.tail(300);
    expect(log).toMatch(
      /ingest link parkpulse-ingestion-\S+ detached \(0 attached; \d+ unacknowledged/,
    );
    expect(log).toMatch(/ingest link parkpulse-ingestion-\S+ attached \(1 attached; \d+ waiting/);
  });

  it('stores every message exactly once: no gaps, no duplicates', async () => {
    const measurements = [...new Set(fleet.map((d) => d.asset.id))];
    let total = 0;
    for (const m of measurements) {
      const expected = fleet.filter((d) => d.asset.id === m).length * PER_DEVICE;
      await platform.waitForCount(m, 'seq', expected);
      const [series = []] = await platform.store.query(
        `SELECT COUNT("seq"), COUNT(DISTINCT("seq")), MIN("seq"), MAX("seq") FROM "${m}" GROUP BY "device"`,
      );
      for (const s of series) {
        expect({ device: s.tags?.['device'], row: s.values[0]?.slice(1) }).toEqual({
          device: s.tags?.['device'],
          row: [PER_DEVICE, PER_DEVICE, 1, PER_DEVICE],
        });
        total += Number(s.values[0]?.[1]);
      }
    }
    expect(total).toBe(DEVICES * PER_DEVICE);
  });
});
