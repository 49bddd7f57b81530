import { getAssetType, type ParkId } from '@parkpulse/telemetry';
import { describe, expect, it } from 'vitest';
import { withCommands } from './commands.js';
import { createModel } from './index.js';

const T0 = Date.UTC(2025, 10, 24, 2, 0, 0); // 10:00 local: shifts running, daylight
const model = (assetType: string, park: ParkId, deviceId = 'dev-1') =>
  withCommands(
    createModel({ deviceId, asset: getAssetType(assetType)!, park, site: 'site-1', seed: 7 }, T0),
    assetType,
  );

describe('simulated devices obey commands', () => {
  it('a stopped CNC machine goes idle, draws little power and makes no parts; start resumes', () => {
    const cnc = model('cnc_machine', 'science-city');
    let t = T0;
    for (; t < T0 + 3_600_000; t += 1000) if (cnc.step(t).metrics['state'] === 'running') break;
    const before = cnc.step((t += 1000)).metrics;
    expect(before['state']).toBe('running');
    expect(cnc.command('stop', {}, t)).toMatchObject({ status: 'done', result: { state: 'idle' } });
    const stopped = cnc.step((t += 60_000)).metrics;
    expect(stopped).toMatchObject({ state: 'idle', spindle_rpm: 0 });
    expect(stopped['power_kw']).toBeLessThanOrEqual(1.8);
    const parts = stopped['part_count'];
    expect(cnc.step((t += 600_000)).metrics['part_count']).toBe(parts);
    expect(cnc.command('start', {}, t).status).toBe('done');
    expect(cnc.step((t += 1000)).metrics['state']).not.toBe('idle');
    expect(cnc.step((t += 3_600_000)).metrics['part_count']).toBeGreaterThanOrEqual(
      parts as number,
    );
  });

  it('a dimmed street light draws power in proportion', () => {
    const light = model('street_light', 'yuzhu');
    light.command('switch', { on: true }, T0);
    const full = light.step(T0 + 1000).metrics;
    expect(full['on']).toBe(true);
    expect(light.command('dim', { level_pct: 30 }, T0 + 1000)).toMatchObject({ status: 'done' });
    const dimmed = light.step(T0 + 2000).metrics;
    expect(dimmed['dimming_pct']).toBe(30);
    const ratedW = (full['power_w'] as number) / ((full['dimming_pct'] as number) / 100);
    expect(dimmed['power_w']).toBeCloseTo(ratedW * 0.3, 0);
  });

  it('a new HVAC setpoint pulls the supply air towards it over minutes', () => {
    const ahu = model('building_hvac', 'yuzhu');
    const before = ahu.step(T0).metrics;
    ahu.command('set_supply_setpoint', { setpoint_c: 12 }, T0);
    const soon = ahu.step(T0 + 15_000).metrics;
    const later = ahu.step(T0 + 900_000).metrics;
    expect(soon['supply_air_setpoint_c']).toBe(12);
    const gap = (m: typeof soon) => Math.abs((m['supply_air_temp_c'] as number) - 12);
    expect(gap(later)).toBeLessThan(gap(before));
    expect(gap(later)).toBeLessThan(1.5);
  });

  it('refuses out-of-range parameters and commands the state does not allow', () => {
    expect(
      model('building_hvac', 'yuzhu').command('set_supply_setpoint', { setpoint_c: 40 }, T0),
    ).toMatchObject({
      status: 'rejected',
      reason: 'param_out_of_range',
    });
    expect(model('cnc_machine', 'science-city').command('explode', {}, T0)).toMatchObject({
      status: 'rejected',
      reason: 'unknown_command',
    });
    const lab = model('bsl_laboratory', 'bio-island');
    lab.step(T0);
    expect(lab.command('end_decontamination', {}, T0)).toMatchObject({
      status: 'rejected',
      reason: 'wrong_state',
    });
    const ev = model('ev_charger', 'yuzhu');
    let t = T0;
    for (; t < T0 + 86_400_000; t += 10_000) if (ev.step(t).metrics['state'] === 'available') break;
    expect(ev.command('stop_session', {}, t)).toMatchObject({
      status: 'rejected',
      reason: 'not_charging',
    });
  });
});
