export { EventsProducer } from './events.producer.js';
export {
  type EvaluatorJobItem,
  type FileJobItem,
  type JobItem,
  JobName,
  type JobOf,
  QueueName,
  type WebhookJobItem,
} from './queue-contract.js';
export { QueueOpsModule } from './queue-ops.module.js';
export { QueueModule } from './queue.module.js';
export { bullPrefix, producerConnectionOptions, workerConnectionOptions } from './redis-connection-options.js';
