import { createHash } from 'node:crypto';
import type { DefaultJobOptions, JobsOptions } from 'bullmq';
import type { AppConfig } from '@trailsight/core';
import {
  type AccountRegion,
  DAY_MS,
  HOUR_MS,
  type InsightRecord,
  SECOND_MS,
  type SlimEvent,
  type TrailFileRef,
  trailFileVersion,
} from '@trailsight/domain';

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

export interface EventBatchJob {
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
    /** The finding's new actors when the delivery was enqueued (findings' NewActors); absent on jobs enqueued before. */
    newActors?: {
      userIdentityArn: string[];
      userAgent: string[];
      onAccountRegion?: { userIdentityArn: string[]; userAgent: string[] };
    };
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
/** Any job of any queue. */
export type AnyJobItem = JobItem | WebhookJobItem | EvaluatorJobItem | FileJobItem;

/** Job defaults in one place: retried with backoff, completed jobs trimmed, failed jobs kept. */
export const DEFAULT_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 12,
  backoff: { type: 'exponential', delay: SECOND_MS },
  removeOnComplete: { age: HOUR_MS / SECOND_MS, count: 20_000 },
  removeOnFail: false,
};

/** The job option `backoff.type` that selects the webhooks worker's custom backoff (webhookBackoff). */
const WEBHOOK_BACKOFF_TYPE = 'webhook';

/** What job options may depend on. */
type JobSettings = Pick<AppConfig, 'webhookMaxAttempts' | 'webhookBackoffMs' | 'trailFileMaxAttempts'>;

/** One job name's rules: its queue, its options, and how its deterministic id is computed. */
export interface JobRule<N extends JobName> {
  queue: QueueName;
  options: (settings: JobSettings) => JobsOptions;
  /** BullMQ absorbs a job added again while one of the same id is known: exactly-once rests on these. */
  jobId?: (data: JobOf<N>) => string;
}

/** Per job name: the one table the producer (and the evaluator's job scheduler) reads. */
export const JOB_RULES: { [N in JobName]: JobRule<N> } = {
  [JobName.EventBatch]: {
    queue: QueueName.Events,
    options: () => DEFAULT_JOB_OPTIONS,
    jobId: ({ source, events }) => batchJobId(source, events),
  },
  [JobName.TrailFile]: {
    queue: QueueName.Files,
    // Its last attempt parks a file it cannot read (FilesProcessor): it never stays failed.
    options: (settings) => ({ ...DEFAULT_JOB_OPTIONS, attempts: settings.trailFileMaxAttempts }),
    jobId: ({ file }) => trailFileJobId(file),
  },
  [JobName.WebhookDelivery]: {
    queue: QueueName.Webhooks,
    options: (settings) => ({
      attempts: settings.webhookMaxAttempts,
      backoff: { type: WEBHOOK_BACKOFF_TYPE, delay: settings.webhookBackoffMs },
      removeOnComplete: { age: DAY_MS / SECOND_MS, count: 10_000 },
      // Failed deliveries stay for inspection, bounded: a dead subscriber must not fill Redis.
      removeOnFail: { age: (7 * DAY_MS) / SECOND_MS, count: 10_000 },
    }),
    jobId: ({ deliveryId }) => deliveryJobId(deliveryId),
  },
  [JobName.EvaluateMinutes]: {
    queue: QueueName.Evaluator,
    // Scheduled (a job scheduler adds it): a failed run is simply the next run's work.
    options: () => ({ attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } }),
  },
};

/**
 * A batch's id: a hash of its account-region and event ids, so re-enqueueing the same events (a
 * poller that crashed before saving its checkpoint) is absorbed while the job is known.
 * Deterministic, ':'-free and never all digits, as BullMQ requires of custom ids.
 */
export function batchJobId(source: AccountRegion, events: SlimEvent[]): string {
  const hash = createHash('sha1').update(`${source.accountId}/${source.region}`);
  for (const id of events.map((event) => event.eventId).sort()) hash.update('\n').update(id);
  return `batch-${hash.digest('hex')}`;
}

/**
 * One version of one file: a file listed again (another poll, another replica, a restart) while
 * its job is known is absorbed. A file CloudTrail named has one version (trailFileVersion): its
 * id alone, so a touched, re-synced or moved copy is the same job and the same batch ids. Any
 * other file: a changed one (new etag) is a new job.
 */
export function trailFileJobId(file: Pick<TrailFileRef, 'id' | 'etag'>): string {
  const version = trailFileVersion(file);
  return `file-${createHash('sha1')
    .update(version === '' ? file.id : `${file.id}\n${version}`)
    .digest('hex')}`;
}

/** A webhook delivery's id (X-Trailsight-Delivery, the same on every attempt) as a job id. */
export function deliveryJobId(deliveryId: string): string {
  return `wh-${deliveryId}`;
}
