export * from './influxd.js';
export * from './ports.js';
