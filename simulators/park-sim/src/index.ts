export {
  SimDevice,
  type ConnectionFaults,
  type DeviceAddress,
  type DeviceCounters,
} from './device.js';
export * from './conform/clauses.js';
export { conform, type ConformOptions, type ConformReport } from './conform/conform.js';
export { renderReport } from './conform/render.js';
export {
  ContractDevice,
  DEVICE_FAULTS,
  type DeviceFault,
  type DeviceRunOptions,
} from './modes/device.js';
export { SCIENCE_CITY_MIX, scienceCityFleet, type DeviceSpec } from './fleet.js';
export {
  FleetGenerator,
  scenarioFleet,
  wirePayload,
  type FleetDevice,
  type SimMessage,
} from './generator.js';
export { backfill, type BackfillOptions, type BackfillResult } from './modes/backfill.js';
export { runLoad, type LoadOptions, type SentSample } from './modes/load.js';
export { record, type RecordOptions } from './modes/record.js';
export { replay, restamp, type ReplayOptions } from './modes/replay.js';
export { runScenario, type RunOptions } from './modes/run.js';
export { readRecording, type RecordedMessage } from './recording.js';
export { summarise, type RunReport } from './report.js';
export { createRng, hashString } from './rng.js';
export {
  SCENARIO_DIR,
  loadScenario,
  parseDuration,
  parseScenario,
  type Fault,
  type Scenario,
} from './scenario.js';
export { countStored, judge, type Verdict } from './verdict.js';
export {
  EdgeNodeSession,
  sparkplugMetricName,
  type EdgeNodeMessage,
  type EdgeNodeOptions,
} from './sparkplug/edge-node.js';
export {
  gatewayRegistryNodes,
  scenarioGateways,
  SparkplugGateway,
  type GatewayCounters,
  type GatewaySpec,
} from './sparkplug/gateway.js';
