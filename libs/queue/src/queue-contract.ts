import type { AccountRegion, InsightRecord, SlimEvent, TrailFileRef } from '@trailsight/domain';

/** Queue names: one typed contract that producers and consumers both import. */
export const QueueName = {
  Events: 'events',
  /** Webhook deliveries: one job per (subscription, Insights record). */
  Webhooks: 'webhooks',
  /** The per-minute evaluation, fed by a job scheduler: one run at a time cluster-wide. */
  Evaluator: 'evaluator',
  /** Trail files (directory or S3): one job per file version, streamed and counted by one worker. */
  Files: 'files',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export const JobName = {
  /** A batch of events of one account-region, to be counted exactly once. */
  EventBatch: 'event-batch',
  /** One Insights record to one webhook subscriber, signed, retried with backoff. */
  WebhookDelivery: 'webhook-delivery',
  /** Evaluate every closed minute not yet evaluated, for every account-region. */
  EvaluateMinutes: 'evaluate-minutes',
  /** One trail file: read in a stream and counted, exactly once per file key + etag. */
  TrailFile: 'trail-file',
} as const;
export type JobName = (typeof JobName)[keyof typeof JobName];

interface EventBatchJob {
  name: typeof JobName.EventBatch;
  data: {
    source: AccountRegion;
    /** Where the batch came from, for logs and parked rejects: e.g. "lookup-events", "file:<path>". */
    origin: string;
    events: SlimEvent[];
  };
}

/** What a webhook delivery carries; the secret is read from the subscription, never stored in the job. */
interface WebhookDeliveryJob {
  name: typeof JobName.WebhookDelivery;
  data: {
    subscriptionId: string;
    /** X-Trailsight-Delivery: derived from (subscription, record eventID), the same on every attempt. */
    deliveryId: string;
    event: 'insight.start' | 'insight.end';
    record: InsightRecord;
  };
}

interface EvaluateMinutesJob {
  name: typeof JobName.EvaluateMinutes;
  data: Record<string, never>;
}

interface TrailFileJob {
  name: typeof JobName.TrailFile;
  data: { file: TrailFileRef };
}

/** Jobs of the events queue (its processor switches over exactly these). */
export type JobItem = EventBatchJob;
/** Jobs of the webhooks queue. */
export type WebhookJobItem = WebhookDeliveryJob;
/** Jobs of the evaluator queue. */
export type EvaluatorJobItem = EvaluateMinutesJob;
/** Jobs of the files queue. */
export type FileJobItem = TrailFileJob;
export type JobOf<N extends JobName> = Extract<
  JobItem | WebhookJobItem | EvaluatorJobItem | FileJobItem,
  { name: N }
>['data'];
