export * from './alerts.js';
export { UID } from './boards/common.js';
export { OEE_PER_LINE } from './boards/science-city.js';
export * from './generate.js';
export * from './grafana/index.js';
export * from './query.js';
