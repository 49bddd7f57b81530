import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  publishFleet,
  restartInfluxd,
  seqFigures,
  settledLedger,
  sleep,
  tempSpoolDir,
  waitForMetric,
} from './support/fault-fleet.js';
import { metricValue, startPlatform, type Platform } from './support/platform.js';

/** What the ledger must say of every device once everything is stored: the truth. */
function expectTrueLedger(
  rows: Map<string, Record<string, number>>,
  devices: number,
  perDevice: number,
) {
  expect(rows.size).toBe(devices);
  for (const [device, row] of rows)
    expect({
      device,
      missing: row['missing'],
      resets: row['resets'],
      completeness: row['completeness'],
      expected: row['expected'],
      last_seq: row['last_seq'],
      clock_regressions: row['clock_regressions'],
    }).toEqual({
      device,
      missing: 0,
      resets: 0,
      completeness: 1,
      expected: perDevice,
      last_seq: perDevice,
      clock_regressions: 0,
    });
}

/**
 * Three SIGKILLs of the ingestion while 800 msg/s flow (for 50 s). Each new process takes over the
 * ledger's state from SPOOL_DIR (snapshot and journal, written before every acknowledgement), so
 * the broker's redelivered backlog interleaved with live traffic is neither a gap nor a reset.
 */
describe('the delivery ledger through three ingestion crashes under load', () => {
  const DEVICES = 20;
  const PER_DEVICE = 2000;
  const SITE = 'ledger-kill';
  let platform: Platform;
  let spool: Awaited<ReturnType<typeof tempSpoolDir>>;
  let acked = 0;
  const ackedAtKill: number[] = [];

  beforeAll(async () => {
    spool = await tempSpoolDir();
    platform = await startPlatform({
      ingestionEnv: { SPOOL_DIR: spool.dir, PLATFORM_STATS_INTERVAL_MS: '500' },
    });
    const fleet = await publishFleet({
      url: platform.mqttUrl,
      prefix: 'cnc-lk',
      site: SITE,
      devices: DEVICES,
      perDevice: PER_DEVICE,
      ratePerDevice: 40,
    });
    for (const threshold of [2000, 10_000, 18_000]) {
      while (fleet.acked() < threshold) await sleep(20);
      // Each process must have stored something of its own first (its backlog included).
      await waitForMetric(platform.ingestionHttp, 'parkpulse_ingest_acks_total', (v) => v >= 500);
      ackedAtKill.push(fleet.acked());
      await platform.ingestion.stop('SIGKILL');
      await platform.ingestion.start();
    }
    acked = await fleet.done;
  });

  afterAll(async () => {
    await platform?.stop();
    await spool?.remove();
  });

  it('was killed three times while messages were flowing', () => {
    expect(ackedAtKill).toHaveLength(3);
    expect(ackedAtKill[2]).toBeLessThan(DEVICES * PER_DEVICE);
    expect(acked).toBe(DEVICES * PER_DEVICE);
    expect(platform.ingestion.tail(2000)).toContain('delivery ledger carries on from the state');
  });

  it('stores every message', async () => {
    await platform.waitForCount('cnc_machine', 'seq', DEVICES * PER_DEVICE, `"site" = '${SITE}'`);
    const figures = await seqFigures(platform.store, SITE);
    for (const [device, row] of figures)
      expect({ device, row }).toEqual({ device, row: [PER_DEVICE, PER_DEVICE, 1, PER_DEVICE] });
  });

  it('and the ledger says so: completeness 1, nothing missing, no reset, for every device', async () => {
    expectTrueLedger(
      await settledLedger(platform.store, SITE, DEVICES, PER_DEVICE),
      DEVICES,
      PER_DEVICE,
    );
  });
});

/**
 * InfluxDB down, the spool at its (small) budget, messages waiting unacknowledged in the broker:
 * the ingestion is killed and started again on the full spool, then InfluxDB comes back. The
 * spool's replay, the broker's redelivery and the live traffic interleave; the ledger must still
 * tell the truth.
 */
describe('the delivery ledger after a restart on a full spool', () => {
  const DEVICES = 10;
  const PER_DEVICE = 600;
  const SITE = 'ledger-full-spool';
  let platform: Platform;
  let spool: Awaited<ReturnType<typeof tempSpoolDir>>;
  let acked = 0;

  beforeAll(async () => {
    spool = await tempSpoolDir();
    platform = await startPlatform({
      ingestionEnv: {
        SPOOL_DIR: spool.dir,
        SPOOL_MAX_BYTES: String(256 * 1024),
        SPOOL_AFTER_MS: '500',
        PLATFORM_STATS_INTERVAL_MS: '500',
      },
    });
    const http = platform.ingestionHttp;
    // Some stored normally first, so that the ledger has state from before the outage.
    const fleet = await publishFleet({
      url: platform.mqttUrl,
      prefix: 'cnc-lf',
      site: SITE,
      devices: DEVICES,
      perDevice: PER_DEVICE,
      ratePerDevice: 50,
    });
    while (fleet.acked() < 1000) await sleep(20);
    await platform.influx.halt('SIGTERM');
    await waitForMetric(http, 'parkpulse_ingest_spool_full', (v) => v === 1, 60_000);
    await platform.ingestion.stop('SIGKILL');
    await platform.ingestion.start();
    await sleep(2000); // on the full spool, InfluxDB still down
    await restartInfluxd(platform.influx);
    acked = await fleet.done;
  });

  afterAll(async () => {
    await platform?.stop();
    await spool?.remove();
  });

  it('stores every message', async () => {
    expect(acked).toBe(DEVICES * PER_DEVICE);
    await platform.waitForCount(
      'cnc_machine',
      'seq',
      DEVICES * PER_DEVICE,
      `"site" = '${SITE}'`,
      90_000,
    );
    const figures = await seqFigures(platform.store, SITE);
    for (const [device, row] of figures)
      expect({ device, row }).toEqual({ device, row: [PER_DEVICE, PER_DEVICE, 1, PER_DEVICE] });
    expect(
      await metricValue(platform.ingestionHttp, 'parkpulse_ingest_spool_points_replayed_total'),
    ).toBeGreaterThan(0);
  });

  it('and the ledger says so: completeness 1, nothing missing, no reset, for every device', async () => {
    expectTrueLedger(
      await settledLedger(platform.store, SITE, DEVICES, PER_DEVICE),
      DEVICES,
      PER_DEVICE,
    );
  });
});
