import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
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

const DEVICES = 10;
const PER_DEVICE = 300;
const TOTAL = DEVICES * PER_DEVICE;
const SITE = 'spool-restart';
const TORN_PAYLOAD = '{"v":1,"groups":[{"t":"parks/';

/**
 * Everything is acknowledged into the spool while InfluxDB is down; then the ingestion is killed
 * (and dies, as a crash would, in the middle of appending one more record). Started again with
 * InfluxDB back, it replays the spool it finds: the broker has nothing left to redeliver, so the
 * spool alone must hold every message.
 */
describe('the spool survives a crash of the ingestion and is replayed on start-up', () => {
  let platform: Platform;
  let spool: Awaited<ReturnType<typeof tempSpoolDir>>;
  let segmentsAtKill: string[] = [];

  beforeAll(async () => {
    spool = await tempSpoolDir();
    platform = await startPlatform({
      ingestionEnv: { SPOOL_DIR: spool.dir, SPOOL_AFTER_MS: '1000', INFLUX_TIMEOUT_MS: '2000' },
    });
    const http = platform.ingestionHttp;
    await platform.influx.halt('SIGTERM');
    const fleet = await publishFleet({
      url: platform.mqttUrl,
      prefix: 'cnc-sr',
      site: SITE,
      devices: DEVICES,
      perDevice: PER_DEVICE,
      ratePerDevice: 100,
    });
    await fleet.done;
    // Every telemetry point in the spool, every message acknowledged to the broker.
    await waitForMetric(http, 'parkpulse_ingest_spool_points_spooled_total', (v) => v >= TOTAL);
    await waitForMetric(http, 'parkpulse_ingest_pending_messages', (v) => v === 0);
    await platform.ingestion.stop('SIGKILL');
    segmentsAtKill = await segmentFiles(spool.dir);
    // A crash in the middle of an append leaves a torn record: a header that promises 4,000
    // bytes, and only part of them. It was never acknowledged, so nothing is missing.
    const header = Buffer.alloc(8);
    header.writeUInt32LE(4000, 0);
    await appendFile(
      join(spool.dir, segmentsAtKill.at(-1)!),
      Buffer.concat([header, Buffer.from(TORN_PAYLOAD)]),
    );
    await restartInfluxd(platform.influx);
    await platform.ingestion.start();
  });

  afterAll(async () => {
    await platform?.stop();
    await spool?.remove();
  });

  it('the spool held the data when the ingestion died', () => {
    expect(segmentsAtKill.length).toBeGreaterThan(0);
  });

  it('the restarted ingestion replays it: every message stored exactly once', async () => {
    await platform.waitForCount('cnc_machine', 'seq', TOTAL, `"site" = '${SITE}'`);
    const figures = await seqFigures(platform.store, SITE);
    expect(figures.size).toBe(DEVICES);
    for (const [device, row] of figures)
      expect({ device, row }).toEqual({ device, row: [PER_DEVICE, PER_DEVICE, 1, PER_DEVICE] });
    // From the spool, not from the broker: the new process was redelivered no telemetry.
    const http = platform.ingestionHttp;
    expect(
      await metricValue(http, 'parkpulse_ingest_spool_points_replayed_total'),
    ).toBeGreaterThanOrEqual(TOTAL);
    expect(
      await metricValue(http, 'parkpulse_ingest_messages_total', '{channel="telemetry"}'),
    ).toBe(0);
  });

  it('skipped the torn record with a log line, and emptied the spool', async () => {
    const http = platform.ingestionHttp;
    await waitForMetric(http, 'parkpulse_ingest_spool_bytes', (v) => v === 0);
    expect(await segmentFiles(spool.dir)).toEqual([]);
    expect(
      await metricValue(http, 'parkpulse_ingest_spool_damaged_total', '{kind="truncated"}'),
    ).toBe(1);
    const log = platform.ingestion.tail(300);
    expect(log).toContain('from an earlier run: replaying them');
    expect(log).toContain('the last record is cut short');
    expect(log).toContain(`${8 + TORN_PAYLOAD.length} bytes from offset`);
  });
});

/**
 * SIGTERM while InfluxDB is down and nothing is spooled yet (SPOOL_AFTER_MS far away): the
 * ingestion must still leave nothing behind unacknowledged — it flushes to the spool at once,
 * acknowledges, disconnects — and the next start stores it all from the spool.
 */
describe('SIGTERM while InfluxDB is down: flushed to the spool, acknowledged, replayed later', () => {
  const SITE_TERM = 'spool-sigterm';
  const TERM_TOTAL = 5 * 200;
  let platform: Platform;
  let spool: Awaited<ReturnType<typeof tempSpoolDir>>;
  let pendingBefore = 0;
  let spooledBefore = -1;
  let segmentsAfterStop: string[] = [];

  beforeAll(async () => {
    spool = await tempSpoolDir();
    platform = await startPlatform({
      ingestionEnv: {
        SPOOL_DIR: spool.dir,
        SPOOL_AFTER_MS: '600000',
        INFLUX_TIMEOUT_MS: '2000',
        PLATFORM_STATS_INTERVAL_MS: '0',
      },
    });
    const http = platform.ingestionHttp;
    await platform.influx.halt('SIGTERM');
    const fleet = await publishFleet({
      url: platform.mqttUrl,
      prefix: 'cnc-term',
      site: SITE_TERM,
      devices: 5,
      perDevice: 200,
      ratePerDevice: 100,
    });
    // Nothing is stored, so nothing is acknowledged: the devices wait for their PUBACKs, the
    // broker holds their messages, and the ingestion the batches of its link's window.
    await waitForMetric(http, 'parkpulse_ingest_pending_messages', (v) => v > 0);
    await sleep(1000);
    pendingBefore = await metricValue(http, 'parkpulse_ingest_pending_messages');
    spooledBefore = await metricValue(http, 'parkpulse_ingest_spool_points_spooled_total');
    await platform.ingestion.stop('SIGTERM');
    segmentsAfterStop = await segmentFiles(spool.dir);
    await restartInfluxd(platform.influx);
    await platform.ingestion.start();
    await fleet.done;
  });

  afterAll(async () => {
    await platform?.stop();
    await spool?.remove();
  });

  it('held what it had unacknowledged until the SIGTERM, then flushed it to the spool', () => {
    expect(pendingBefore).toBeGreaterThan(0);
    expect(spooledBefore).toBe(0);
    expect(segmentsAfterStop.length).toBeGreaterThan(0);
    expect(platform.ingestion.tail(400)).toMatch(
      /shutting down \(SIGTERM\): flushing \d+ unacknowledged messages/,
    );
  });

  it('the next start stores everything from the spool, exactly once', async () => {
    await platform.waitForCount('cnc_machine', 'seq', TERM_TOTAL, `"site" = '${SITE_TERM}'`);
    const figures = await seqFigures(platform.store, SITE_TERM);
    for (const [device, row] of figures)
      expect({ device, row }).toEqual({ device, row: [200, 200, 1, 200] });
    // What the devices still held came live to the new process; what the old one held, from
    // its spool.
    await waitForMetric(platform.ingestionHttp, 'parkpulse_ingest_spool_bytes', (v) => v === 0);
  });
});
