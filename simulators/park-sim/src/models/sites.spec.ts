import { getAssetType, type ParkId } from '@parkpulse/telemetry';
import { describe, expect, it } from 'vitest';
import { START, ctxOf } from './conformance.js';
import {
  AI_CLUSTER_PUE,
  BSL_CASCADE,
  EV_CHARGER_TRANSITIONS,
  FREEZER_DEFROST,
  createModel,
  localHour,
  type EvChargerState,
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
  days: number,
  stepS?: number,
  deviceId = `${assetId}-01`,
  park?: ParkId,
): Rec[] {
  const asset = getAssetType(assetId)!;
  const ctx = { ...ctxOf(asset, deviceId), ...(park ? { park } : {}) };
  const model = createModel(ctx, START);
  const dt = (stepS ?? asset.reportIntervalS) * 1000;
  const out: Rec[] = [];
  for (let t = START + dt; t <= START + days * DAY; t += dt) {
    const o = model.step(t);
    out.push({ t, m: o.metrics, events: o.events });
  }
  return out;
}

const num = (r: Rec, k: string) => r.m[k] as number;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const inHours = (recs: Rec[], from: number, to: number) =>
  recs.filter((r) => localHour(r.t) >= from && localHour(r.t) < to);
function corr(xs: number[], ys: number[]): number {
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** Relative difference between a counter's growth and the trapezoidal integral of a rate. */
function integrationError(recs: Rec[], counter: string, rate: string, scale = 1): number {
  let integral = 0;
  for (let i = 1; i < recs.length; i++) {
    const dtH = (recs[i]!.t - recs[i - 1]!.t) / 3_600_000;
    integral += ((num(recs[i - 1]!, rate) + num(recs[i]!, rate)) / 2) * dtH * scale;
  }
  const growth = num(recs.at(-1)!, counter) - num(recs[0]!, counter);
  return Math.abs(growth - integral) / growth;
}

describe('energy and counters', () => {
  it('energy counters integrate their power within 1 %', () => {
    const cases: [string, string, string, number][] = [
      ['energy_meter', 'energy_kwh', 'active_power_kw', 1],
      ['edge_rack', 'energy_kwh', 'it_power_kw', 1],
      ['base_station_5g', 'energy_kwh', 'power_kw', 1],
      ['ai_compute_cluster', 'it_energy_kwh', 'it_power_kw', 1],
      ['ultra_low_freezer', 'energy_kwh', 'power_kw', 1],
      ['street_light', 'energy_kwh', 'power_w', 1 / 1000],
      ['ev_charger', 'energy_total_kwh', 'power_kw', 1],
      ['pv_inverter', 'energy_total_kwh', 'ac_power_kw', 1],
      ['water_meter', 'volume_total_m3', 'flow_m3_h', 1],
    ];
    const errors = cases
      .map(
        ([asset, counter, rate, scale]) =>
          [asset, integrationError(simulate(asset, 2), counter, rate, scale)] as const,
      )
      .filter(([, e]) => !(e < 0.01));
    expect(errors).toEqual([]);
  });

  it('energy meter: a factory draws more in the shifts than at night, an office park by day', () => {
    const factory = simulate('energy_meter', 2, 60, 'em-1', 'science-city');
    const office = simulate('energy_meter', 2, 60, 'em-2', 'yuzhu');
    const p = (recs: Rec[], a: number, b: number) =>
      mean(inHours(recs, a, b).map((r) => num(r, 'active_power_kw')));
    expect(p(factory, 9, 23)).toBeGreaterThan(1.8 * p(factory, 2, 6));
    expect(p(office, 10, 17)).toBeGreaterThan(1.4 * p(office, 1, 5));
  });
});

describe('photovoltaics', () => {
  it('produces nothing at night, something at noon, and resets the day yield at local midnight', () => {
    const recs = simulate('pv_inverter', 3);
    const night = [...inHours(recs, 0, 5), ...inHours(recs, 20, 24)];
    expect(
      night.filter((r) => num(r, 'ac_power_kw') !== 0 || num(r, 'irradiance_w_m2') !== 0).length,
    ).toBe(0);
    const noon = inHours(recs, 12, 13);
    expect(noon.filter((r) => !(num(r, 'ac_power_kw') > 0)).length).toBe(0);
    expect(mean(noon.map((r) => num(r, 'irradiance_w_m2')))).toBeGreaterThan(200);
    // day yield: grows during the day, back to 0 right after midnight, equals the integral of power
    const resets = recs.filter(
      (r, i) => i > 0 && num(r, 'energy_today_kwh') < num(recs[i - 1]!, 'energy_today_kwh'),
    );
    expect(resets.map((r) => localHour(r.t) < 0.01)).toEqual([true, true, true]);
    const day2 = recs.filter((r) => r.t > START + DAY && r.t < START + 2 * DAY);
    const err = integrationError(day2, 'energy_today_kwh', 'ac_power_kw');
    expect(err).toBeLessThan(0.01);
  });
});

describe('bio island', () => {
  it('keeps the lab below the anteroom below the corridor while the doors are closed', () => {
    const recs = simulate('bsl_laboratory', 4);
    const problems: string[] = [];
    const closed = recs.filter(
      (r, i) =>
        i > 0 &&
        !r.m['door_open'] &&
        !r.m['anteroom_door_open'] &&
        !recs[i - 1]!.m['door_open'] &&
        !recs[i - 1]!.m['anteroom_door_open'],
    );
    for (const r of closed) {
      const lab = num(r, 'room_pressure_pa');
      const ante = num(r, 'anteroom_pressure_pa');
      if (r.m['containment_ok'] && !(lab < ante && ante < 0))
        problems.push(`${r.t}: lab ${lab}, ante ${ante}`);
    }
    expect(problems).toEqual([]);
    expect(
      Math.abs(mean(closed.map((r) => num(r, 'room_pressure_pa'))) - BSL_CASCADE.labSetpointPa),
    ).toBeLessThan(1.5);
    expect(
      Math.abs(
        mean(closed.map((r) => num(r, 'anteroom_pressure_pa'))) - BSL_CASCADE.anteroomSetpointPa,
      ),
    ).toBeLessThan(1.5);
    // doors open for seconds, in working hours, and reduce the pressure difference meanwhile
    const open = recs.filter((r) => r.m['door_open'] === true);
    expect(open.length).toBeGreaterThan(20);
    let run = 0;
    let longest = 0;
    for (const r of recs) {
      run = r.m['door_open'] || r.m['anteroom_door_open'] ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
    expect(longest * 2).toBeLessThanOrEqual(16);
    const diff = (rs: Rec[]) =>
      mean(rs.map((r) => num(r, 'anteroom_pressure_pa') - num(r, 'room_pressure_pa')));
    expect(diff(open)).toBeLessThan(0.6 * diff(closed));
    const doorEvents = recs.flatMap((r) => r.events).filter((e) => e.code === 'DOOR_OPEN');
    expect(doorEvents.length).toBeGreaterThan(20);
    expect(doorEvents.every((e) => e.severity === 'info')).toBe(true);
    // an exhaust fan trip inverts the cascade: critical CASCADE_LOST, containment lost, then restored
    const lost = recs.findIndex((r) => r.events.some((e) => e.code === 'CASCADE_LOST'));
    expect(lost).toBeGreaterThan(0);
    const l = recs[lost]!;
    expect(l.events.find((e) => e.code === 'CASCADE_LOST')?.severity).toBe('critical');
    expect(
      num(l, 'room_pressure_pa') >= num(l, 'anteroom_pressure_pa') ||
        num(l, 'anteroom_pressure_pa') >= 0,
    ).toBe(true);
    expect(l.m['containment_ok']).toBe(false);
    expect(recs.slice(lost).some((r) => r.events.some((e) => e.code === 'CASCADE_RESTORED'))).toBe(
      true,
    );
  });

  it('ultra-low freezer: around −80 °C with defrost cycles every few hours', () => {
    const recs = simulate('ultra_low_freezer', 2);
    const setpoint = num(recs[0]!, 'setpoint_c');
    const starts = recs.flatMap((r, i) =>
      i > 0 && r.m['defrost'] && !recs[i - 1]!.m['defrost'] ? [i] : [],
    );
    expect(starts.length).toBeGreaterThanOrEqual(
      Math.floor(48 / FREEZER_DEFROST.intervalH.max) - 1,
    );
    expect(starts.length).toBeLessThanOrEqual(Math.ceil(48 / FREEZER_DEFROST.intervalH.min) + 1);
    const problems: string[] = [];
    for (const i of starts) {
      let end = i;
      while (end < recs.length && recs[end]!.m['defrost']) end++;
      if (end === recs.length) continue;
      const minutes = ((end - i) * 30) / 60;
      if (
        minutes < FREEZER_DEFROST.durationMin.min - 1 ||
        minutes > FREEZER_DEFROST.durationMin.max + 1
      )
        problems.push(`defrost of ${minutes} min`);
      const before = num(recs[i - 1]!, 'cabinet_temp_c');
      const peak = Math.max(...recs.slice(i, end + 1).map((r) => num(r, 'cabinet_temp_c')));
      if (peak - before < 3) problems.push(`defrost rise only ${peak - before} °C`);
      if (recs.slice(i, end).some((r) => r.m['compressor_on']))
        problems.push('compressor ran during defrost');
    }
    expect(problems).toEqual([]);
    const normal = recs.filter((r) => !r.m['defrost']).map((r) => num(r, 'cabinet_temp_c'));
    expect(Math.abs(mean(normal) - setpoint)).toBeLessThan(2);
    expect(recs.some((r) => r.m['compressor_on']) && recs.some((r) => !r.m['compressor_on'])).toBe(
      true,
    );
  });
});

describe('networks and compute', () => {
  it('5G: evening peak, PRB use and power follow traffic', () => {
    const recs = simulate('base_station_5g', 2).filter(
      (r) => num(r, 'cell_availability_pct') === 100,
    );
    const prb = (a: number, b: number) =>
      mean(inHours(recs, a, b).map((r) => num(r, 'prb_utilisation_dl_pct')));
    expect(prb(20, 22)).toBeGreaterThan(2 * prb(3, 5));
    expect(prb(20, 22)).toBeGreaterThan(prb(10, 12));
    expect(
      corr(
        recs.map((r) => num(r, 'prb_utilisation_dl_pct')),
        recs.map((r) => num(r, 'power_kw')),
      ),
    ).toBeGreaterThan(0.8);
    expect(
      corr(
        recs.map((r) => num(r, 'prb_utilisation_dl_pct')),
        recs.map((r) => num(r, 'connected_ue')),
      ),
    ).toBeGreaterThan(0.9);
  });

  it('AI cluster: IT power follows GPU use, facility power is IT × PUE', () => {
    const recs = simulate('ai_compute_cluster', 2);
    expect(
      corr(
        recs.map((r) => num(r, 'gpu_utilisation_pct')),
        recs.map((r) => num(r, 'it_power_kw')),
      ),
    ).toBeGreaterThan(0.95);
    const bad = recs.filter((r) => {
      const pue = num(r, 'pue');
      const ratio = num(r, 'facility_power_kw') / num(r, 'it_power_kw');
      return (
        pue < AI_CLUSTER_PUE.min - 0.02 ||
        pue > AI_CLUSTER_PUE.max + 0.02 ||
        Math.abs(ratio - pue) > 0.002
      );
    });
    expect(bad).toEqual([]);
  });

  it('edge rack: the PDU feeds carry the IT load', () => {
    const recs = simulate('edge_rack', 1);
    const bad = recs.filter((r) => {
      const kw =
        ((num(r, 'pdu_a_current_a') + num(r, 'pdu_b_current_a')) * 3 * num(r, 'pdu_voltage_v')) /
        1000;
      return kw < num(r, 'it_power_kw') || kw > 1.3 * num(r, 'it_power_kw');
    });
    expect(bad).toEqual([]);
  });
});

describe('buildings and common assets', () => {
  it('HVAC runs in office hours, off at night', () => {
    const recs = simulate('building_hvac', 2);
    expect(
      inHours(recs, 1, 5).every((r) => r.m['mode'] === 'off' && num(r, 'fan_speed_pct') === 0),
    ).toBe(true);
    expect(inHours(recs, 9, 17).filter((r) => r.m['mode'] === 'off' && !r.m['fault']).length).toBe(
      0,
    );
    const co2 = (a: number, b: number) =>
      mean(inHours(recs, a, b).map((r) => num(r, 'return_co2_ppm')));
    expect(co2(14, 16)).toBeGreaterThan(co2(3, 5) + 150);
  });

  it('elevators travel in office hours, regenerate sometimes', () => {
    const recs = simulate('elevator', 2);
    const trips = (a: number, b: number) => {
      let n = 0;
      for (let i = 1; i < recs.length; i++) {
        const h = localHour(recs[i]!.t);
        if (h >= a && h < b) n += num(recs[i]!, 'trips') - num(recs[i - 1]!, 'trips');
      }
      return n / (b - a);
    };
    expect(trips(8, 19)).toBeGreaterThan(5 * trips(1, 6));
    expect(recs.some((r) => num(r, 'power_kw') < 0)).toBe(true);
    expect(recs.filter((r) => r.m['door_open'] && num(r, 'speed_m_s') > 0).length).toBe(0);
  });

  it('street lights: on at night, dimmed after 23:00, off at noon', () => {
    const recs = simulate('street_light', 2);
    const night = inHours(recs, 0, 4);
    expect(night.every((r) => r.m['on'] === true || r.m['fault'] === true)).toBe(true);
    expect(night.every((r) => r.m['fault'] === true || num(r, 'dimming_pct') < 100)).toBe(true);
    expect(inHours(recs, 11, 14).every((r) => r.m['on'] === false && num(r, 'power_w') < 1)).toBe(
      true,
    );
    expect(
      inHours(recs, 20, 23)
        .filter((r) => r.m['on'])
        .every((r) => num(r, 'dimming_pct') === 100),
    ).toBe(true);
  });

  it('EV charger: sessions available → charging → finishing → available; the session energy resets', () => {
    const problems: string[] = [];
    for (const dev of ['ev-1', 'ev-2', 'ev-3']) {
      const recs = simulate('ev_charger', 3, undefined, dev);
      let sessions = 0;
      for (let i = 1; i < recs.length; i++) {
        const from = recs[i - 1]!.m['state'] as EvChargerState;
        const to = recs[i]!.m['state'] as EvChargerState;
        if (from !== to && !EV_CHARGER_TRANSITIONS[from].includes(to))
          problems.push(`${dev}: ${from} → ${to}`);
        const started = recs[i]!.events.filter((e) => e.code === 'SESSION_STARTED').length;
        sessions += started;
        if (num(recs[i]!, 'sessions') - num(recs[i - 1]!, 'sessions') !== started)
          problems.push(`${dev} #${i}: sessions counter`);
        if (started && num(recs[i]!, 'energy_session_kwh') > num(recs[i]!, 'power_kw') * 0.01)
          problems.push(`${dev} #${i}: session energy not reset`);
        if (to !== 'charging' && num(recs[i]!, 'power_kw') > 0)
          problems.push(`${dev} #${i}: power while ${to}`);
      }
      if (sessions < 2) problems.push(`${dev}: only ${sessions} sessions`);
    }
    expect(problems).toEqual([]);
  });

  it('environment: warm afternoons, cool dawns, humidity the other way round', () => {
    const recs = simulate('environment_sensor', 3);
    const avg = (k: string, a: number, b: number) =>
      mean(inHours(recs, a, b).map((r) => num(r, k)));
    expect(avg('temperature_c', 13, 16)).toBeGreaterThan(avg('temperature_c', 4, 7) + 1.5);
    expect(avg('humidity_pct', 4, 7)).toBeGreaterThan(avg('humidity_pct', 13, 16) + 5);
    expect(recs.every((r) => num(r, 'pm10_ug_m3') >= num(r, 'pm2_5_ug_m3'))).toBe(true);
  });

  it('water: more flow by day than at night', () => {
    const recs = simulate('water_meter', 2, undefined, 'wm-1', 'yuzhu');
    const flow = (a: number, b: number) =>
      mean(inHours(recs, a, b).map((r) => num(r, 'flow_m3_h')));
    expect(flow(10, 16)).toBeGreaterThan(3 * flow(1, 5));
  });
});
