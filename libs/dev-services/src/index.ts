export * from './influxd.js';
export * from './ports.js';
export * from './service.js';
