import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  publishFleet,
  restartInfluxd,
  seqFigures,
  sleep,
  tempSpoolDir,
  waitForMetric,
} from './support/fault-fleet.js';
import { metricValue, startPlatform, type Platform } from './support/platform.js';

const DEVICES = 10;
const PER_DEVICE = 1500;
const TOTAL = DEVICES * PER_DEVICE;
const SITE = 'spool-disk-full';
/** The spool's disk: far smaller than its byte budget, so that the disk fills first. */
const DISK = '768k';

interface Health {
  status: string;
  checks: { influxdb: string; spool: string };
}

async function health(base: string): Promise<{ code: number; body: Health }> {
  const res = await fetch(`${base}/health`);
  return { code: res.status, body: (await res.json()) as Health };
}

/** Mounts a small tmpfs (needs root: CI runs as root). */
function mountTmpfs(dir: string): void {
  if (process.getuid?.() !== 0)
    throw new Error(
      `this test mounts a ${DISK} tmpfs as the spool directory and needs root (run it as root, as .ci/run does)`,
    );
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${DISK},mode=0700`, 'tmpfs', dir]);
}

/**
 * The spool's own disk fills up (a real full file system, not the byte budget): every append
 * fails with ENOSPC or a short write. /health must say `full` (503), the metric too; then InfluxDB
 * comes back, the replay frees the disk, and everything is stored.
 */
describe('a full disk under the spool', () => {
  let platform: Platform;
  let spool: Awaited<ReturnType<typeof tempSpoolDir>>;
  let mounted = false;
  let whenFull: { code: number; body: Health } | undefined;
  let fullMetric = -1;
  let acked = 0;

  beforeAll(async () => {
    spool = await tempSpoolDir();
    mountTmpfs(spool.dir);
    mounted = true;
    platform = await startPlatform({
      ingestionEnv: {
        SPOOL_DIR: spool.dir,
        SPOOL_MAX_BYTES: String(64 * 1024 * 1024),
        SPOOL_AFTER_MS: '500',
      },
    });
    const http = platform.ingestionHttp;
    await platform.influx.halt('SIGTERM');
    const fleet = publishFleet({
      url: platform.mqttUrl,
      prefix: 'cnc-df',
      site: SITE,
      devices: DEVICES,
      perDevice: PER_DEVICE,
      ratePerDevice: 100,
    });
    fullMetric = await waitForMetric(http, 'parkpulse_ingest_spool_full', (v) => v === 1, 60_000);
    whenFull = await health(http);
    await sleep(1000);
    await restartInfluxd(platform.influx);
    acked = await (await fleet).done;
  });

  afterAll(async () => {
    await platform?.stop();
    if (mounted) execFileSync('umount', [spool.dir]);
    await spool?.remove();
  });

  it('reports the spool full: /health 503 `full`, parkpulse_ingest_spool_full 1', () => {
    expect(fullMetric).toBe(1);
    expect(whenFull?.code).toBe(503);
    expect(whenFull?.body).toMatchObject({
      status: 'unavailable',
      checks: { influxdb: 'down', spool: 'full' },
    });
    expect(platform.ingestion.tail(2000)).toMatch(
      /disk spool full: the disk has no room \(.*(ENOSPC|short write)/,
    );
  });

  it('recovers once InfluxDB is back: every message stored once, health ok, full 0', async () => {
    expect(acked).toBe(TOTAL);
    await platform.waitForCount('cnc_machine', 'seq', TOTAL, `"site" = '${SITE}'`, 90_000);
    const figures = await seqFigures(platform.store, SITE);
    for (const [device, row] of figures)
      expect({ device, row }).toEqual({ device, row: [PER_DEVICE, PER_DEVICE, 1, PER_DEVICE] });
    const http = platform.ingestionHttp;
    await waitForMetric(http, 'parkpulse_ingest_spool_bytes', (v) => v === 0, 60_000);
    expect(await metricValue(http, 'parkpulse_ingest_spool_full')).toBe(0);
    const after = await health(http);
    expect(after.code).toBe(200);
    expect(after.body.checks).toMatchObject({ influxdb: 'up', spool: 'empty' });
  });
});
