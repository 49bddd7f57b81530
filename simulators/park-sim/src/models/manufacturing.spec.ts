import { getAssetType, type MachineState } from '@parkpulse/telemetry';
import { describe, expect, it } from 'vitest';
import { START, ctxOf } from './conformance.js';
import {
  MACHINE_TRANSITIONS,
  SHIFTS,
  VIBRATION_LIMITS,
  createModel,
  localHour,
  shiftSlot,
} from './index.js';
import type { ModelEvent } from './model.js';

const DAY = 86_400_000;

interface Rec {
  t: number;
  m: Record<string, number | string | boolean>;
  events: readonly ModelEvent[];
}

function simulate(
  assetId: string,
  deviceId: string,
  days: number,
  stepS: number,
  seed = 42,
): Rec[] {
  const asset = getAssetType(assetId)!;
  const model = createModel(ctxOf(asset, deviceId, seed), START);
  const out: Rec[] = [];
  for (let t = START + stepS * 1000; t <= START + days * DAY; t += stepS * 1000) {
    const o = model.step(t);
    out.push({ t, m: o.metrics, events: o.events });
  }
  return out;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : (s[Math.floor(s.length / 2)] as number);
};

/** Indices where the state becomes `fault`. */
const faultOnsets = (recs: Rec[]) =>
  recs.flatMap((r, i) =>
    i > 0 && r.m['state'] === 'fault' && recs[i - 1]!.m['state'] !== 'fault' ? [i] : [],
  );

const MACHINES = [
  'cnc_machine',
  'industrial_robot',
  'injection_moulder',
  'air_compressor',
  'production_line',
];

describe('production machines', () => {
  it('the transition table covers the machine states and lets every state be left', () => {
    expect(Object.keys(MACHINE_TRANSITIONS).sort()).toEqual([
      'fault',
      'idle',
      'maintenance',
      'running',
      'setup',
    ]);
    expect(MACHINE_TRANSITIONS.fault).toEqual(['maintenance']);
    expect(MACHINE_TRANSITIONS.maintenance).toEqual(['idle']);
    expect(SHIFTS.map((s) => [s.startH, s.endH])).toEqual([
      [8, 16],
      [16, 24],
    ]);
  });

  for (const assetId of MACHINES) {
    it(`${assetId}: transitions only as allowed, faults happen and are announced, and recover`, () => {
      const problems: string[] = [];
      let faults = 0;
      const devices = ['m1', 'm2', 'm3'];
      const faultsPerDevice: number[] = [];
      for (const dev of devices) {
        const recs = simulate(assetId, `${assetId}-${dev}`, 4, 5);
        let devFaults = 0;
        for (let i = 1; i < recs.length; i++) {
          const from = recs[i - 1]!.m['state'] as MachineState;
          const to = recs[i]!.m['state'] as MachineState;
          if (from !== to && !MACHINE_TRANSITIONS[from].includes(to))
            problems.push(`${dev} #${i}: ${from} → ${to}`);
        }
        for (const i of faultOnsets(recs)) {
          devFaults++;
          const crit = recs[i]!.events.filter((e) => e.severity === 'critical');
          if (crit.length !== 1)
            problems.push(`${dev} #${i}: ${crit.length} critical events at the fault`);
          // a warning within the 10 minutes before the fault
          const warned = recs
            .slice(Math.max(0, i - 120), i + 1)
            .some((r) => r.events.some((e) => e.severity === 'warning'));
          if (!warned) problems.push(`${dev} #${i}: fault without a warning before it`);
          // and the machine comes back: maintenance, then idle, then running with an info event
          const after = recs.slice(i, i + 12 * 720);
          const seq = after.map((r) => r.m['state']).filter((s, k, a) => k === 0 || s !== a[k - 1]);
          if (seq.length >= 3 && (seq[1] !== 'maintenance' || seq[2] !== 'idle'))
            problems.push(`${dev} #${i}: after the fault ${seq.slice(0, 4).join(' → ')}`);
          const resumed = after.findIndex((r) => r.m['state'] === 'running');
          if (resumed > 0 && !after[resumed]!.events.some((e) => e.code === 'MACHINE_RESUMED'))
            problems.push(`${dev} #${i}: no MACHINE_RESUMED event`);
        }
        faults += devFaults;
        faultsPerDevice.push(devFaults);
      }
      expect(problems).toEqual([]);
      expect(faults).toBeGreaterThanOrEqual(3);
      if (assetId !== 'air_compressor')
        expect(Math.min(...faultsPerDevice)).toBeGreaterThanOrEqual(1);
    });
  }

  for (const assetId of ['cnc_machine', 'industrial_robot'] as const) {
    it(`${assetId}: vibration rises clearly before each fault and stays in its band otherwise`, () => {
      const lim = VIBRATION_LIMITS[assetId];
      const problems: string[] = [];
      let checked = 0;
      for (const dev of ['v1', 'v2']) {
        const recs = simulate(assetId, `${assetId}-${dev}`, 3, 2);
        const onsets = faultOnsets(recs);
        const nearFault = new Set<number>();
        for (const i of onsets) for (let k = Math.max(0, i - 300); k < i; k++) nearFault.add(k);
        const running = recs.flatMap((r) =>
          r.m['state'] === 'running' ? [r.m['vibration_mm_s'] as number] : [],
        );
        const normal = median(running);
        for (const [k, r] of recs.entries())
          if (r.m['state'] === 'running' && !nearFault.has(k)) {
            const v = r.m['vibration_mm_s'] as number;
            if (v > lim.normalMax || v < lim.normalMin)
              problems.push(`${dev} #${k}: ${v} outside the normal band`);
          }
        for (const i of onsets) {
          checked++;
          // the last 2 minutes before the onset
          const window = recs.slice(i - 60, i).map((r) => r.m['vibration_mm_s'] as number);
          const states = new Set(recs.slice(i - 60, i).map((r) => r.m['state']));
          if (states.size !== 1 || !states.has('running'))
            problems.push(`${dev} #${i}: not running before the fault`);
          if (median(window) < 1.5 * normal)
            problems.push(`${dev} #${i}: median ${median(window)} < 1.5 × normal ${normal}`);
          if (Math.max(...window) < lim.warning)
            problems.push(`${dev} #${i}: never above the warning level`);
          const warning = recs
            .slice(i - 300, i + 1)
            .flatMap((r) => r.events)
            .find((e) => e.code === 'VIBRATION_HIGH');
          if (warning?.severity !== 'warning')
            problems.push(`${dev} #${i}: no VIBRATION_HIGH warning`);
        }
      }
      expect(problems).toEqual([]);
      expect(checked).toBeGreaterThanOrEqual(2);
    });
  }

  it('makes parts in the shifts, hardly any at night; counters grow only while running', () => {
    const counters: Record<string, string> = {
      cnc_machine: 'part_count',
      industrial_robot: 'cycle_count',
      injection_moulder: 'shot_count',
      production_line: 'good_count',
    };
    const problems: string[] = [];
    for (const [assetId, counter] of Object.entries(counters)) {
      for (const dev of ['p1', 'p2']) {
        const recs = simulate(assetId, `${assetId}-${dev}`, 3, 10);
        let shift = 0;
        let night = 0;
        for (let i = 1; i < recs.length; i++) {
          const d = (recs[i]!.m[counter] as number) - (recs[i - 1]!.m[counter] as number);
          if (d > 0 && recs[i - 1]!.m['state'] !== 'running' && recs[i]!.m['state'] !== 'running')
            problems.push(
              `${assetId}/${dev} #${i}: ${counter} grew while ${String(recs[i]!.m['state'])}`,
            );
          if (shiftSlot(recs[i]!.t) === 0) night += d;
          else shift += d;
        }
        // per hour: 16 shift hours, 8 night hours
        if (shift / 16 < 3 * (night / 8))
          problems.push(`${assetId}/${dev}: shift ${shift} vs night ${night}`);
        if (shift === 0) problems.push(`${assetId}/${dev}: no parts at all`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('cnc: power follows spindle load, spindle and feed stop when not running, scrap is a few %', () => {
    const recs = simulate('cnc_machine', 'cnc-corr', 2, 1);
    const run = recs.filter((r) => r.m['state'] === 'running');
    const load = run.map((r) => r.m['spindle_load_pct'] as number);
    const power = run.map((r) => r.m['power_kw'] as number);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const ml = mean(load);
    const mp = mean(power);
    let sxy = 0;
    let sxx = 0;
    let syy = 0;
    for (let i = 0; i < load.length; i++) {
      sxy += (load[i]! - ml) * (power[i]! - mp);
      sxx += (load[i]! - ml) ** 2;
      syy += (power[i]! - mp) ** 2;
    }
    expect(sxy / Math.sqrt(sxx * syy)).toBeGreaterThan(0.95);
    const moving = recs.filter(
      (r) =>
        r.m['state'] !== 'running' &&
        ((r.m['spindle_rpm'] as number) > 0 || (r.m['feed_rate_mm_min'] as number) > 0),
    );
    expect(moving.length).toBe(0);
    const first = recs[0]!.m;
    const last = recs.at(-1)!.m;
    const parts = (last['part_count'] as number) - (first['part_count'] as number);
    const scrap = (last['scrap_count'] as number) - (first['scrap_count'] as number);
    expect(parts).toBeGreaterThan(200);
    expect(scrap / parts).toBeGreaterThan(0.002);
    expect(scrap / parts).toBeLessThan(0.08);
    // the spindle bearing is warm when running in the afternoon, cool at dawn (lagging the load)
    const at = (h: number) =>
      mean(
        recs
          .filter((r) => Math.floor(localHour(r.t)) === h)
          .map((r) => r.m['temperature_c'] as number),
      );
    expect(at(15)).toBeGreaterThan(at(6) + 5);
  });

  it('production line: plan grows only in the shifts and never resets; constants per line', () => {
    const recs = simulate('production_line', 'line-1', 3, 10);
    const problems: string[] = [];
    for (let i = 1; i < recs.length; i++) {
      const d =
        (recs[i]!.m['planned_output'] as number) - (recs[i - 1]!.m['planned_output'] as number);
      if (d < 0) problems.push(`#${i}: plan went down`);
      if (d > 0 && shiftSlot(recs[i - 1]!.t) === 0 && shiftSlot(recs[i]!.t) === 0)
        problems.push(`#${i}: plan grew at night`);
    }
    expect(problems).toEqual([]);
    const takt = new Set(recs.map((r) => r.m['takt_time_s']));
    const ideal = new Set(recs.map((r) => r.m['ideal_cycle_time_s']));
    expect(takt.size).toBe(1);
    expect(ideal.size).toBe(1);
    const [t] = [...takt] as number[];
    const [c] = [...ideal] as number[];
    expect(c!).toBeLessThan(t!);
    // plan per day = 16 h / takt
    const day = recs.filter((r) => r.t <= START + DAY);
    const planned =
      (day.at(-1)!.m['planned_output'] as number) - (recs[0]!.m['planned_output'] as number);
    expect(Math.abs(planned - (16 * 3600) / t!)).toBeLessThan(3);
    // output lags the plan (availability < 100 %), but not absurdly
    const made =
      (day.at(-1)!.m['good_count'] as number) +
      (day.at(-1)!.m['scrap_count'] as number) -
      (recs[0]!.m['good_count'] as number) -
      (recs[0]!.m['scrap_count'] as number);
    expect(made / planned).toBeGreaterThan(0.5);
    expect(made / planned).toBeLessThan(1.1);
  });

  it('production line: OEE time base — planned time counts the shifts, run time the running state', () => {
    const recs = simulate('production_line', 'line-1', 2, 10);
    const first = recs[0]!.m;
    const last = recs.at(-1)!.m;
    const num = (m: Record<string, unknown>, k: string) => m[k] as number;
    // sampled every 10 s: each interval counts in full towards its end state / shift slot
    let running = 0;
    let inShift = 0;
    for (let i = 1; i < recs.length; i++) {
      if (recs[i]!.m['state'] === 'running') running += 10;
      if (shiftSlot(recs[i]!.t) !== 0) inShift += 10;
    }
    const planned = num(last, 'planned_time_s') - num(first, 'planned_time_s');
    const run = num(last, 'run_time_s') - num(first, 'run_time_s');
    expect(Math.abs(planned - inShift)).toBeLessThanOrEqual(20);
    // the state changes between two samples, so a sampled run time is off by < 10 s per change
    expect(Math.abs(run - running) / running).toBeLessThan(0.02);
    const good = num(last, 'good_count') - num(first, 'good_count');
    const scrap = num(last, 'scrap_count') - num(first, 'scrap_count');
    const ideal = num(last, 'ideal_cycle_time_s');
    const availability = run / planned;
    const performance = (ideal * (good + scrap)) / run;
    const quality = good / (good + scrap);
    for (const f of [availability, performance, quality]) {
      expect(f).toBeGreaterThan(0.5);
      expect(f).toBeLessThanOrEqual(1);
    }
  });

  it('agv: missions in the shifts, charging when low, odometer integrates speed', () => {
    const recs = simulate('agv', 'agv-1', 2, 1);
    const states = new Set(recs.map((r) => r.m['state']));
    for (const s of ['moving', 'loading', 'unloading', 'charging', 'idle'])
      expect(states).toContain(s);
    let dist = 0;
    for (let i = 1; i < recs.length; i++)
      dist +=
        ((recs[i - 1]!.m['speed_m_s'] as number) + (recs[i]!.m['speed_m_s'] as number)) / 2000;
    const odo = (recs.at(-1)!.m['odometer_km'] as number) - (recs[0]!.m['odometer_km'] as number);
    expect(Math.abs(odo - dist) / odo).toBeLessThan(0.02);
    const movingAt = (slot: 0 | 1 | 2) =>
      recs.filter((r) => shiftSlot(r.t) === slot && r.m['state'] === 'moving').length;
    expect(movingAt(1) + movingAt(2)).toBeGreaterThan(4 * movingAt(0));
    const stillMoving = recs.filter(
      (r) => r.m['state'] !== 'moving' && (r.m['speed_m_s'] as number) > 0,
    );
    expect(stillMoving.length).toBe(0);
  });
});
