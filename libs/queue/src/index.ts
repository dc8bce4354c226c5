export {
  deliveryJobId,
  JOB_RULES,
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

export { EventPartitions } from './event-partitions.js';
export { EventQueues } from './event-queues.js';
export { EventsQueueSink } from './events-queue.sink.js';
export { JobProducer } from './job.producer.js';
export { WORKER_NAME } from './worker-name.js';
