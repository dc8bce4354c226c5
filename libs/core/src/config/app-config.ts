/**
 * The whole configuration, read from the environment once at boot (see config.loader.ts).
 * Nothing else in the code base reads process.env.
 */
export type CloudTrailSourceKind = 'simulator' | 'aws' | 'files';
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

  detectorConcurrency: number;
  /** Per-minute counters live this long: the longest baseline window plus a margin. */
  counterRetentionMinutes: number;
  /** How long an eventID is remembered for deduplication after it was first counted. */
  dedupeWindowMinutes: number;
}
