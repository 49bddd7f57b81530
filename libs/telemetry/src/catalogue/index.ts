import { BIO_ISLAND_ASSETS } from './bio-island.js';
import { COMMON_ASSETS } from './common.js';
import { KNOWLEDGE_CITY_ASSETS } from './knowledge-city.js';
import { SCIENCE_CITY_ASSETS } from './science-city.js';
import { type AssetTypeSpec, PARK_IDS, type ParkId, type ParkSpec } from './types.js';
import { YUZHU_ASSETS } from './yuzhu.js';

export * from './types.js';
export { MACHINE_STATES, type MachineState } from './science-city.js';

export const PARKS: readonly ParkSpec[] = [
  {
    id: 'science-city',
    name: 'Science City',
    area: 'Industrial-internet integration demonstration zone',
  },
  { id: 'yuzhu', name: 'Yuzhu', area: 'AI and digital-economy pilot zone' },
  {
    id: 'knowledge-city',
    name: 'Knowledge City',
    area: 'International digital hub for communication networks',
  },
  { id: 'bio-island', name: 'Bio Island', area: 'Biosafety smart island' },
];

/** Every asset type of every park, in catalogue order. */
export const ASSET_TYPES: readonly AssetTypeSpec[] = [
  ...SCIENCE_CITY_ASSETS,
  ...YUZHU_ASSETS,
  ...KNOWLEDGE_CITY_ASSETS,
  ...BIO_ISLAND_ASSETS,
  ...COMMON_ASSETS,
];

const byId = new Map(ASSET_TYPES.map((a) => [a.id, a]));
const parkIds: ReadonlySet<string> = new Set(PARK_IDS);

export function isParkId(value: string): value is ParkId {
  return parkIds.has(value);
}

export function getAssetType(id: string): AssetTypeSpec | undefined {
  return byId.get(id);
}

export function assetTypesOfPark(park: ParkId): AssetTypeSpec[] {
  return ASSET_TYPES.filter((a) => a.parks.includes(park));
}
