export * from './queue-contract.js';
export * from './job.producer.js';
export * from './events-queue.sink.js';
export * from './trail-files-queue.sink.js';
export * from './queue.module.js';
export * from './queue-ops.service.js';
export * from './queue-ops.module.js';
