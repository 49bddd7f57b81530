/**
 * Device models of every catalogue asset type: seeded, deterministic physics that the simulator
 * steps in virtual time. `createModel` picks the dedicated model of an asset type (a generic,
 * catalogue-conform one for unknown types).
 */
import { createBslLaboratory, createUltraLowFreezer } from './bio.js';
import { createBuildingHvac, createElevator } from './buildings.js';
import {
  createEnvironmentSensor,
  createEvCharger,
  createStreetLight,
  createWaterMeter,
} from './common.js';
import { createAiComputeCluster, createBaseStation5g, createEdgeRack } from './digital.js';
import { createEnergyMeter, createPvInverter } from './energy.js';
import { createGenericModel } from './generic.js';
import {
  createAgv,
  createAirCompressor,
  createCncMachine,
  createIndustrialRobot,
  createInjectionMoulder,
  createProductionLine,
} from './manufacturing.js';
import type { DeviceModel, ModelContext, ModelFactory } from './model.js';

/** The dedicated model of each catalogue asset type, by asset id. */
export const MODEL_FACTORIES: Readonly<Record<string, ModelFactory>> = {
  production_line: createProductionLine,
  cnc_machine: createCncMachine,
  industrial_robot: createIndustrialRobot,
  injection_moulder: createInjectionMoulder,
  agv: createAgv,
  air_compressor: createAirCompressor,
  pv_inverter: createPvInverter,
  energy_meter: createEnergyMeter,
  ai_compute_cluster: createAiComputeCluster,
  building_hvac: createBuildingHvac,
  elevator: createElevator,
  base_station_5g: createBaseStation5g,
  edge_rack: createEdgeRack,
  bsl_laboratory: createBslLaboratory,
  ultra_low_freezer: createUltraLowFreezer,
  street_light: createStreetLight,
  ev_charger: createEvCharger,
  environment_sensor: createEnvironmentSensor,
  water_meter: createWaterMeter,
};

export function hasDedicatedModel(assetId: string): boolean {
  return Object.hasOwn(MODEL_FACTORIES, assetId);
}

/** The model of a device, starting at `startMs` (epoch ms, virtual time). */
export function createModel(ctx: ModelContext, startMs: number): DeviceModel {
  const factory = hasDedicatedModel(ctx.asset.id) ? MODEL_FACTORIES[ctx.asset.id] : undefined;
  return (factory ?? createGenericModel)(ctx, startMs);
}

export type {
  DeviceModel,
  EventSeverity,
  ModelContext,
  ModelEvent,
  ModelFactory,
  ModelOutput,
} from './model.js';
export { createGenericModel } from './generic.js';
export {
  AGV_STATES,
  FAULT_PRECURSOR_S,
  MACHINE_TRANSITIONS,
  MEAN_RUN_HOURS_BETWEEN_FAULTS,
  MachineCore,
  SHIFTS,
  VIBRATION_LIMITS,
  inShift,
  shiftSlot,
  type AgvState,
  type FaultKind,
  type MachineProfile,
} from './manufacturing.js';
export { TRAFFIC_PROFILE, parkLoadProfile } from './energy.js';
export { AI_CLUSTER_PUE } from './digital.js';
export { HVAC_SCHEDULE, elevatorDemandPerMin, hvacScheduled } from './buildings.js';
export {
  BSL_CASCADE,
  FREEZER_ALARM_ABOVE_SETPOINT_C,
  FREEZER_ALARM_DELAY_S,
  FREEZER_BACKUP_ABOVE_SETPOINT_C,
  FREEZER_DEFROST,
} from './bio.js';
export {
  EV_CHARGER_TRANSITIONS,
  STREET_LIGHT,
  evArrivalsPerHour,
  skyLux,
  waterDemand,
  type EvChargerState,
} from './common.js';
export {
  PARK_SITE,
  ParkWeather,
  clearSkyGhi,
  sunElevationDeg,
  type WeatherSample,
} from './weather.js';
export {
  DAY_MS,
  HOUR_MS,
  LOCAL_UTC_OFFSET_H,
  LOCAL_UTC_OFFSET_MS,
  MINUTE_MS,
  SECOND_MS,
  localDay,
  localHour,
  localWeekday,
  modelDiagnostics,
  officeOccupancy,
} from './util.js';
