export * from './influxd.js';
export * from './ports.js';
export * from './service.js';
export * from './pipeline-services.js';
export * from './credentials.js';
export * from './redis.js';
export * from './postgres.js';
