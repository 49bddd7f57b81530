export * from './batch.js';
export * from './link.js';
export * from './partition.js';
export * from './ordered-acks.js';
export * from './session.js';
