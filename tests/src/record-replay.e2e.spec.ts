import { DEV_GROUP_KEY, serviceCredentials } from '@parkpulse/dev-services';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quoteString } from '@parkpulse/influx';
import {
  parseScenario,
  readRecording,
  record,
  replay,
  runScenario,
  scenarioFleet,
  type RecordedMessage,
} from '@parkpulse/park-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from './support/platform.js';

const scenario = parseScenario({
  name: 'record-replay',
  seed: 9,
  fleet: [
    {
      park: 'science-city',
      site: 'rr-factory',
      devices: { cnc_machine: 6, industrial_robot: 4, energy_meter: 3 },
    },
    { park: 'bio-island', site: 'rr-lab', devices: { bsl_laboratory: 2 } },
  ],
});
const SHIFT = -3_600_000; // replay one hour earlier than recorded

interface Telemetry {
  readonly deviceId: string;
  readonly measurement: string;
  readonly ts: number;
  readonly seq: number;
}

/** The telemetry samples a recording holds (single samples; this fleet sends no batches when healthy). */
function telemetryOf(messages: readonly RecordedMessage[]): Telemetry[] {
  return messages.flatMap((m) => {
    const [, , , measurement = '', deviceId = '', channel] = m.topic.split('/');
    if (channel !== 'telemetry' || m.payload === undefined) return [];
    const doc = JSON.parse(m.payload) as { ts: number; seq: number };
    return [{ deviceId, measurement, ts: doc.ts, seq: doc.seq }];
  });
}

async function storedCount(platform: Platform): Promise<number> {
  let total = 0;
  for (const m of ['cnc_machine', 'industrial_robot', 'energy_meter', 'bsl_laboratory'])
    total += await platform.count(m, 'seq');
  return total;
}

describe('record → replay through the real pipeline', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'parkpulse-recording-')), 'run.ndjson.gz');
  let recorded: Telemetry[] = [];
  let acked = 0;
  let replayed: Platform;

  beforeAll(async () => {
    const live = await startPlatform();
    try {
      const stop = new AbortController();
      const recording = record({
        url: live.mqttUrl,
        file,
        signal: stop.signal,
        ...serviceCredentials('parkpulse-observer'),
      });
      await new Promise((r) => setTimeout(r, 300));
      const report = await runScenario({
        url: live.mqttUrl,
        groupKey: DEV_GROUP_KEY,
        scenario,
        durationMs: 4000,
      });
      acked = report.acked;
      await new Promise((r) => setTimeout(r, 500));
      stop.abort();
      await recording;
    } finally {
      await live.stop();
    }
    recorded = telemetryOf((await readRecording(file)).messages);
    replayed = await startPlatform();
  });

  afterAll(async () => {
    await replayed?.stop();
  });

  it('recorded every acknowledged sample of the live run', () => {
    expect(recorded.length).toBeGreaterThan(scenarioFleet(scenario).length * 2);
    expect(recorded.length).toBe(acked);
  });

  it('a replay at 4× into a fresh InfluxDB stores the same number of points, shifted as asked', async () => {
    const report = await replay({
      url: replayed.mqttUrl,
      groupKey: DEV_GROUP_KEY,
      file,
      speed: 4,
      shiftMs: SHIFT,
    });
    expect(report.shiftMs).toBe(SHIFT);
    expect(report.acked).toBe(recorded.length);
    await expect
      .poll(() => storedCount(replayed), { timeout: 30_000, interval: 500 })
      .toBe(recorded.length);
    for (const t of recorded.filter((_, i) => i % Math.ceil(recorded.length / 10) === 0)) {
      const [series = []] = await replayed.store.query(
        `SELECT "seq" FROM "${t.measurement}" WHERE "device" = ${quoteString(t.deviceId)} AND time = ${t.ts + SHIFT}ms`,
      );
      expect({ device: t.deviceId, rows: series[0]?.values }).toEqual({
        device: t.deviceId,
        rows: [[t.ts + SHIFT, t.seq]],
      });
    }
  });

  it('cloned ×2, the same recording doubles the stored points (the originals overwrite themselves)', async () => {
    await replay({
      url: replayed.mqttUrl,
      groupKey: DEV_GROUP_KEY,
      file,
      speed: 8,
      shiftMs: SHIFT,
      clones: 2,
    });
    await expect
      .poll(() => storedCount(replayed), { timeout: 30_000, interval: 500 })
      .toBe(2 * recorded.length);
    const [series = []] = await replayed.store.query(
      `SHOW TAG VALUES FROM "cnc_machine" WITH KEY = "device"`,
    );
    const ids = series[0]?.values.map((v) => String(v[1])) ?? [];
    expect(ids.filter((id) => id.endsWith('-c1'))).toHaveLength(6);
  });
});
