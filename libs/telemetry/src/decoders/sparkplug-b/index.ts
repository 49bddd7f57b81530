export * from './payload.js';
export * from './values.js';
export * from './names.js';
export * from './topic.js';
export * from './sparkplug-b.decoder.js';
