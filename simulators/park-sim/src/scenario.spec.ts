import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FleetGenerator, scenarioFleet, wirePayload } from './generator.js';
import { restamp } from './modes/replay.js';
import {
  SCENARIO_DIR,
  ScenarioError,
  loadScenario,
  parseDuration,
  parseScenario,
} from './scenario.js';

const START = Date.UTC(2026, 10, 24, 1, 0, 0); // 09:00 in the parks (UTC+8)

async function streamHash(
  name: string,
  seed: number | undefined,
  until: number,
): Promise<{ hash: string; count: number }> {
  const scenario = await loadScenario(name);
  if (seed !== undefined) scenario.seed = seed;
  const generator = new FleetGenerator(scenarioFleet(scenario), scenario, START);
  const hash = createHash('sha256');
  let count = 0;
  // Uneven steps on purpose: the stream must not depend on how time is advanced.
  for (let t = START, step = 137; t <= START + until; t += step, step = ((step * 7) % 1000) + 50) {
    for (const m of generator.until(t)) {
      hash.update(`${m.device.deviceId}|${m.kind}|${wirePayload(m)}\n`);
      count++;
    }
  }
  return { hash: hash.digest('hex'), count };
}

describe('scenario files', () => {
  const files = readdirSync(SCENARIO_DIR).filter((f) => f.endsWith('.json'));

  it('include the demo, the four areas and the 10k load', () => {
    expect(files).toEqual(
      expect.arrayContaining(['science-city-demo.json', 'four-areas.json', 'load-10k.json']),
    );
  });

  it.each(files)('%s parses and names only catalogue asset types of its parks', async (file) => {
    const scenario = await loadScenario(file.replace(/\.json$/, ''));
    expect(scenarioFleet(scenario).length).toBeGreaterThan(0);
  });

  it('four-areas has about 2,000 devices in all four parks; load-10k has 10,000', async () => {
    const four = scenarioFleet(await loadScenario('four-areas'));
    expect(four.length).toBeGreaterThanOrEqual(1800);
    expect(four.length).toBeLessThanOrEqual(2200);
    expect(new Set(four.map((d) => d.park)).size).toBe(4);
    expect(scenarioFleet(await loadScenario('load-10k'))).toHaveLength(10_000);
  });

  it('device ids are unique and valid', async () => {
    const ids = scenarioFleet(await loadScenario('four-areas')).map((d) => d.deviceId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });

  it('refuses unknown asset types and types outside their park, all at once', () => {
    expect(() =>
      parseScenario({
        name: 'bad',
        fleet: [{ park: 'yuzhu', site: 'x', devices: { toaster: 1, cnc_machine: 2 } }],
      }),
    ).toThrow(/toaster[\s\S]*cnc_machine/);
    expect(() => parseScenario({ name: 'Bad Name', fleet: [] })).toThrow(ScenarioError);
  });

  it('reads durations', () => {
    expect([
      parseDuration('500ms'),
      parseDuration('30s'),
      parseDuration('1.5m'),
      parseDuration('2h'),
      parseDuration(42),
    ]).toEqual([500, 30_000, 90_000, 7_200_000, 42]);
  });
});

describe('determinism', () => {
  it('the same scenario and seed give the same byte stream', async () => {
    const a = await streamHash('science-city-demo', undefined, 120_000);
    const b = await streamHash('science-city-demo', undefined, 120_000);
    expect(a.count).toBeGreaterThan(10_000);
    expect(b).toEqual(a);
  });

  it('another seed gives another stream', async () => {
    const a = await streamHash('science-city-demo', 1, 30_000);
    const b = await streamHash('science-city-demo', 2, 30_000);
    expect(b.hash).not.toBe(a.hash);
  });

  it('every device reports at its catalogue interval with seq 1, 2, 3…', async () => {
    const scenario = await loadScenario('science-city-demo');
    const fleet = scenarioFleet(scenario);
    const generator = new FleetGenerator(fleet, scenario, START);
    const last = new Map<string, { ts: number; seq: number }>();
    const problems: string[] = [];
    for (const m of generator.until(START + 60_000)) {
      if (m.kind !== 'telemetry') continue;
      const prev = last.get(m.device.deviceId);
      if (
        prev &&
        (m.payload.seq !== prev.seq + 1 || m.payload.ts - prev.ts !== m.device.intervalMs)
      )
        problems.push(m.device.deviceId);
      last.set(m.device.deviceId, { ts: m.payload.ts, seq: m.payload.seq });
    }
    expect(problems).toEqual([]);
    expect(last.size).toBe(fleet.length);
  });
});

describe('restamp', () => {
  it('moves top-level and batch timestamps, numbers and RFC 3339 alike', () => {
    expect(restamp({ ts: 1000, seq: 1, metrics: {} }, 500)).toEqual({
      ts: 1500,
      seq: 1,
      metrics: {},
    });
    expect(
      restamp(
        { samples: [{ ts: 1000 }, { ts: '1970-01-01T00:00:02.000Z' }, { metrics: {} }] },
        -100,
      ),
    ).toEqual({
      samples: [{ ts: 900 }, { ts: 1900 }, { metrics: {} }],
    });
  });
});
