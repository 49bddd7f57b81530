import { parseScenario } from './scenario.js';
import { scenarioFleet, type FleetDevice } from './generator.js';

/** The mix of a Science City factory: machines, robots, the meters and utilities around them. */
export const SCIENCE_CITY_MIX: Readonly<Record<string, number>> = {
  cnc_machine: 8,
  industrial_robot: 6,
  energy_meter: 3,
  injection_moulder: 2,
  production_line: 1,
  agv: 2,
  air_compressor: 1,
  pv_inverter: 1,
};

const SITES = ['gz-auto-parts', 'smart-electronics', 'precision-moulding', 'robotics-works'];

/**
 * A Science City fleet of `count` devices over four factories, in a fixed order so that the same
 * count always yields the same device ids (for load runs and tests that need no scenario file).
 */
export function scienceCityFleet(count: number): FleetDevice[] {
  const perFactory = Object.values(SCIENCE_CITY_MIX).reduce((a, b) => a + b, 0);
  const fleet = [];
  let left = count;
  for (let f = 0; left > 0; f++) {
    const devices: Record<string, number> = {};
    for (const [type, weight] of Object.entries(SCIENCE_CITY_MIX)) {
      const n = Math.min(left, Math.ceil((weight * Math.min(left, perFactory)) / perFactory));
      if (n > 0) devices[type] = (devices[type] ?? 0) + n;
      left -= n;
      if (left <= 0) break;
    }
    fleet.push({
      park: 'science-city',
      site: `${SITES[f % SITES.length]}${f >= SITES.length ? `-${Math.floor(f / SITES.length) + 1}` : ''}`,
      devices,
    });
  }
  return scenarioFleet(parseScenario({ name: 'science-city-load', fleet }));
}

export type DeviceSpec = FleetDevice;
