export * from './queue-contract.js';
export * from './job-options.js';
export * from './redis-connection-options.js';
export * from './events.producer.js';
export * from './files.producer.js';
export * from './queue.module.js';
export * from './queue-ops.service.js';
export * from './queue-ops.module.js';
