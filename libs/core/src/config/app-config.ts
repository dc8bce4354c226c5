import type { InsightsEventCategory, TuningSettings } from '@trailsight/domain';

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

/** A bucket SQS notifications may name, and the key prefix its files must sit under ('' for any key). */
export interface AllowedBucket {
  bucket: string;
  prefix: string;
}

/**
 * Default of TRAIL_FILE_MAX_BYTES (decompressed). CloudTrail writes one file per account-region
 * about every 5 minutes, with records of at most 256 KB; real files are KBs to a few MB, and
 * 128 MiB holds some 100,000 events (over 300 a second for 5 minutes in one account-region).
 * Formats other than `{"Records":[...]}` are held whole to be parsed, so this also bounds a
 * worker's memory: FILE_WORKERS (2) such files at once stay well under 512 MB.
 */
export const DEFAULT_TRAIL_FILE_MAX_BYTES = 128 * 1024 * 1024;

export interface AwsAccountEntry {
  accountId: string;
  /** Role to assume for this account; absent means the default credentials' own account. */
  roleArn?: string;
}

/** A Redis Cluster seed node. */
export interface ClusterNode {
  host: string;
  port: number;
}

export interface AppConfig {
  /** redis:// or rediss:// (TLS), with credentials when Redis wants them: redis://user:password@host:port/db. */
  redisUrl: string;
  /** PEM CA bundle that signed a rediss:// server's certificate (else the system's CAs). */
  redisTlsCaFile?: string;
  /**
   * REDIS_CLUSTER_NODES: seed `host:port`s of a Redis Cluster. Set, every process connects to the
   * cluster (credentials and TLS from REDIS_URL, whose host and port are then unused); empty, to REDIS_URL.
   */
  redisClusterNodes: ClusterNode[];
  /** EVENT_QUEUE_PARTITIONS: the events queue split in this many queues (1: the one `events` queue). */
  eventQueuePartitions: number;
  /**
   * REDIS_WAIT_TIMEOUT_MS: how long a write that must survive a failover (counts with their
   * done-markers, checkpoints, enqueues, findings) waits for a replica's acknowledgement; 0: never waits.
   */
  redisWaitTimeoutMs: number;
  /**
   * SECRETS_KEY: 32 bytes that encrypt webhook secrets at rest (AES-256-GCM). Absent: secrets are
   * stored in plaintext and every process that handles them warns at boot.
   */
  secretsKey?: Buffer;
  /** Prefix of every Redis key and BullMQ queue this deployment owns. */
  redisPrefix: string;
  port: number;
  apiKeys: ApiKeyEntry[];
  /** Requests one API key may make per rate-limit window, across every replica; 0 turns limiting off. */
  apiRateLimit: number;
  /** Length of the rate-limit window (sliding), in seconds. */
  apiRateWindowSeconds: number;
  /** Unknown keys one client address may present per minute before 429 (in process); 0 turns it off. */
  apiAuthFailureLimit: number;
  /** Where the first start (without API_KEYS) writes the admin key it creates, mode 0600. */
  adminKeyFile: string;
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
  /**
   * Buckets (and key prefixes) SQS notifications may name besides S3_BUCKET under S3_PREFIX: a
   * notification naming anything else is refused (parked as `not-allowed`), never read with our
   * credentials.
   */
  sqsAllowedBuckets: AllowedBucket[];
  /** Largest decompressed trail file read; past it the file is one `too-large` reject, not retried. */
  trailFileMaxBytes: number;
  /** Trail files one detector process reads at once (the files queue's concurrency). */
  fileWorkers: number;
  /** How late a trail file may arrive after its delivery time: the watermark of file sources. */
  trailFileLatenessMinutes: number;
  /** Attempts to read one trail file before it is parked (an `unreadable-file` reject). */
  trailFileMaxAttempts: number;

  simulatorPort: number;
  /** Requests per second per account-region the simulated account allows before throttling. */
  simulatorRateLimit: number;
  /** Events per minute per account-region the simulator generates at its busiest hour. */
  simulatorEventsPerMinute: number;
  simulatorSeed: number;
  /** SIMULATOR_CONTROL: who may call the simulator's control routes, `loopback` callers only or `any`. */
  simulatorControl: 'loopback' | 'any';

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
  /**
   * Ports a webhook URL may name: `any`, or a list. Default 80 and 443; `any` when
   * webhookAllowPrivate is on (a closed network's receivers listen where they like).
   */
  webhookAllowedPorts: readonly number[] | 'any';
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
  /**
   * Catch-up rule: an insight whose Start is older than this when it is found (back-filled
   * history, after an outage) is stored and shown but not delivered; nor is its End.
   */
  webhookMaxInsightAgeMinutes: number;
  /** After POST /v1/webhooks/{id}/rotate-secret, deliveries are signed with the old secret as well for this long. */
  webhookSecretGraceHours: number;
  /** Base URL where people reach this API (links in Slack, Teams and PagerDuty messages). */
  publicUrl?: string;
  /** S3 output of Insights records in AWS's layout (off without a bucket); reuses S3_ENDPOINT and S3_REGION. */
  insightsS3Bucket?: string;
  /** Key prefix before `AWSLogs/` of the S3 output, '' for none. */
  insightsS3Prefix: string;
  /** How often the S3 output writes what is pending, one object per account-region. */
  insightsS3FlushSeconds: number;
  /** EventBridge output: the bus name or ARN PutEvents sends to (off when absent). */
  insightsEventBridgeBus?: string;
  /** Overrides the EventBridge endpoint (tests, VPC endpoints). */
  insightsEventBridgeEndpoint?: string;
  insightsEventBridgeRegion: string;
  /** How often the EventBridge output sends what is pending. */
  insightsEventBridgeFlushSeconds: number;

  detectorConcurrency: number;
  /** Per-minute counters live this long: the longest baseline window plus a margin. */
  counterRetentionMinutes: number;
  /** How long an eventID is remembered for deduplication after it was first counted. */
  dedupeWindowMinutes: number;
  /** How long a minute's example events are kept for an insight that starts; 0 keeps none. */
  eventSamplesMinutes: number;

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
  detectorOverrides: Record<string, TuningSettings>;
  /** How long after a minute ends (at the source's checkpoint) it is evaluated: room for late events. */
  evaluationLatenessSeconds: number;
  /** How often the evaluator looks for newly closed minutes. */
  evaluationIntervalSeconds: number;
  /** /health reports the evaluator down when an account-region's evaluation is further behind than this and not advancing. */
  evaluationMaxLagSeconds: number;
  /** Findings (and their series) are kept this long. */
  findingsRetentionDays: number;
}
