export * from './counters/counter-fields.js';
export * from './counters/counter.repository.js';
export * from './ingest/counting.buffer.js';
export * from './ingest/event-batch.validator.js';
export * from './ingest/event-counting.service.js';
export * from './ingest/events.processor.js';
export * from './detection.module.js';
