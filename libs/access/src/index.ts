export * from './keys.js';
export * from './registry.js';
export * from './acl.js';
export * from './load.js';
