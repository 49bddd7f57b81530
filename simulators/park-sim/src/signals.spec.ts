import { MACHINE_STATES, getAssetType } from '@parkpulse/telemetry';
import { describe, expect, it } from 'vitest';
import { scienceCityFleet } from './fleet.js';
import { SignalModel } from './signals.js';

describe('scienceCityFleet', () => {
  it('is stable: the same count gives the same unique device ids', () => {
    const a = scienceCityFleet(120).map((d) => `${d.site}/${d.asset.id}/${d.deviceId}`);
    const b = scienceCityFleet(120).map((d) => `${d.site}/${d.asset.id}/${d.deviceId}`);
    expect(a).toEqual(b);
    expect(new Set(scienceCityFleet(120).map((d) => d.deviceId)).size).toBe(120);
  });

  it('covers the machines, robots and meters of a Science City factory', () => {
    const types = new Set(scienceCityFleet(24).map((d) => d.asset.id));
    for (const t of ['cnc_machine', 'industrial_robot', 'energy_meter', 'production_line'])
      expect(types).toContain(t);
  });
});

describe('SignalModel', () => {
  const cnc = getAssetType('cnc_machine')!;

  it('is deterministic for a seed and device', () => {
    const run = (seed: number) => {
      const m = new SignalModel(cnc, 'cnc-1', seed);
      return Array.from({ length: 50 }, () => m.next(1));
    };
    expect(run(42)).toEqual(run(42));
    expect(run(42)).not.toEqual(run(43));
  });

  it('stays inside the catalogue, keeps counters growing and states valid, for every Science City type', () => {
    const violations: string[] = [];
    for (const device of scienceCityFleet(24)) {
      const model = new SignalModel(device.asset, device.deviceId, 7);
      const previous: Record<string, number> = {};
      for (let i = 0; i < 1000; i++) {
        const sample = model.next(1);
        for (const [name, spec] of Object.entries(device.asset.metrics)) {
          const v = sample[name];
          const where = `${device.deviceId}.${name}=${String(v)} at ${i}`;
          if (spec.kind === 'gauge' || spec.kind === 'counter') {
            if (typeof v !== 'number') violations.push(`${where}: not a number`);
            else if (
              (spec.min !== undefined && v < spec.min) ||
              (spec.max !== undefined && v > spec.max)
            )
              violations.push(`${where}: out of range`);
            else if (spec.kind === 'counter' && v < (previous[name] ?? 0))
              violations.push(`${where}: counter went down`);
            if (spec.kind === 'counter' && typeof v === 'number') previous[name] = v;
          } else if (spec.kind === 'enum') {
            if (!spec.values?.includes(v as string)) violations.push(`${where}: not in enum`);
          } else if (typeof v !== 'boolean') {
            violations.push(`${where}: not a boolean`);
          }
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('moves machines through more than one state, and a stopped spindle draws less power', () => {
    const model = new SignalModel(cnc, 'cnc-states', 1);
    const seen = new Set<string>();
    const power: Record<string, number[]> = {};
    for (let i = 0; i < 20_000; i++) {
      const s = model.next(1);
      const state = s['state'] as string;
      seen.add(state);
      (power[state] ??= []).push(s['power_kw'] as number);
    }
    expect(seen.size).toBeGreaterThanOrEqual(3);
    for (const state of seen) expect(MACHINE_STATES).toContain(state);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(power['running']!)).toBeGreaterThan(3 * mean(power['idle']!));
  });
});
