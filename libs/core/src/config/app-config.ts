import type { InsightsEventCategory } from '@trailsight/domain';

/**
 * The whole configuration, read from the environment once at boot (see config.loader.ts).
 * Nothing else in the code base reads process.env.
 */
export type CloudTrailSourceKind = 'simulator' | 'aws' | 'files' | 's3' | 'sqs';
export type LogFormat = 'json' | 'pretty';
export type LogLevel = 'error' | 'warn' | 'log' | 'debug' | 'verbose';

export interface ApiKeyEntry {
  key: string;
  scope: 'read' | 'admin';
}

export interface AwsAccountEntry {
  accountId: string;
  /** Role to assume for this account; absent means the default credentials' own account. */
  roleArn?: string;
}

export interface AppConfig {
  redisUrl: string;
  /** Prefix of every Redis key and BullMQ queue this deployment owns. */
  redisPrefix: string;
  port: number;
  apiKeys: ApiKeyEntry[];
  /** Requests one API key may make per rate-limit window, across every replica; 0 turns limiting off. */
  apiRateLimit: number;
  /** Length of the rate-limit window (sliding), in seconds. */
  apiRateWindowSeconds: number;
  logLevel: LogLevel;
  logFormat: LogFormat;

  source: CloudTrailSourceKind;
  regions: string[];
  accounts: AwsAccountEntry[];
  /** Overrides the LookupEvents endpoint of the real SDK client (simulator, or a proxy). */
  cloudTrailEndpoint?: string;
  trailDir?: string;
  /** Bucket of the trail files (`s3`; for `sqs`, the bucket back-filled before notifications are read). */
  s3Bucket?: string;
  /** Key prefix before `AWSLogs/` in the bucket (the trail's S3 key prefix), '' for none. */
  s3Prefix: string;
  /** Overrides the S3 endpoint (an S3-compatible server); path-style addressing is used then. */
  s3Endpoint?: string;
  /** Region of the bucket's (and the queue's) SDK clients. */
  s3Region: string;
  /** SQS queue receiving CloudTrail's SNS notifications or S3 event notifications (`sqs`). */
  sqsQueueUrl?: string;
  /** Overrides the SQS endpoint (an SQS-compatible server). */
  sqsEndpoint?: string;
  /** Trail files one detector process reads at once (the files queue's concurrency). */
  fileWorkers: number;
  /** How late a trail file may arrive after its delivery time: the watermark of file sources. */
  trailFileLatenessMinutes: number;

  simulatorPort: number;
  /** Requests per second per account-region the simulated account allows before throttling. */
  simulatorRateLimit: number;
  /** Events per minute per account-region the simulator generates at its busiest hour. */
  simulatorEventsPerMinute: number;
  simulatorSeed: number;

  /** LookupEvents requests per second per account-region, shared by every poller replica. */
  lookupEventsRate: number;
  pollIntervalSeconds: number;
  /** How far back each live poll re-reads, to catch events that became visible late. */
  pollOverlapMinutes: number;
  backfillDays: number;
  /** Events per queued batch. */
  batchSize: number;

  /** Deliver webhooks to loopback, private, link-local and metadata addresses (tests, closed networks). */
  webhookAllowPrivate: boolean;
  /** Per-attempt limit of one webhook POST: connect, request and response. */
  webhookTimeoutMs: number;
  /** Attempts per webhook delivery (first try included) before it counts as failed. */
  webhookMaxAttempts: number;
  /** First retry delay; each later one doubles (with jitter), capped at an hour. */
  webhookBackoffMs: number;
  /** Concurrent deliveries per detector process: a hanging subscriber holds one slot, not the queue. */
  webhookConcurrency: number;
  /** Consecutive failed deliveries (attempts exhausted) after which a subscription is disabled. */
  webhookDisableAfter: number;
  /** Delivery attempts kept per subscription for GET /v1/webhooks/{id}/deliveries. */
  webhookLogSize: number;

  detectorConcurrency: number;
  /** Per-minute counters live this long: the longest baseline window plus a margin. */
  counterRetentionMinutes: number;
  /** How long an eventID is remembered for deduplication after it was first counted. */
  dedupeWindowMinutes: number;

  /**
   * The event categories analysed: always Management; Data adds data events in series of their
   * own. Events of other categories are skipped before counting (and counted as skipped).
   */
  insightsEventCategories: InsightsEventCategory[];
  /** Detector sensitivity, 1 (fewest insights) to 10 (most). */
  detectorSensitivity: number;
  /** Smallest volume (events per minute) an insight can be about. */
  detectorMinVolume: number;
  /** Normal minutes in a row that end an insight. */
  detectorEndAfterMinutes: number;
  /** Whether drops (a busy API going quiet) are insights. */
  detectorDrops: boolean;
  /** Per-API tuning: `{"ec2.amazonaws.com:RunInstances": {"sensitivity": 3}, "s3.amazonaws.com:*": {...}}`. */
  detectorOverrides: Record<string, Record<string, number | boolean>>;
  /** How long after a minute ends (at the source's checkpoint) it is evaluated: room for late events. */
  evaluationLatenessSeconds: number;
  /** How often the evaluator looks for newly closed minutes. */
  evaluationIntervalSeconds: number;
  /** /health reports the evaluator down when an account-region's evaluation is further behind than this and not advancing. */
  evaluationMaxLagSeconds: number;
  /** Findings (and their series) are kept this long. */
  findingsRetentionDays: number;
}
