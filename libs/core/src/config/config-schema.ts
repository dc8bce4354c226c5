import type { AppConfig, CloudTrailSourceKind, LogFormat, LogLevel } from './app-config.js';
import { DEFAULT_TRAIL_FILE_MAX_BYTES } from './app-config.js';
import {
  BUCKET_NAME,
  checkRegion,
  parseAccount,
  parseAllowedBucket,
  parseApiKey,
  parseClusterNodes,
  parseEventCategories,
  parseOverrides,
  parsePorts,
  REGION,
} from './config-parsers.js';
import type { Env, EnvReader } from './env-reader.js';
import { parseSecretsKey } from '../secrets/secrets-cipher.js';

/** The processes a variable matters to (`trailsight`, the all-in-one process, reads them all). */
type ConfigProcess = 'api' | 'poller' | 'detector' | 'simulator' | 'cli';

interface ReadContext {
  read: EnvReader;
  env: Env;
  problems: string[];
  /** The values read so far, in schema order (a default may depend on an earlier one). */
  config: Partial<AppConfig>;
}

/** One environment variable: how it is read and validated, and how it is documented. */
interface ConfigVariable<T> {
  name: string;
  /** The value taken when unset, as written in the environment ('' when there is none). */
  fallback: string;
  /** The README's default column (Markdown). */
  defaultText: string;
  /** The values it takes (Markdown). */
  values: string;
  /** What it does (Markdown). */
  description: string;
  processes: readonly ConfigProcess[];
  read(context: ReadContext): T;
}

/** Every field of AppConfig has exactly one variable, and its reader returns that field's type. */
type ConfigSchema = { [K in keyof AppConfig]-?: ConfigVariable<AppConfig[K]> };

interface Doc {
  description: string;
  processes: readonly ConfigProcess[];
  /** Said after the default value, in parentheses (or instead of it, when there is none). */
  defaultNote?: string;
}

function variable<T>(
  name: string,
  doc: Doc,
  how: { values: string; fallback?: string; read: (context: ReadContext) => T },
): ConfigVariable<T> {
  const fallback = how.fallback ?? '';
  const shown = fallback === '' ? '' : `\`${fallback}\``;
  const note = doc.defaultNote ?? (fallback === '' ? 'none' : undefined);
  return {
    name,
    fallback,
    defaultText: [shown, note === undefined ? '' : `(${note})`].filter((part) => part !== '').join(' '),
    values: how.values,
    description: doc.description,
    processes: doc.processes,
    read: how.read,
  };
}

const range = (min: number, max: number) => `${min}–${max}`;
const code = (values: readonly (string | number)[]) => values.map((value) => `\`${value}\``).join(', ');

function int(name: string, fallback: number, min: number, max: number, doc: Doc): ConfigVariable<number> {
  return variable(name, doc, {
    values: `whole number, ${range(min, max)}`,
    fallback: String(fallback),
    read: ({ read }) => read.int(name, fallback, min, max),
  });
}

function number(name: string, fallback: number, min: number, max: number, doc: Doc): ConfigVariable<number> {
  return variable(name, doc, {
    values: range(min, max),
    fallback: String(fallback),
    read: ({ read }) => read.number(name, fallback, min, max),
  });
}

function oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T, doc: Doc): ConfigVariable<T> {
  return variable(name, doc, {
    values: code(allowed),
    fallback,
    read: ({ read }) => read.oneOf(name, allowed, fallback),
  });
}

function matching(name: string, pattern: RegExp, fallback: string, what: string, doc: Doc): ConfigVariable<string> {
  return variable(name, doc, {
    values: what,
    fallback,
    read: ({ read }) => read.matching(name, pattern, fallback, what),
  });
}

function optionalMatching(name: string, pattern: RegExp, what: string, doc: Doc): ConfigVariable<string | undefined> {
  return variable(name, doc, { values: what, read: ({ read }) => read.optionalMatching(name, pattern, what) });
}

function optionalUrl(name: string, protocols: string[], doc: Doc): ConfigVariable<string | undefined> {
  return variable(name, doc, { values: urlValues(protocols), read: ({ read }) => read.optionalUrl(name, protocols) });
}

const urlValues = (protocols: string[]) => `${protocols.map((p) => `\`${p}//\``).join(' or ')} URL`;

/** An S3 key prefix, written with or without its slashes; stored without ('' for none). */
function keyPrefix(name: string, doc: Doc): ConfigVariable<string> {
  const what = 'a key prefix without white space';
  return variable(name, doc, {
    values: what,
    read: ({ read }) => read.matching(name, /^[^\s]{0,512}$/, '', what).replace(/^\/+|\/+$/g, ''),
  });
}

const ALL: readonly ConfigProcess[] = ['api', 'poller', 'detector'];
const WITH_REDIS: readonly ConfigProcess[] = ['api', 'poller', 'detector', 'cli'];
const API: readonly ConfigProcess[] = ['api'];
const POLLER: readonly ConfigProcess[] = ['poller'];
const DETECTOR: readonly ConfigProcess[] = ['detector'];
const FILES: readonly ConfigProcess[] = ['poller', 'detector'];
const API_DETECTOR: readonly ConfigProcess[] = ['api', 'detector'];
const SIMULATOR: readonly ConfigProcess[] = ['simulator'];

/**
 * The one definition of Trailsight's environment: the boot validation (config.loader.ts), the
 * README's configuration table and `.env.example` (both written by `npm run docs:config`) come
 * from it. Read in this order, so every problem is reported at once, in this order.
 */
export const CONFIG_SCHEMA: ConfigSchema = {
  redisUrl: variable(
    'REDIS_URL',
    {
      description:
        'Redis for queues, counters and state: `redis://[user:password@]host:port[/db]`, or `rediss://…` for TLS (password URL-encoded)',
      processes: WITH_REDIS,
    },
    {
      values: urlValues(['redis:', 'rediss:']),
      fallback: 'redis://127.0.0.1:6379',
      read: ({ read }) => read.url('REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    },
  ),
  redisTlsCaFile: variable(
    'REDIS_TLS_CA_FILE',
    {
      description: "PEM file of the CA that signed the Redis server's certificate, for `rediss://`",
      processes: WITH_REDIS,
      defaultNote: 'system CAs',
    },
    { values: 'a readable file', read: ({ read }) => read.optionalFile('REDIS_TLS_CA_FILE') },
  ),
  redisClusterNodes: variable(
    'REDIS_CLUSTER_NODES',
    {
      description:
        'seed nodes of a Redis Cluster: every process then uses the cluster, with the credentials and TLS of `REDIS_URL` (its host and port unused); see [Redis Cluster](#redis-cluster)',
      processes: WITH_REDIS,
      defaultNote: 'none: the one Redis of `REDIS_URL`',
    },
    {
      values: '`host:port`, comma-separated',
      read: ({ read, problems }) => parseClusterNodes(read.list('REDIS_CLUSTER_NODES'), problems),
    },
  ),
  eventQueuePartitions: int('EVENT_QUEUE_PARTITIONS', 1, 1, 64, {
    description:
      'events queue partitions, each in its own cluster slot; an account-region always goes to the same one, detectors consume them all. Every process must agree',
    processes: ALL,
  }),
  redisWaitTimeoutMs: int('REDIS_WAIT_TIMEOUT_MS', 1000, 0, 60_000, {
    description:
      'how long a write whose loss in a failover would lose or double-count events waits for a replica (`WAIT`) before it is acknowledged; a timeout fails it to be retried. Only when the node has replicas; `0`: never waits. See [Durable writes](#durable-writes)',
    processes: WITH_REDIS,
  }),
  secretsKey: variable(
    'SECRETS_KEY',
    {
      description:
        'encrypts webhook secrets and PagerDuty routing keys at rest; required for aws keys (their SigV4 secrets, see [The CloudTrail API for Insights](#the-cloudtrail-api-for-insights-aws))',
      processes: ['api', 'detector', 'cli'],
      defaultNote: 'none: plaintext, with a warning',
    },
    {
      values: '32 random bytes, 64 hex digits or base64 (`openssl rand -base64 32`)',
      read: ({ env, problems }) => parseSecretsKey(env.SECRETS_KEY, problems),
    },
  ),
  redisPrefix: matching('REDIS_PREFIX', /^[A-Za-z0-9_-]{1,32}$/, 'ts', 'letters, digits, _ or -', {
    description: 'prefix of every Redis key and queue this deployment owns',
    processes: WITH_REDIS,
  }),
  port: int('PORT', 3000, 1, 65535, {
    description: 'HTTP port: the API, and the health port of poller and detector',
    processes: ALL,
  }),
  apiKeys: variable(
    'API_KEYS',
    {
      description:
        'API keys from the environment; without any, the first start creates an admin key (see `ADMIN_KEY_FILE`)',
      processes: ['api', 'cli'],
    },
    {
      values: '`key` or `key:scope` (scope `read` or `admin`), comma-separated',
      read: ({ read, problems }) => read.list('API_KEYS').map((entry) => parseApiKey(entry, problems)),
    },
  ),
  apiRateLimit: int('API_RATE_LIMIT', 600, 0, 1_000_000_000, {
    description: 'requests one key may make per window, across every replica (`0`: no limit)',
    processes: API,
  }),
  apiRateWindowSeconds: int('API_RATE_WINDOW_SECONDS', 60, 1, 86_400, {
    description: 'length of the (sliding) rate-limit window',
    processes: API,
  }),
  apiAuthFailureLimit: int('API_AUTH_FAILURE_LIMIT', 30, 0, 1_000_000, {
    description: 'unknown keys one client address may present per minute, per process, before `429` (`0`: no limit)',
    processes: API,
  }),
  adminKeyFile: matching('ADMIN_KEY_FILE', /^[^\0]+$/, '.data/admin-key', 'a file path', {
    description:
      'without `API_KEYS`: where the first start writes the admin key it creates (mode 0600; relative to the working directory)',
    processes: API,
  }),
  logLevel: oneOf<LogLevel>('LOG_LEVEL', ['error', 'warn', 'log', 'debug', 'verbose'], 'log', {
    description: 'least severe level logged',
    processes: [...ALL, 'simulator'],
  }),
  logFormat: oneOf<LogFormat>('LOG_FORMAT', ['json', 'pretty'], 'json', {
    description: 'log lines as JSON, or for people',
    processes: [...ALL, 'simulator'],
  }),

  source: oneOf<CloudTrailSourceKind>('CLOUDTRAIL_SOURCE', ['simulator', 'aws', 'files', 's3', 'sqs'], 'simulator', {
    description:
      'where events come from: the simulated account, LookupEvents of real AWS, or trail files (see [Trail files](#trail-files-s3-sqs-directory))',
    processes: ALL,
  }),
  regions: variable(
    'AWS_REGIONS',
    { description: 'regions to read', processes: [...ALL, 'simulator'] },
    {
      values: 'regions like `us-east-1`, comma-separated',
      fallback: 'us-east-1',
      read: ({ read, problems }) => read.list('AWS_REGIONS', ['us-east-1']).map((r) => checkRegion(r, problems)),
    },
  ),
  accounts: variable(
    'AWS_ACCOUNTS',
    { description: 'accounts to read; with a role ARN, LookupEvents assumes it', processes: [...ALL, 'simulator'] },
    {
      values: '`id` or `id=arn:aws:iam::id:role/name`, comma-separated',
      fallback: '123456789012',
      read: ({ read, problems }) =>
        read.list('AWS_ACCOUNTS', ['123456789012']).map((entry) => parseAccount(entry, problems)),
    },
  ),
  cloudTrailEndpoint: optionalUrl('CLOUDTRAIL_ENDPOINT', ['http:', 'https:'], {
    description:
      'another LookupEvents endpoint for the real SDK client (a proxy, the simulator; unset: AWS, or the local simulator for `simulator`)',
    processes: POLLER,
  }),
  trailDir: variable(
    'TRAIL_DIR',
    { description: 'directory of trail files for `files`; links to files outside it are not read', processes: FILES },
    { values: 'a directory', read: ({ env }) => env.TRAIL_DIR || undefined },
  ),
  s3Bucket: optionalMatching('S3_BUCKET', BUCKET_NAME, 'an S3 bucket name', {
    description: 'bucket of the trail files for `s3`; for `sqs`, the bucket back-filled first and read',
    processes: FILES,
  }),
  s3Prefix: keyPrefix('S3_PREFIX', { description: "the trail's S3 key prefix, before `AWSLogs/`", processes: FILES }),
  s3Endpoint: optionalUrl('S3_ENDPOINT', ['http:', 'https:'], {
    description: 'an S3-compatible server instead of AWS (path-style addressing); also the S3 output',
    processes: FILES,
  }),
  s3Region: matching('S3_REGION', REGION, 'us-east-1', 'a region like us-east-1', {
    description: "region of the bucket's and the queue's clients; also the S3 output",
    processes: FILES,
  }),
  sqsQueueUrl: optionalUrl('SQS_QUEUE_URL', ['http:', 'https:'], {
    description: "for `sqs`: the queue receiving CloudTrail's SNS notifications or S3 event notifications",
    processes: POLLER,
  }),
  sqsEndpoint: optionalUrl('SQS_ENDPOINT', ['http:', 'https:'], {
    description: 'an SQS-compatible server instead of AWS',
    processes: POLLER,
  }),
  sqsAllowedBuckets: variable(
    'SQS_ALLOWED_BUCKETS',
    {
      description:
        'for `sqs`: buckets notifications may name besides `S3_BUCKET` under `S3_PREFIX`; others are parked as `not-allowed`, never read',
      processes: POLLER,
    },
    {
      values: '`bucket` or `bucket/prefix`, comma-separated',
      read: ({ read, problems }) =>
        read.list('SQS_ALLOWED_BUCKETS').map((entry) => parseAllowedBucket(entry, problems)),
    },
  ),
  trailFileMaxBytes: int('TRAIL_FILE_MAX_BYTES', DEFAULT_TRAIL_FILE_MAX_BYTES, 1024 * 1024, 8 * 1024 ** 3, {
    description: 'largest decompressed trail file read; past it the file is one `too-large` reject, not retried',
    processes: DETECTOR,
    defaultNote: '128 MiB',
  }),
  fileWorkers: int('FILE_WORKERS', 2, 1, 64, {
    description: 'trail files one detector process reads at once',
    processes: DETECTOR,
  }),
  trailFileLatenessMinutes: int('TRAIL_FILE_LATENESS_MINUTES', 15, 0, 24 * 60, {
    description: 'how late a trail file may arrive after its delivery time: the watermark of the file sources',
    processes: POLLER,
  }),
  trailFileMaxAttempts: int('TRAIL_FILE_MAX_ATTEMPTS', 12, 1, 50, {
    description: 'attempts to read one trail file (1 s backoff, doubling) before it is parked as `unreadable-file`',
    processes: FILES,
  }),

  simulatorPort: int('SIMULATOR_PORT', 4599, 1, 65535, {
    description: "the simulated account's port (and where the poller finds it for `simulator`)",
    processes: ['simulator', 'poller'],
  }),
  simulatorRateLimit: number('SIMULATOR_RATE_LIMIT', 2, 0.1, 100_000, {
    description: 'its LookupEvents requests/s per account-region before `ThrottlingException`',
    processes: SIMULATOR,
  }),
  simulatorEventsPerMinute: int('SIMULATOR_EVENTS_PER_MINUTE', 60, 1, 1_000_000, {
    description: 'its traffic per account-region at the busiest hour',
    processes: SIMULATOR,
  }),
  simulatorSeed: int('SIMULATOR_SEED', 1, 0, 2 ** 31 - 1, {
    description: 'seed of its random traffic: the same seed makes the same events',
    processes: SIMULATOR,
  }),
  simulatorControl: oneOf('SIMULATOR_CONTROL', ['loopback', 'any'] as const, 'loopback', {
    description:
      'who may call its control routes (`/anomalies`, `/faults`, `/truth`, `/stats`): loopback callers only, or anyone',
    processes: SIMULATOR,
  }),

  lookupEventsRate: number('LOOKUP_EVENTS_RATE', 2, 0.1, 100_000, {
    description: "LookupEvents requests/s per account-region, shared by all pollers (AWS's quota is 2)",
    processes: POLLER,
  }),
  pollIntervalSeconds: number('POLL_INTERVAL_SECONDS', 10, 0.1, 3600, {
    description: 'live tail period (and the listing period of the file sources)',
    processes: POLLER,
  }),
  pollOverlapMinutes: int('POLL_OVERLAP_MINUTES', 15, 0, 24 * 60, {
    description: 'how far back each live poll re-reads, for events that became visible late',
    processes: POLLER,
  }),
  backfillDays: number('BACKFILL_DAYS', 7, 0, 90, {
    description: 'history read on first start',
    processes: POLLER,
  }),
  batchSize: int('BATCH_SIZE', 500, 1, 10_000, {
    description: 'events per queued job',
    processes: POLLER,
  }),

  webhookAllowPrivate: variable(
    'WEBHOOK_ALLOW_PRIVATE',
    {
      description:
        'deliver webhooks to loopback/private/link-local addresses (closed networks, tests); cloud metadata addresses stay refused',
      processes: API_DETECTOR,
    },
    { values: '`true` or `false`', fallback: 'false', read: ({ read }) => read.bool('WEBHOOK_ALLOW_PRIVATE', false) },
  ),
  webhookAllowedPorts: variable(
    'WEBHOOK_ALLOWED_PORTS',
    {
      description: 'ports a webhook URL may name',
      processes: API_DETECTOR,
      defaultNote: '`any` with `WEBHOOK_ALLOW_PRIVATE=true`',
    },
    {
      values: 'ports, comma-separated, or `any`',
      fallback: '80,443',
      read: ({ env, problems, config }) =>
        parsePorts(env.WEBHOOK_ALLOWED_PORTS, config.webhookAllowPrivate ?? false, problems),
    },
  ),
  webhookTimeoutMs: int('WEBHOOK_TIMEOUT_MS', 10_000, 100, 25_000, {
    description: 'limit of one delivery attempt: connect, request and response',
    processes: API_DETECTOR,
  }),
  webhookMaxAttempts: int('WEBHOOK_MAX_ATTEMPTS', 8, 1, 50, {
    description: 'attempts per delivery (first try included) before it counts as failed',
    processes: API_DETECTOR,
  }),
  webhookBackoffMs: int('WEBHOOK_BACKOFF_MS', 2_000, 1, 3_600_000, {
    description: 'first retry delay; doubles per attempt, with jitter, capped at an hour',
    processes: API_DETECTOR,
  }),
  webhookConcurrency: int('WEBHOOK_CONCURRENCY', 64, 1, 1024, {
    description: 'concurrent deliveries per detector process',
    processes: DETECTOR,
  }),
  webhookDisableAfter: int('WEBHOOK_DISABLE_AFTER', 10, 1, 10_000, {
    description: 'consecutive failed deliveries that disable a subscription',
    processes: DETECTOR,
  }),
  webhookLogSize: int('WEBHOOK_LOG_SIZE', 200, 1, 10_000, {
    description: 'delivery attempts kept per subscription (`GET /v1/webhooks/{id}/deliveries`)',
    processes: API_DETECTOR,
  }),
  webhookSecretGraceHours: int('WEBHOOK_SECRET_GRACE_HOURS', 24, 0, 30 * 24, {
    description:
      'after `POST /v1/webhooks/{id}/rotate-secret`, how long the old secret signs as well, as a second `v1=`',
    processes: API_DETECTOR,
  }),
  webhookMaxInsightAgeMinutes: int('WEBHOOK_MAX_INSIGHT_AGE_MINUTES', 60, 1, 7 * 24 * 60, {
    description:
      'catch-up rule: an insight found more than this many minutes after it began is stored and shown but not delivered, nor is its End; see [Catch-up is not an incident](#catch-up-is-not-an-incident)',
    processes: DETECTOR,
  }),
  publicUrl: variable(
    'PUBLIC_URL',
    {
      description:
        'base URL where people reach this API (`https://trailsight.example.com`); Slack, Teams and PagerDuty messages link to `<PUBLIC_URL>/v1/findings/<id>`',
      processes: DETECTOR,
      defaultNote: 'none: no links',
    },
    {
      values: urlValues(['http:', 'https:']),
      read: ({ read }) => read.optionalUrl('PUBLIC_URL', ['http:', 'https:'])?.replace(/\/+$/, ''),
    },
  ),
  insightsS3Bucket: optionalMatching('INSIGHTS_S3_BUCKET', BUCKET_NAME, 'an S3 bucket name', {
    description:
      "write every Insights record to this bucket in AWS's `CloudTrail-Insight/` layout; see [S3 and EventBridge outputs](#s3-and-eventbridge-outputs)",
    processes: DETECTOR,
    defaultNote: 'none: off',
  }),
  insightsS3Prefix: keyPrefix('INSIGHTS_S3_PREFIX', {
    description: 'key prefix before `AWSLogs/` in that bucket',
    processes: DETECTOR,
  }),
  insightsS3FlushSeconds: int('INSIGHTS_S3_FLUSH_SECONDS', 300, 1, 86_400, {
    description: 'how often pending records are written, one object per account-region',
    processes: DETECTOR,
  }),
  insightsEventBridgeBus: optionalMatching(
    'INSIGHTS_EVENTBRIDGE_BUS',
    /^(?:[A-Za-z0-9/._-]{1,256}|arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[A-Za-z0-9/._-]{1,256})$/,
    'an event bus name or ARN',
    {
      description: 'event bus to `PutEvents` every Insights record to',
      processes: DETECTOR,
      defaultNote: 'none: off',
    },
  ),
  insightsEventBridgeEndpoint: optionalUrl('INSIGHTS_EVENTBRIDGE_ENDPOINT', ['http:', 'https:'], {
    description: 'another EventBridge endpoint (VPC endpoint, tests)',
    processes: DETECTOR,
    defaultNote: 'AWS',
  }),
  insightsEventBridgeRegion: matching('INSIGHTS_EVENTBRIDGE_REGION', REGION, 'us-east-1', 'a region like us-east-1', {
    description: "the bus's region",
    processes: DETECTOR,
  }),
  insightsEventBridgeFlushSeconds: int('INSIGHTS_EVENTBRIDGE_FLUSH_SECONDS', 5, 1, 3_600, {
    description: 'how often pending records are sent',
    processes: DETECTOR,
  }),

  detectorConcurrency: int('DETECTOR_CONCURRENCY', 16, 1, 256, {
    description: 'concurrent event jobs per detector process',
    processes: DETECTOR,
  }),
  counterRetentionMinutes: int('COUNTER_RETENTION_MINUTES', 8 * 24 * 60, 60, 366 * 24 * 60, {
    description: 'lifetime of per-minute counters: the longest baseline window plus a margin',
    processes: API_DETECTOR,
    defaultNote: '8 days',
  }),
  dedupeWindowMinutes: int('DEDUPE_WINDOW_MINUTES', 24 * 60, 1, 90 * 24 * 60, {
    description:
      "how long a counted batch's done-marker is kept (a retried job is skipped whole); counted event ids are kept as long as their counters",
    processes: DETECTOR,
  }),
  eventSamplesMinutes: int('EVENT_SAMPLES_MINUTES', 30, 0, 24 * 60, {
    description:
      'how long after a minute ends its example events wait for an insight to start; `0` keeps none. See [Example calls, new actors, series history](#example-calls-new-actors-series-history)',
    processes: DETECTOR,
  }),

  insightsEventCategories: variable(
    'INSIGHTS_EVENT_CATEGORIES',
    {
      description:
        'event categories analysed: data events (S3 object calls, Lambda invocations...) get series of their own; see [Event categories](#event-categories)',
      processes: ['api', 'detector', 'cli'],
    },
    {
      values: '`Management` or `Management,Data`',
      fallback: 'Management',
      read: ({ read, problems }) => parseEventCategories(read.list('INSIGHTS_EVENT_CATEGORIES'), problems),
    },
  ),
  detectorSensitivity: number('DETECTOR_SENSITIVITY', 5, 1, 10, {
    description: 'detector sensitivity, 1 (fewest insights) to 10 (most)',
    processes: API_DETECTOR,
  }),
  detectorMinVolume: number('DETECTOR_MIN_VOLUME', 3, 0, 1_000_000, {
    description: 'smallest events per minute an insight can be about',
    processes: API_DETECTOR,
  }),
  detectorEndAfterMinutes: int('DETECTOR_END_AFTER_MINUTES', 5, 1, 1440, {
    description: 'normal minutes in a row that end an insight',
    processes: API_DETECTOR,
  }),
  detectorDrops: variable(
    'DETECTOR_DROPS',
    { description: 'whether a busy API going quiet is an insight', processes: API_DETECTOR },
    {
      values: '`true` or `false`',
      fallback: 'true',
      read: ({ read }) => read.oneOf('DETECTOR_DROPS', ['true', 'false'], 'true') === 'true',
    },
  ),
  detectorOverrides: variable(
    'DETECTOR_OVERRIDES',
    {
      description:
        'per-API tuning (see [The evaluator](#the-evaluator)); the boot-time layer beneath [runtime tuning](#runtime-tuning), checked the same way',
      processes: API_DETECTOR,
      defaultNote: 'none',
    },
    {
      values: 'JSON object, `{"ec2.amazonaws.com:RunInstances": {"sensitivity": 3}}`',
      read: ({ env, problems }) => parseOverrides(env.DETECTOR_OVERRIDES, problems),
    },
  ),
  evaluationLatenessSeconds: variable(
    'EVALUATION_LATENESS_SECONDS',
    {
      description:
        "how long after the source's checkpoint a minute is closed (AWS makes events visible in about 5 minutes on average)",
      processes: DETECTOR,
      defaultNote: '`300` for `aws`, else `30`',
    },
    {
      values: `whole number, ${range(0, 3600)}`,
      // AWS makes events visible in about 5 minutes on average (reference 4.3); the simulated account
      // and trail files (whose watermark already allows for delivery) need only a small margin.
      read: ({ read, config }) => read.int('EVALUATION_LATENESS_SECONDS', config.source === 'aws' ? 300 : 30, 0, 3600),
    },
  ),
  evaluationIntervalSeconds: number('EVALUATION_INTERVAL_SECONDS', 15, 1, 300, {
    description: 'how often the evaluator looks for closed minutes',
    processes: DETECTOR,
  }),
  evaluationMaxLagSeconds: int('EVALUATION_MAX_LAG_SECONDS', 1800, 60, 7 * 86_400, {
    description:
      '`/health` reports the evaluator down when an account-region is further behind than this and not advancing',
    processes: API_DETECTOR,
  }),
  findingsRetentionDays: int('FINDINGS_RETENTION_DAYS', 90, 1, 3650, {
    description: 'how long findings and their series are kept',
    processes: API_DETECTOR,
  }),
};
