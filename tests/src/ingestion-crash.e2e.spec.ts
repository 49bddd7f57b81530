import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  publishFleet,
  seqFigures,
  sleep,
  tempSpoolDir,
  waitForMetric,
} from './support/fault-fleet.js';
import { startPlatform, type Platform } from './support/platform.js';

const DEVICES = 20;
const PER_DEVICE = 600;
const TOTAL = DEVICES * PER_DEVICE;
const SITE = 'crash-twice';

/**
 * The ingestion is SIGKILLed twice while messages flow (no flush, no DISCONNECT), and restarted
 * each time: whatever it had not acknowledged is redelivered by the broker, and InfluxDB's
 * overwrite of identical points makes redelivery harmless.
 */
describe('the ingestion crashes twice mid-stream', () => {
  let platform: Platform;
  let spool: Awaited<ReturnType<typeof tempSpoolDir>>;
  let acked = 0;
  const ackedAtKill: number[] = [];

  beforeAll(async () => {
    spool = await tempSpoolDir();
    platform = await startPlatform({ ingestionEnv: { SPOOL_DIR: spool.dir } });
    // 1,200 msg/s for about 10 s.
    const fleet = await publishFleet({
      url: platform.mqttUrl,
      prefix: 'cnc-kill',
      site: SITE,
      devices: DEVICES,
      perDevice: PER_DEVICE,
      ratePerDevice: 60,
    });
    while (fleet.acked() < 2500) await sleep(20);
    ackedAtKill.push(fleet.acked());
    await platform.ingestion.stop('SIGKILL');
    await platform.ingestion.start();
    // The second crash, once the new process has been storing for a while (backlog included).
    await waitForMetric(platform.ingestionHttp, 'parkpulse_ingest_acks_total', (v) => v >= 3000);
    ackedAtKill.push(fleet.acked());
    await platform.ingestion.stop('SIGKILL');
    await platform.ingestion.start();
    acked = await fleet.done;
  });

  afterAll(async () => {
    await platform?.stop();
    await spool?.remove();
  });

  it('was killed twice while messages were flowing', () => {
    expect(ackedAtKill).toHaveLength(2);
    expect(ackedAtKill[1]).toBeGreaterThan(ackedAtKill[0]!);
    expect(ackedAtKill[1]).toBeLessThan(TOTAL);
    expect(acked).toBe(TOTAL);
  });

  it('each time, the broker held the unacknowledged batches and sent them to the restarted instance', () => {
    const log = platform.broker.tail(1000);
    expect(log.match(/ingest link parkpulse-ingestion-\S+ detached \(0 attached;/g)?.length).toBe(
      2,
    );
    expect(log.match(/ingest link parkpulse-ingestion-\S+ attached \(1 attached;/g)?.length).toBe(
      3,
    );
  });

  it('stores every message exactly once: no gaps, no duplicates', async () => {
    await platform.waitForCount('cnc_machine', 'seq', TOTAL, `"site" = '${SITE}'`);
    const figures = await seqFigures(platform.store, SITE);
    expect(figures.size).toBe(DEVICES);
    for (const [device, row] of figures)
      expect({ device, row }).toEqual({ device, row: [PER_DEVICE, PER_DEVICE, 1, PER_DEVICE] });
  });
});
