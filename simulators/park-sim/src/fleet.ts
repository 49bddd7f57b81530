import { getAssetType, type AssetTypeSpec, type ParkId } from '@parkpulse/telemetry';

export interface DeviceSpec {
  readonly park: ParkId;
  readonly site: string;
  readonly asset: AssetTypeSpec;
  readonly deviceId: string;
}

/** The mix of a Science City factory: machines, robots, the meters and utilities around them. */
const SCIENCE_CITY_MIX: readonly [assetType: string, weight: number][] = [
  ['cnc_machine', 8],
  ['industrial_robot', 6],
  ['energy_meter', 3],
  ['injection_moulder', 2],
  ['production_line', 1],
  ['agv', 2],
  ['air_compressor', 1],
  ['pv_inverter', 1],
];

const SITES = ['gz-auto-parts', 'smart-electronics', 'precision-moulding', 'robotics-works'];

/**
 * A Science City fleet of `count` devices spread over its factories, in a fixed order so that
 * the same count always yields the same device ids.
 */
export function scienceCityFleet(count: number, sites = SITES): DeviceSpec[] {
  const bag: AssetTypeSpec[] = [];
  for (const [id, weight] of SCIENCE_CITY_MIX) {
    const asset = getAssetType(id);
    if (!asset) throw new Error(`asset type ${id} missing from the catalogue`);
    for (let i = 0; i < weight; i++) bag.push(asset);
  }
  const perType = new Map<string, number>();
  const devices: DeviceSpec[] = [];
  for (let i = 0; i < count; i++) {
    const asset = bag[i % bag.length]!;
    const site = sites[Math.floor(i / bag.length) % sites.length]!;
    const n = (perType.get(asset.id) ?? 0) + 1;
    perType.set(asset.id, n);
    devices.push({
      park: 'science-city',
      site,
      asset,
      deviceId: `sc-${asset.id.replace(/_/g, '-')}-${String(n).padStart(4, '0')}`,
    });
  }
  return devices;
}
