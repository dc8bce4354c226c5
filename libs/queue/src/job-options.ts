import type { DefaultJobOptions } from 'bullmq';

/** Job defaults in one place: retried with backoff, completed jobs trimmed, failed jobs kept. */
export const DEFAULT_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 12,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: 3_600, count: 20_000 },
  removeOnFail: false,
};
