export * from './definitions.js';
export * from './condition.js';
export * from './state-machine.js';
export * from './kpis.js';
