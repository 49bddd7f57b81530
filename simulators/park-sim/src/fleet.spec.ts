import { describe, expect, it } from 'vitest';
import { scienceCityFleet } from './fleet.js';

describe('scienceCityFleet', () => {
  it('is stable: the same count gives the same unique device ids', () => {
    const ids = (n: number) =>
      scienceCityFleet(n).map((d) => `${d.site}/${d.asset.id}/${d.deviceId}`);
    expect(ids(120)).toEqual(ids(120));
    expect(new Set(scienceCityFleet(120).map((d) => d.deviceId)).size).toBe(120);
  });

  it('gives exactly the count asked for', () => {
    for (const n of [1, 7, 24, 25, 50, 1000]) expect(scienceCityFleet(n)).toHaveLength(n);
  });

  it('covers the machines, robots and meters of a Science City factory', () => {
    const types = new Set(scienceCityFleet(24).map((d) => d.asset.id));
    for (const t of ['cnc_machine', 'industrial_robot', 'energy_meter', 'production_line'])
      expect(types).toContain(t);
  });
});
