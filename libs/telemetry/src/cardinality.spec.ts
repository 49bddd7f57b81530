import { describe, expect, it } from 'vitest';
import { CardinalityGuard, DEFAULT_CARDINALITY_LIMITS } from './cardinality.js';
import type { TelemetryMessage } from './model.js';
import { parseTopic } from './topic.js';

function message(site: string, device: string, fields: Record<string, number>): TelemetryMessage {
  const topic = parseTopic(`parks/science-city/${site}/cnc_machine/${device}/telemetry`);
  if (!topic.ok) throw topic.error;
  return { topic: topic.value, samples: [{ ts: 1, fields }], dropped: [] };
}

describe('CardinalityGuard', () => {
  const limits = { maxExtraMetricsPerAssetType: 2, maxSitesPerPark: 2, maxDevicesPerPark: 3 };

  it('passes catalogue metrics whatever their number', () => {
    const guard = new CardinalityGuard(limits);
    const m = message('f1', 'd1', { spindle_rpm: 1, temperature_c: 2, power_kw: 3 });
    expect(guard.check(m)).toEqual({ ok: true, value: m });
  });

  it('drops metric names outside the catalogue beyond the bound, keeps those admitted', () => {
    const guard = new CardinalityGuard(limits);
    expect(guard.check(message('f1', 'd1', { x1: 1, x2: 2 })).ok).toBe(true);
    const third = guard.check(message('f1', 'd2', { x1: 1, x3: 3, spindle_rpm: 5 }));
    expect(third.ok && third.value.samples).toEqual([{ ts: 1, fields: { x1: 1, spindle_rpm: 5 } }]);
    expect(third.ok && third.value.dropped).toEqual([
      {
        metric: 'x3',
        reason: 'cardinality_exceeded',
        detail: 'cnc_machine has 2 metrics outside the catalogue, at most 2',
      },
    ]);
    const only = guard.check(message('f1', 'd1', { x4: 1 }));
    expect(!only.ok && only.error.reason).toBe('cardinality_exceeded');
    expect(guard.figures().extraMetrics).toEqual({ cnc_machine: 2 });
  });

  it('refuses a new site or device beyond its park’s bound, keeps known ones', () => {
    const guard = new CardinalityGuard(limits);
    expect(guard.check(message('f1', 'd1', { spindle_rpm: 1 })).ok).toBe(true);
    expect(guard.check(message('f2', 'd2', { spindle_rpm: 1 })).ok).toBe(true);
    const site = guard.check(message('f3', 'd3', { spindle_rpm: 1 }));
    expect(!site.ok && site.error.message).toBe(
      'cardinality_exceeded: park science-city has 2 sites, at most 2',
    );
    expect(guard.check(message('f2', 'd3', { spindle_rpm: 1 })).ok).toBe(true);
    const device = guard.check(message('f1', 'd4', { spindle_rpm: 1 }));
    expect(!device.ok && device.error.detail).toBe('park science-city has 3 devices, at most 3');
    expect(guard.check(message('f1', 'd1', { spindle_rpm: 2 })).ok).toBe(true);
    expect(guard.figures()).toMatchObject({
      sites: { 'science-city': 2 },
      devices: { 'science-city': 3 },
    });
  });

  it('has documented defaults', () => {
    expect(DEFAULT_CARDINALITY_LIMITS).toEqual({
      maxExtraMetricsPerAssetType: 64,
      maxSitesPerPark: 256,
      maxDevicesPerPark: 50_000,
    });
  });
});
