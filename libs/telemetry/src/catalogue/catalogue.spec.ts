import { describe, it, expect } from 'vitest';
import { ASSET_TYPES, PARK_IDS, PARKS, assetTypesOfPark, getAssetType } from './index.js';

const NAME = /^[a-z][a-z0-9_]{0,62}$/;
/** Names the contract uses itself (payload keys, InfluxDB's time column). */
const RESERVED = new Set(['ts', 'seq', 'time']);
/** InfluxDB tag keys written with every point: a field of the same name would be ambiguous. */
const TAG_KEYS = new Set(['park', 'site', 'device']);

const metrics = ASSET_TYPES.flatMap((asset) =>
  Object.entries(asset.metrics).map(([name, spec]) => ({ asset: asset.id, name, spec })),
);

describe('asset catalogue', () => {
  it('has unique snake_case asset type ids', () => {
    const ids = ASSET_TYPES.map((a) => a.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id, id).toMatch(NAME);
  });

  it('gives every asset type a name, known parks and a realistic report interval', () => {
    for (const asset of ASSET_TYPES) {
      expect(asset.name.length, asset.id).toBeGreaterThan(0);
      expect(asset.parks.length, asset.id).toBeGreaterThan(0);
      expect(new Set(asset.parks).size, asset.id).toBe(asset.parks.length);
      for (const park of asset.parks) expect(PARK_IDS, asset.id).toContain(park);
      expect(asset.reportIntervalS, asset.id).toBeGreaterThanOrEqual(1);
      expect(asset.reportIntervalS, asset.id).toBeLessThanOrEqual(60);
      expect(Object.keys(asset.metrics).length, asset.id).toBeGreaterThan(0);
    }
  });

  it('uses valid, non-reserved metric names', () => {
    for (const { asset, name } of metrics) {
      expect(name, `${asset}.${name}`).toMatch(NAME);
      expect(RESERVED.has(name), `${asset}.${name} is reserved`).toBe(false);
      expect(TAG_KEYS.has(name), `${asset}.${name} clashes with a tag key`).toBe(false);
    }
  });

  it('describes every metric', () => {
    for (const { asset, name, spec } of metrics) {
      expect(spec.description.trim().length, `${asset}.${name}`).toBeGreaterThan(0);
    }
  });

  it('gives numeric metrics a unit and finite, ordered bounds', () => {
    for (const { asset, name, spec } of metrics) {
      if (spec.kind !== 'gauge' && spec.kind !== 'counter') continue;
      const label = `${asset}.${name}`;
      expect(spec.unit.length, label).toBeGreaterThan(0);
      for (const bound of [spec.min, spec.max]) {
        if (bound !== undefined) expect(Number.isFinite(bound), label).toBe(true);
      }
      if (spec.min !== undefined && spec.max !== undefined)
        expect(spec.min, label).toBeLessThan(spec.max);
      if (spec.kind === 'gauge') {
        expect(spec.min, `${label} min`).toBeDefined();
        expect(spec.max, `${label} max`).toBeDefined();
      } else {
        expect(spec.min, `${label} counter min`).toBe(0);
        expect(spec.max, `${label} counter max`).toBeUndefined();
      }
      expect(spec.values, label).toBeUndefined();
    }
  });

  it('puts thresholds only on gauges, inside the physical range, warning before critical', () => {
    let seen = 0;
    for (const { asset, name, spec } of metrics) {
      const t = spec.thresholds;
      if (!t) continue;
      seen++;
      const label = `${asset}.${name}`;
      expect(spec.kind, label).toBe('gauge');
      for (const v of [t.warning, t.critical]) {
        expect(v, label).toBeGreaterThanOrEqual(spec.min ?? -Infinity);
        expect(v, label).toBeLessThanOrEqual(spec.max ?? Infinity);
      }
      if (t.direction === 'below') expect(t.warning, label).toBeGreaterThan(t.critical);
      else expect(t.warning, label).toBeLessThan(t.critical);
    }
    expect(seen).toBeGreaterThanOrEqual(10);
  });

  it('gives enums at least two distinct values', () => {
    for (const { asset, name, spec } of metrics) {
      if (spec.kind !== 'enum') continue;
      const values = spec.values ?? [];
      expect(values.length, `${asset}.${name}`).toBeGreaterThanOrEqual(2);
      expect(new Set(values).size, `${asset}.${name}`).toBe(values.length);
    }
  });

  it('lists every park with at least 3 asset types', () => {
    expect(PARKS.map((p) => p.id)).toEqual([...PARK_IDS]);
    for (const park of PARK_IDS)
      expect(assetTypesOfPark(park).length, park).toBeGreaterThanOrEqual(3);
  });

  it('has energy_meter in all four parks with its six metrics', () => {
    const meter = getAssetType('energy_meter');
    expect(meter).toBeDefined();
    expect([...(meter?.parks ?? [])].sort()).toEqual([...PARK_IDS].sort());
    expect(Object.keys(meter?.metrics ?? {}).sort()).toEqual([
      'active_power_kw',
      'current_a',
      'energy_kwh',
      'frequency_hz',
      'power_factor',
      'voltage_v',
    ]);
    expect(meter?.metrics['active_power_kw']).toMatchObject({
      kind: 'gauge',
      unit: 'kwatt',
      min: 0,
      max: 20000,
    });
    expect(meter?.metrics['energy_kwh']).toMatchObject({ kind: 'counter', unit: 'kwatth', min: 0 });
    expect(meter?.metrics['voltage_v']).toMatchObject({
      kind: 'gauge',
      unit: 'volt',
      min: 0,
      max: 40000,
    });
    expect(meter?.metrics['current_a']).toMatchObject({
      kind: 'gauge',
      unit: 'amp',
      min: 0,
      max: 10000,
    });
    expect(meter?.metrics['power_factor']).toMatchObject({
      kind: 'gauge',
      unit: 'none',
      min: -1,
      max: 1,
    });
    expect(meter?.metrics['frequency_hz']).toMatchObject({
      kind: 'gauge',
      unit: 'hertz',
      min: 45,
      max: 65,
    });
  });

  it('has the Science City manufacturing assets', () => {
    const ids = assetTypesOfPark('science-city').map((a) => a.id);
    for (const id of [
      'cnc_machine',
      'industrial_robot',
      'production_line',
      'injection_moulder',
      'agv',
      'air_compressor',
      'pv_inverter',
    ]) {
      expect(ids, id).toContain(id);
    }
  });

  it('has the assets of the other parks', () => {
    const expected: Record<string, string[]> = {
      yuzhu: ['ai_compute_cluster', 'building_hvac', 'elevator'],
      'knowledge-city': ['base_station_5g', 'edge_rack'],
      'bio-island': ['bsl_laboratory', 'ultra_low_freezer'],
    };
    for (const [park, assets] of Object.entries(expected)) {
      const ids = ASSET_TYPES.filter((a) => a.parks.some((p) => p === park)).map((a) => a.id);
      for (const id of assets) expect(ids, `${park}: ${id}`).toContain(id);
    }
    for (const id of ['street_light', 'ev_charger', 'environment_sensor', 'water_meter']) {
      expect([...(getAssetType(id)?.parks ?? [])].sort(), id).toEqual([...PARK_IDS].sort());
    }
  });

  it('keeps an ultra-low freezer cabinet at −80 °C within its bounds', () => {
    const cabinet = getAssetType('ultra_low_freezer')?.metrics['cabinet_temp_c'];
    expect(cabinet?.min).toBeLessThan(-80);
    expect(cabinet?.max).toBeGreaterThan(-80);
    const room = getAssetType('bsl_laboratory')?.metrics['room_pressure_pa'];
    expect(room?.min).toBeLessThanOrEqual(-60);
  });
});
