export * from './config.js';
export * from './lines.js';
export * from './mapping.js';
export * from './schema.js';
export * from './store.js';
export { V1CompatTransport, toV1Path } from './v1-transport.js';
