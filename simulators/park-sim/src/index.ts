export { SimDevice, type SentMessage } from './device.js';
export { scienceCityFleet, type DeviceSpec } from './fleet.js';
export { createRng, hashString } from './rng.js';
export { runFleet, type RunOptions, type RunReport } from './run.js';
export { SignalModel } from './signals.js';
