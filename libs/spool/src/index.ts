export * from './lock.js';
export * from './record.js';
export * from './spool.js';
