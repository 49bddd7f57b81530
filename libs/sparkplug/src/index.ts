export * from './mapping.js';
export * from './messages.js';
export * from './host.js';
