export * from './queue-contract.js';
export * from './job-options.js';
export * from './redis-connection-options.js';
export * from './events.producer.js';
export * from './queue.module.js';
