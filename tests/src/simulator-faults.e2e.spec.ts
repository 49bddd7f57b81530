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
import { metricValue, startPlatform, type Platform } from './support/platform.js';

/** faults-demo, condensed: every kind of fault in one short run, judged against InfluxDB. */
const scenario = parseScenario({
  name: 'faults-condensed',
  seed: 21,
  fleet: [
    {
      park: 'science-city',
      site: 'fault-works',
      devices: { cnc_machine: 20, industrial_robot: 15, energy_meter: 10, agv: 5 },
    },
  ],
  clockSkew: { share: 0.2, maxMs: 1500 },
  malformedShare: 0.02,
  faults: [
    { kind: 'flap', at: '500ms', times: 3, every: '300ms' },
    { kind: 'malformed-burst', at: '1s', count: 50 },
    { kind: 'reconnect-storm', at: '5s', share: 1 },
    { kind: 'broker-restart', at: '8s' },
  ],
  objectives: { zeroLoss: true, p99AckMs: 15_000 },
});

describe('park-sim faults: malformed burst, flapping device, reconnect storm, broker restart', () => {
  let platform: Platform;
  let report: RunReport & { startMs: number; endMs: number };
  let verdict: Verdict;
  const faults: string[] = [];

  beforeAll(async () => {
    platform = await startPlatform();
    report = await runScenario({
      url: platform.mqttUrl,
      groupKey: DEV_GROUP_KEY,
      scenario,
      durationMs: 12_000,
      restartBroker: () => platform.restartBroker(),
      onFault: (fault) => faults.push(fault.kind),
    });
    verdict = await judge(report, scenario.objectives, {
      influxUrl: platform.influx.url,
      fleet: scenarioFleet(scenario),
      fromMs: report.startMs,
      toMs: report.endMs,
    });
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('injected every fault', () => {
    expect(faults).toEqual(['flap', 'malformed-burst', 'reconnect-storm', 'broker-restart']);
    // storm: every device once; restart: every device again; flap: three more
    expect(report.reconnects).toBeGreaterThanOrEqual(2 * 50 + 3);
  });

  it('passes its objectives: everything acknowledged and stored', () => {
    expect(verdict.rows.filter((r) => !r.pass)).toEqual([]);
    expect(verdict.stored).toBe(report.acked);
    expect(report.acked).toBe(report.sent);
  });

  it('every malformed message became a dead letter', async () => {
    expect(report.malformed).toBeGreaterThanOrEqual(50);
    await expect
      .poll(
        async () =>
          (await metricValue(
            platform.ingestionHttp,
            'parkpulse_ingest_rejects_total',
            '{reason="payload_invalid"}',
          )) + 0,
        { timeout: 10_000 },
      )
      .toBeGreaterThanOrEqual(50);
    // Only the broker restarted, so the ingestion's counters cover the whole run:
    const text = await (await fetch(`${platform.ingestionHttp}/metrics`)).text();
    const rejects = text
      .split('\n')
      .filter((l) => l.startsWith('parkpulse_ingest_rejects_total{'))
      .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    expect(rejects).toBe(report.malformed);
  });
});
