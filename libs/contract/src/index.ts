export * from './schemas.js';
export * from './validator.js';
