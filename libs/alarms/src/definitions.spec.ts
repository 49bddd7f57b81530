import { ASSET_TYPES } from '@parkpulse/telemetry';
import { describe, expect, it } from 'vitest';
import { ALARM_ID_PATTERN, alarmDefinitions, alarmId } from './definitions.js';

describe('alarm definitions from the catalogue', () => {
  const defs = alarmDefinitions();
  const byId = new Map(defs.map((d) => [d.id, d]));

  it('gives the freezer its catalogue limits, a deadband and delays of one report interval', () => {
    expect(byId.get('ultra_low_freezer.cabinet_temp_c.hi')).toMatchObject({
      source: {
        kind: 'limit',
        metric: 'cabinet_temp_c',
        direction: 'above',
        limit: -75,
        deadband: 1,
      },
      priority: 'medium',
      onDelayMs: 30_000,
      offDelayMs: 30_000,
      latched: false,
    });
    expect(byId.get('ultra_low_freezer.cabinet_temp_c.hihi')).toMatchObject({
      source: { limit: -70, deadband: 1 },
      priority: 'critical',
    });
  });

  it('turns below-limits into lo/lolo', () => {
    expect(byId.get('bsl_laboratory.air_changes_per_h.lolo')?.source).toEqual({
      kind: 'limit',
      metric: 'air_changes_per_h',
      direction: 'below',
      limit: 6,
      deadband: 0.8,
    });
  });

  it('defines one warning and one critical alarm per catalogue threshold', () => {
    const thresholds = ASSET_TYPES.flatMap((a) =>
      Object.entries(a.metrics)
        .filter(([, m]) => m.thresholds)
        .map(([k]) => `${a.id}.${k}`),
    );
    expect(defs.filter((d) => d.source.kind === 'limit')).toHaveLength(thresholds.length * 2);
  });

  it('suppresses by design: no lab pressure alarm during decontamination, no low alarms of a stopped machine', () => {
    expect(byId.get('bsl_laboratory.room_pressure_pa.hihi')?.suppressedWhen).toEqual({
      metric: 'mode',
      values: ['decontamination', 'maintenance'],
    });
    expect(byId.get('cnc_machine.vibration_mm_s.hihi')?.suppressedWhen).toEqual({
      metric: 'state',
      values: ['idle', 'setup', 'maintenance'],
    });
    expect(byId.get('ultra_low_freezer.cabinet_temp_c.hihi')?.suppressedWhen).toBeUndefined();
  });

  it('has event-based alarms: machine fault, critical events, offline; latches containment', () => {
    expect(byId.get('cnc_machine.state.fault')?.source).toEqual({
      kind: 'discrete',
      metric: 'state',
      values: ['fault'],
    });
    expect(byId.get('ev_charger.state.fault')?.source).toMatchObject({ values: ['faulted'] });
    expect(byId.get('cnc_machine.event.critical')?.source).toEqual({
      kind: 'event',
      severity: 'critical',
    });
    expect(byId.get('cnc_machine.offline')).toMatchObject({
      onDelayMs: 120_000,
      priority: 'medium',
    });
    expect(byId.get('bsl_laboratory.containment_ok')).toMatchObject({
      latched: true,
      priority: 'critical',
    });
  });

  it('scales every delay (0: none)', () => {
    const none = alarmDefinitions({ delayScale: 0 });
    expect(none.every((d) => d.onDelayMs === 0 && d.offDelayMs === 0)).toBe(true);
  });

  it('has unique ids, and alarm ids an URL can carry', () => {
    expect(new Set(defs.map((d) => d.id)).size).toBe(defs.length);
    for (const d of defs) expect(alarmId('sc-bio-freezer-0001', d)).toMatch(ALARM_ID_PATTERN);
    expect(defs.every((d) => d.consequence.length > 0 && d.response.length > 0)).toBe(true);
  });
});
