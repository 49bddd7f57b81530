import { DEV_GROUP_KEY } from '@parkpulse/dev-services';
import {
  judge,
  parseScenario,
  runScenario,
  scenarioFleet,
  type RunReport,
  type Verdict,
} from '@parkpulse/park-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from './support/platform.js';

const scenario = parseScenario({
  name: 'broker-restart',
  seed: 11,
  fleet: [
    {
      park: 'science-city',
      site: 'restart-works',
      devices: { cnc_machine: 80, industrial_robot: 60, energy_meter: 40, agv: 20 },
    },
  ],
  faults: [{ kind: 'broker-restart', at: '3s' }],
});

describe('the broker restarts under 200 devices', () => {
  let platform: Platform;
  let report: RunReport & { startMs: number; endMs: number };
  let verdict: Verdict;
  const reconnects: number[] = [];

  beforeAll(async () => {
    platform = await startPlatform();
    report = await runScenario({
      url: platform.mqttUrl,
      groupKey: DEV_GROUP_KEY,
      scenario,
      durationMs: 10_000,
      restartBroker: () => platform.restartBroker(),
      onConnect: (_id, at, reconnect) => reconnect && reconnects.push(at),
    });
    verdict = await judge(
      report,
      { zeroLoss: true, minAckedShare: 1 },
      {
        influxUrl: platform.influx.url,
        fleet: scenarioFleet(scenario),
        fromMs: report.startMs,
        toMs: report.endMs,
      },
    );
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('every device came back', () => {
    expect(reconnects.length).toBeGreaterThanOrEqual(200);
  });

  it('reconnections are spread out by back-off and jitter, not a storm', () => {
    const sorted = [...reconnects].sort((a, b) => a - b);
    const span = sorted[sorted.length - 1]! - sorted[0]!;
    let busiest = 0;
    for (let i = 0, j = 0; i < sorted.length; i++) {
      while (sorted[i]! - sorted[j]! > 100) j++;
      busiest = Math.max(busiest, i - j + 1);
    }
    expect(span).toBeGreaterThanOrEqual(400);
    expect(busiest / sorted.length).toBeLessThan(0.35);
  });

  it('no QoS-1 message is lost: everything is acknowledged in the end, and stored', () => {
    expect({ unsent: report.unsent, failed: report.failed, acked: report.acked }).toEqual({
      unsent: 0,
      failed: 0,
      acked: report.sent,
    });
    expect(verdict.stored).toBe(report.acked);
    expect(verdict.pass).toBe(true);
  });
});
