import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  publishFleet,
  restartInfluxd,
  segmentFiles,
  seqFigures,
  sleep,
  tempSpoolDir,
  waitForMetric,
} from './support/fault-fleet.js';
import { metricValue, startPlatform, type Platform } from './support/platform.js';

const DEVICES = 20;
const PER_DEVICE = 1000;
const TOTAL = DEVICES * PER_DEVICE;
const SITE = 'spool-outage';
const OUTAGE_MS = 30_000;

/**
 * InfluxDB really stops (SIGTERM: connections refused) for 30 s while 20,000 QoS-1 messages flow,
 * then starts again on the same port and data: the ingestion keeps acknowledging by spooling to
 * disk, then replays the spool, and every message is stored exactly once.
 */
describe('InfluxDB stopped for 30 s under load: the disk spool takes over', () => {
  let platform: Platform;
  let spool: Awaited<ReturnType<typeof tempSpoolDir>>;
  let acked = 0;
  let acksAtStop = 0;
  let acksBeforeRestart = 0;
  let spooledDuringOutage = 0;

  beforeAll(async () => {
    spool = await tempSpoolDir();
    platform = await startPlatform({
      ingestionEnv: { SPOOL_DIR: spool.dir, SPOOL_AFTER_MS: '2000', INFLUX_TIMEOUT_MS: '2000' },
    });
    const http = platform.ingestionHttp;
    // 600 msg/s for about 33 s: most of it while InfluxDB is down.
    const fleet = await publishFleet({
      url: platform.mqttUrl,
      prefix: 'cnc-so',
      site: SITE,
      devices: DEVICES,
      perDevice: PER_DEVICE,
      ratePerDevice: 30,
    });
    while (fleet.acked() < 2000) await sleep(20);
    await platform.influx.halt('SIGTERM');
    acksAtStop = await metricValue(http, 'parkpulse_ingest_acks_total');
    await sleep(OUTAGE_MS);
    acksBeforeRestart = await metricValue(http, 'parkpulse_ingest_acks_total');
    spooledDuringOutage = await metricValue(http, 'parkpulse_ingest_spool_points_spooled_total');
    await restartInfluxd(platform.influx);
    acked = await fleet.done;
  });

  afterAll(async () => {
    await platform?.stop();
    await spool?.remove();
  });

  it('the devices never noticed: the broker acknowledged every message', () => {
    expect(acked).toBe(TOTAL);
  });

  it('kept acknowledging while InfluxDB was down, because the batches went to the spool', () => {
    expect(spooledDuringOutage).toBeGreaterThan(5000);
    expect(acksBeforeRestart - acksAtStop).toBeGreaterThan(5000);
  });

  it('stores every message exactly once after InfluxDB is back', async () => {
    await platform.waitForCount('cnc_machine', 'seq', TOTAL, `"site" = '${SITE}'`, 90_000);
    const figures = await seqFigures(platform.store, SITE);
    expect(figures.size).toBe(DEVICES);
    for (const [device, row] of figures)
      expect({ device, row }).toEqual({ device, row: [PER_DEVICE, PER_DEVICE, 1, PER_DEVICE] });
  });

  it('replayed the spool and emptied it', async () => {
    const http = platform.ingestionHttp;
    await waitForMetric(http, 'parkpulse_ingest_spool_bytes', (v) => v === 0);
    await waitForMetric(http, 'parkpulse_ingest_spool_segments', (v) => v === 0);
    expect(await metricValue(http, 'parkpulse_ingest_spool_points_replayed_total')).toBeGreaterThan(
      5000,
    );
    expect(await segmentFiles(spool.dir)).toEqual([]);
    expect(
      await metricValue(http, 'parkpulse_ingest_rejects_total', '{reason="storage_rejected"}'),
    ).toBe(0);
    expect(platform.ingestion.tail(400)).toContain('disk spool replayed');
  });
});
