/**
 * Case queues: creating cases, claiming, transferring, resolving, the SLA sweeper and leases. Every
 * function takes the database handle (`db`) first; nothing here holds global state.
 */
export * from './errors.js';
export * from './lease.js';
export * from './queue.js';
export * from './reference.js';
export * from './sla.js';
