export * from './state-machine.js';
export * from './api.js';
