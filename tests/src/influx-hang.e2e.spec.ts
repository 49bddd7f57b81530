import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishFleet, seqFigures, sleep, tempSpoolDir } from './support/fault-fleet.js';
import { metricValue, startPlatform, type Platform } from './support/platform.js';

/** The readiness contract: /health answers within a second, whatever InfluxDB does. */
const HEALTH_BOUND_MS = 1000;

const DEVICES = 10;
const PER_DEVICE = 1200;
const TOTAL = DEVICES * PER_DEVICE;
const SITE = 'influx-hang';
const HANG_MS = 40_000;

/**
 * InfluxDB hangs (SIGSTOP): it accepts connections and answers nothing. With the default
 * INFLUX_TIMEOUT_MS (10 s) and SPOOL_AFTER_MS (15 s), a hung InfluxDB must be treated like a down
 * one: /health answers at once from the last known state, and a write unanswered within
 * INFLUX_WRITE_DEADLINE_MS counts as failed, so the spool takes over instead of everything
 * waiting in the broker.
 */
describe('a hung InfluxDB', () => {
  let platform: Platform;
  let spool: Awaited<ReturnType<typeof tempSpoolDir>>;
  const healthMs: number[] = [];
  const healthBodies: { checks: { influxdb: string } }[] = [];
  let spooledDuringHang = 0;
  let acksMidHang = 0;
  let acksEndHang = 0;
  let acked = 0;

  beforeAll(async () => {
    spool = await tempSpoolDir();
    platform = await startPlatform({ ingestionEnv: { SPOOL_DIR: spool.dir } });
    const http = platform.ingestionHttp;
    const fleet = await publishFleet({
      url: platform.mqttUrl,
      prefix: 'cnc-hang',
      site: SITE,
      devices: DEVICES,
      perDevice: PER_DEVICE,
      ratePerDevice: 25, // 48 s of traffic
    });
    await sleep(2000);
    platform.influx.pause();
    try {
      await sleep(2000); // the background ping has noticed
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        const res = await fetch(`${http}/health`, { signal: AbortSignal.timeout(15_000) });
        healthBodies.push((await res.json()) as { checks: { influxdb: string } });
        healthMs.push(performance.now() - started);
        await sleep(200);
      }
      await sleep(HANG_MS / 2 - 3000);
      acksMidHang = await metricValue(http, 'parkpulse_ingest_acks_total');
      await sleep(HANG_MS / 2 - 1000);
      acksEndHang = await metricValue(http, 'parkpulse_ingest_acks_total');
      spooledDuringHang = await metricValue(http, 'parkpulse_ingest_spool_points_spooled_total');
    } finally {
      platform.influx.resume();
    }
    acked = await fleet.done;
  });

  afterAll(async () => {
    await platform?.stop();
    await spool?.remove();
  });

  it(`answers /health within ${HEALTH_BOUND_MS} ms while InfluxDB is stopped, and says it is down`, () => {
    expect(healthMs).toHaveLength(5);
    for (const ms of healthMs) expect(ms).toBeLessThanOrEqual(HEALTH_BOUND_MS);
    for (const body of healthBodies) expect(body.checks.influxdb).toBe('down');
  });

  it('spools during the hang instead of leaving messages in the broker', () => {
    expect(spooledDuringHang).toBeGreaterThan(0);
    // Messages kept being acknowledged in the second half of the hang: into the spool.
    expect(acksEndHang).toBeGreaterThan(acksMidHang);
  });

  it('stores every message exactly once afterwards', async () => {
    expect(acked).toBe(TOTAL);
    await platform.waitForCount('cnc_machine', 'seq', TOTAL, `"site" = '${SITE}'`, 90_000);
    const figures = await seqFigures(platform.store, SITE);
    for (const [device, row] of figures)
      expect({ device, row }).toEqual({ device, row: [PER_DEVICE, PER_DEVICE, 1, PER_DEVICE] });
  });
});
