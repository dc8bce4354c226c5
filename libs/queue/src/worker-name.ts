import { hostname } from 'node:os';

/**
 * Every BullMQ worker of this process is named `<host>:<pid>`: replicas of one app are told apart
 * in the workers BullMQ lists (`Queue.getWorkers()`) and in each job's `processedBy`.
 */
export const WORKER_NAME = `${hostname()}:${process.pid}`;
