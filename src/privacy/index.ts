export * from './audit-chain.js';
export * from './erase.js';
export * from './mask.js';
export * from './retention.js';
export * from './routes.js';
export * from './stats.js';
export * from './transparency.js';
