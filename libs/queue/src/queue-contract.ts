import type { AccountRegion, SlimEvent } from '@trailsight/cloudtrail';

/** Queue names: one typed contract that producers and consumers both import. */
export const QueueName = {
  Events: 'events',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export const JobName = {
  /** A batch of events of one account-region, to be counted exactly once. */
  EventBatch: 'event-batch',
} as const;
export type JobName = (typeof JobName)[keyof typeof JobName];

export interface EventBatchJob {
  name: typeof JobName.EventBatch;
  data: {
    source: AccountRegion;
    /** Where the batch came from, for logs and parked rejects: e.g. "lookup-events", "file:<path>". */
    origin: string;
    events: SlimEvent[];
  };
}

export type JobItem = EventBatchJob;
export type JobOf<N extends JobName> = Extract<JobItem, { name: N }>['data'];
