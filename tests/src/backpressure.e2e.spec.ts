import { DEV_GROUP_KEY } from '@parkpulse/dev-services';
import { runLoad, scienceCityFleet, type RunReport } from '@parkpulse/park-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpBase } from './support/raw-mqtt.js';
import { metricValue, startPlatform, type Platform } from './support/platform.js';

const DEVICES = 10;
const PER_DEVICE = 200;

/**
 * InfluxDB hangs longer than 1.5 × the ingestion's keep-alive: the link's window bounds what the
 * ingestion holds (two batches of at most 100 messages here), the broker holds the rest
 * unacknowledged (the devices wait for their PUBACKs), and the link stays up.
 */
describe('back-pressure through an outage longer than the keep-alive', () => {
  let platform: Platform;
  let report: RunReport;
  let pausedPending = 0;
  let brokerHeld = 0;

  beforeAll(async () => {
    platform = await startPlatform({
      ingestionEnv: {
        MQTT_KEEPALIVE_S: '5',
        INFLUX_TIMEOUT_MS: '1000',
      },
      brokerEnv: { INGEST_BATCH_MAX_MESSAGES: '100', PUBLISH_RATE_LIMIT: '0' },
    });
    platform.influx.pause();
    const run = runLoad({
      url: platform.mqttUrl,
      groupKey: DEV_GROUP_KEY,
      devices: scienceCityFleet(DEVICES),
      ratePerDevice: 50,
      messagesPerDevice: PER_DEVICE,
      seed: 8,
    });
    await new Promise((r) => setTimeout(r, 10_000)); // > 1.5 × 5 s keep-alive, all while paused
    pausedPending = await metricValue(platform.ingestionHttp, 'parkpulse_ingest_pending_messages');
    brokerHeld = await metricValue(
      httpBase(platform.broker.healthUrl),
      'parkpulse_broker_capture_pending_messages',
    );
    platform.influx.resume();
    report = await run;
  });

  afterAll(async () => {
    platform?.influx.resume();
    await platform?.stop();
  });

  it('held at most its window of batches while InfluxDB hung; the broker held the rest', () => {
    expect(pausedPending).toBeGreaterThan(0);
    expect(pausedPending).toBeLessThanOrEqual(2 * 100);
    expect(brokerHeld).toBeGreaterThan(pausedPending);
  });

  it('stayed on its session (no reconnect) and stored everything once', async () => {
    expect(report.acked).toBe(DEVICES * PER_DEVICE);
    let stored = 0;
    await expect
      .poll(
        async () => {
          stored = 0;
          for (const m of new Set(scienceCityFleet(DEVICES).map((d) => d.asset.id)))
            stored += await platform.count(m, 'seq');
          return stored;
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe(DEVICES * PER_DEVICE);
    const log = platform.ingestion.tail(500);
    expect(log).not.toContain('reconnecting');
    expect(log.match(/connected to mqtt/g)).toHaveLength(1);
  });
});
