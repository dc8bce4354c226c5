import { accessSync, constants, statSync } from 'node:fs';
import { type InsightsEventCategory, tuningSettingsProblems, type TuningSettings } from '@trailsight/domain';
import { redactUrl } from '../logging/redact.js';
import { parseSecretsKey } from '../secrets/secrets-cipher.js';
import {
  DEFAULT_TRAIL_FILE_MAX_BYTES,
  type AllowedBucket,
  type ApiKeyEntry,
  type AppConfig,
  type AwsAccountEntry,
  type CloudTrailSourceKind,
  type LogFormat,
  type LogLevel,
} from './app-config.js';

/** A configuration value that cannot be used; the message names the variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Reads and validates the environment once. Every problem is collected, so one start
 * reports all of them, each naming its variable.
 */
export function loadConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];
  const read = new EnvReader(env, problems);

  const source = read.oneOf<CloudTrailSourceKind>(
    'CLOUDTRAIL_SOURCE',
    ['simulator', 'aws', 'files', 's3', 'sqs'],
    'simulator',
  );
  const allowPrivate = read.bool('WEBHOOK_ALLOW_PRIVATE', false);
  const config: AppConfig = {
    redisUrl: read.url('REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    redisTlsCaFile: read.optionalFile('REDIS_TLS_CA_FILE'),
    secretsKey: parseSecretsKey(env.SECRETS_KEY, problems),
    redisPrefix: read.matching('REDIS_PREFIX', /^[A-Za-z0-9_-]{1,32}$/, 'ts', 'letters, digits, _ or -'),
    port: read.int('PORT', 3000, 1, 65535),
    apiKeys: read.list('API_KEYS').map((entry) => parseApiKey(entry, problems)),
    apiRateLimit: read.int('API_RATE_LIMIT', 600, 0, 1_000_000_000),
    apiRateWindowSeconds: read.int('API_RATE_WINDOW_SECONDS', 60, 1, 86_400),
    apiAuthFailureLimit: read.int('API_AUTH_FAILURE_LIMIT', 30, 0, 1_000_000),
    adminKeyFile: read.matching('ADMIN_KEY_FILE', /^[^\0]+$/, '.data/admin-key', 'a file path'),
    logLevel: read.oneOf<LogLevel>('LOG_LEVEL', ['error', 'warn', 'log', 'debug', 'verbose'], 'log'),
    logFormat: read.oneOf<LogFormat>('LOG_FORMAT', ['json', 'pretty'], 'json'),

    source,
    regions: read.list('AWS_REGIONS', ['us-east-1']).map((region) => checkRegion(region, problems)),
    accounts: read.list('AWS_ACCOUNTS', ['123456789012']).map((entry) => parseAccount(entry, problems)),
    cloudTrailEndpoint: read.optionalUrl('CLOUDTRAIL_ENDPOINT', ['http:', 'https:']),
    trailDir: env.TRAIL_DIR || undefined,
    s3Bucket: read.optionalMatching('S3_BUCKET', BUCKET_NAME, 'an S3 bucket name'),
    s3Prefix: read
      .matching('S3_PREFIX', /^[^\s]{0,512}$/, '', 'a key prefix without white space')
      .replace(/^\/+|\/+$/g, ''),
    s3Endpoint: read.optionalUrl('S3_ENDPOINT', ['http:', 'https:']),
    s3Region: read.matching('S3_REGION', /^[a-z]{2}(-[a-z]+)+-\d+$/, 'us-east-1', 'a region like us-east-1'),
    sqsQueueUrl: read.optionalUrl('SQS_QUEUE_URL', ['http:', 'https:']),
    sqsEndpoint: read.optionalUrl('SQS_ENDPOINT', ['http:', 'https:']),
    sqsAllowedBuckets: read.list('SQS_ALLOWED_BUCKETS').map((entry) => parseAllowedBucket(entry, problems)),
    trailFileMaxBytes: read.int('TRAIL_FILE_MAX_BYTES', DEFAULT_TRAIL_FILE_MAX_BYTES, 1024 * 1024, 8 * 1024 ** 3),
    fileWorkers: read.int('FILE_WORKERS', 2, 1, 64),
    trailFileLatenessMinutes: read.int('TRAIL_FILE_LATENESS_MINUTES', 15, 0, 24 * 60),
    trailFileMaxAttempts: read.int('TRAIL_FILE_MAX_ATTEMPTS', 12, 1, 50),

    simulatorPort: read.int('SIMULATOR_PORT', 4599, 1, 65535),
    simulatorRateLimit: read.number('SIMULATOR_RATE_LIMIT', 2, 0.1, 100_000),
    simulatorEventsPerMinute: read.int('SIMULATOR_EVENTS_PER_MINUTE', 60, 1, 1_000_000),
    simulatorSeed: read.int('SIMULATOR_SEED', 1, 0, 2 ** 31 - 1),
    simulatorControl: read.oneOf('SIMULATOR_CONTROL', ['loopback', 'any'], 'loopback'),

    lookupEventsRate: read.number('LOOKUP_EVENTS_RATE', 2, 0.1, 100_000),
    pollIntervalSeconds: read.number('POLL_INTERVAL_SECONDS', 10, 0.1, 3600),
    pollOverlapMinutes: read.int('POLL_OVERLAP_MINUTES', 15, 0, 24 * 60),
    backfillDays: read.number('BACKFILL_DAYS', 7, 0, 90),
    batchSize: read.int('BATCH_SIZE', 500, 1, 10_000),

    webhookAllowPrivate: allowPrivate,
    webhookAllowedPorts: parsePorts(env.WEBHOOK_ALLOWED_PORTS, allowPrivate, problems),
    webhookTimeoutMs: read.int('WEBHOOK_TIMEOUT_MS', 10_000, 100, 25_000),
    webhookMaxAttempts: read.int('WEBHOOK_MAX_ATTEMPTS', 8, 1, 50),
    webhookBackoffMs: read.int('WEBHOOK_BACKOFF_MS', 2_000, 1, 3_600_000),
    webhookConcurrency: read.int('WEBHOOK_CONCURRENCY', 64, 1, 1024),
    webhookDisableAfter: read.int('WEBHOOK_DISABLE_AFTER', 10, 1, 10_000),
    webhookLogSize: read.int('WEBHOOK_LOG_SIZE', 200, 1, 10_000),
    webhookSecretGraceHours: read.int('WEBHOOK_SECRET_GRACE_HOURS', 24, 0, 30 * 24),
    webhookMaxInsightAgeMinutes: read.int('WEBHOOK_MAX_INSIGHT_AGE_MINUTES', 60, 1, 7 * 24 * 60),
    publicUrl: read.optionalUrl('PUBLIC_URL', ['http:', 'https:'])?.replace(/\/+$/, ''),

    detectorConcurrency: read.int('DETECTOR_CONCURRENCY', 16, 1, 256),
    counterRetentionMinutes: read.int('COUNTER_RETENTION_MINUTES', 8 * 24 * 60, 60, 366 * 24 * 60),
    dedupeWindowMinutes: read.int('DEDUPE_WINDOW_MINUTES', 24 * 60, 1, 90 * 24 * 60),
    eventSamplesMinutes: read.int('EVENT_SAMPLES_MINUTES', 30, 0, 24 * 60),

    insightsEventCategories: parseEventCategories(read.list(EVENT_CATEGORIES_VARIABLE), problems),
    detectorSensitivity: read.number('DETECTOR_SENSITIVITY', 5, 1, 10),
    detectorMinVolume: read.number('DETECTOR_MIN_VOLUME', 3, 0, 1_000_000),
    detectorEndAfterMinutes: read.int('DETECTOR_END_AFTER_MINUTES', 5, 1, 1440),
    detectorDrops: read.oneOf('DETECTOR_DROPS', ['true', 'false'], 'true') === 'true',
    detectorOverrides: parseOverrides(env.DETECTOR_OVERRIDES, problems),
    // AWS makes events visible in about 5 minutes on average (reference 4.3); the simulated account
    // and trail files (whose watermark already allows for delivery) need only a small margin.
    evaluationLatenessSeconds: read.int('EVALUATION_LATENESS_SECONDS', source === 'aws' ? 300 : 30, 0, 3600),
    evaluationIntervalSeconds: read.number('EVALUATION_INTERVAL_SECONDS', 15, 1, 300),
    evaluationMaxLagSeconds: read.int('EVALUATION_MAX_LAG_SECONDS', 1800, 60, 7 * 86_400),
    findingsRetentionDays: read.int('FINDINGS_RETENTION_DAYS', 90, 1, 3650),
  };

  if (config.redisTlsCaFile && !config.redisUrl.startsWith('rediss:'))
    problems.push('REDIS_TLS_CA_FILE is set but REDIS_URL is not a rediss:// (TLS) URL');
  if (source === 'files' && !config.trailDir) problems.push('TRAIL_DIR is required when CLOUDTRAIL_SOURCE=files');
  if (source === 's3' && !config.s3Bucket) problems.push('S3_BUCKET is required when CLOUDTRAIL_SOURCE=s3');
  if (source === 'sqs' && !config.sqsQueueUrl) problems.push('SQS_QUEUE_URL is required when CLOUDTRAIL_SOURCE=sqs');
  // Notifications name buckets the service then reads with its own credentials: only known ones.
  if (source === 'sqs' && !config.s3Bucket && config.sqsAllowedBuckets.length === 0)
    problems.push('S3_BUCKET or SQS_ALLOWED_BUCKETS is required when CLOUDTRAIL_SOURCE=sqs');
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** WEBHOOK_ALLOWED_PORTS: `any`, or comma-separated ports; default 80,443 (any with WEBHOOK_ALLOW_PRIVATE). */
function parsePorts(raw: string | undefined, allowPrivate: boolean, problems: string[]): readonly number[] | 'any' {
  const text = raw?.trim();
  if (!text) return allowPrivate ? 'any' : [80, 443];
  if (text.toLowerCase() === 'any') return 'any';
  const ports = text.split(',').map((p) => p.trim());
  if (ports.some((p) => !/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535)) {
    problems.push(`WEBHOOK_ALLOWED_PORTS must be "any" or ports from 1 to 65535, comma-separated, got "${text}"`);
    return [80, 443];
  }
  return [...new Set(ports.map(Number))];
}

const EVENT_CATEGORIES_VARIABLE = 'INSIGHTS_EVENT_CATEGORIES';

/**
 * INSIGHTS_EVENT_CATEGORIES alone, for tools that need no other setting (the CLI): the value of
 * `value` when given (a command-line flag), else of the environment. Throws a ConfigError.
 */
export function loadEventCategories(value?: string, env: Env = process.env): InsightsEventCategory[] {
  const problems: string[] = [];
  const read = new EnvReader(value === undefined ? env : { [EVENT_CATEGORIES_VARIABLE]: value }, problems);
  const categories = parseEventCategories(read.list(EVENT_CATEGORIES_VARIABLE), problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return categories;
}

/**
 * INSIGHTS_EVENT_CATEGORIES: `Management` (the default, as AWS's) or `Management,Data`. Data
 * alone is refused: management Insights are what the product is for, and turning them off by a
 * typo would silence every finding.
 */
function parseEventCategories(entries: string[], problems: string[]): InsightsEventCategory[] {
  if (entries.length === 0) return ['Management'];
  const unique = new Set(entries);
  const known = [...unique].every((entry) => entry === 'Management' || entry === 'Data');
  if (!known || !unique.has('Management') || unique.size !== entries.length) {
    problems.push(`INSIGHTS_EVENT_CATEGORIES must be Management or Management,Data, got "${entries.join(',')}"`);
    return ['Management'];
  }
  return unique.has('Data') ? ['Management', 'Data'] : ['Management'];
}

/** DETECTOR_OVERRIDES: a JSON object of `eventSource:eventName` (or `eventSource:*`) to tuning settings. */
function parseOverrides(raw: string | undefined, problems: string[]): Record<string, TuningSettings> {
  if (raw === undefined || raw.trim() === '') return {};
  const fail = (why: string) => {
    problems.push(`DETECTOR_OVERRIDES ${why}`);
    return {};
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return fail('is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail('must be a JSON object');
  const overrides: Record<string, TuningSettings> = {};
  for (const [api, tuning] of Object.entries(parsed as Record<string, unknown>)) {
    if (!/^[a-z0-9.-]+:(\*|[A-Za-z0-9_]+)$/.test(api))
      return fail(`key "${api}" must be eventSource:eventName or eventSource:*`);
    // The same check as /v1/tuning's, so what boots is what the API would accept.
    const wrong = tuningSettingsProblems(tuning, `"${api}"`);
    if (wrong.length > 0) return fail(wrong.join('; '));
    overrides[api] = tuning as TuningSettings;
  }
  return overrides;
}

class EnvReader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  private raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === '' ? undefined : value;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.number(name, fallback, min, max);
    if (!Number.isInteger(value)) this.problems.push(`${name} must be a whole number, got "${this.raw(name)}"`);
    return value;
  }

  number(name: string, fallback: number, min: number, max: number): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) {
      this.problems.push(`${name} must be a number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const value = raw.toLowerCase();
    if (['true', '1', 'yes'].includes(value)) return true;
    if (['false', '0', 'no'].includes(value)) return false;
    this.problems.push(`${name} must be true or false, got "${raw}"`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
      return fallback;
    }
    return raw as T;
  }

  matching(name: string, pattern: RegExp, fallback: string, what: string): string {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    if (!pattern.test(raw)) {
      this.problems.push(`${name} must be ${what}, got "${raw}"`);
      return fallback;
    }
    return raw;
  }

  optionalMatching(name: string, pattern: RegExp, what: string): string | undefined {
    const raw = this.raw(name);
    if (raw === undefined) return undefined;
    if (!pattern.test(raw)) {
      this.problems.push(`${name} must be ${what}, got "${raw}"`);
      return undefined;
    }
    return raw;
  }

  url(name: string, fallback: string, protocols: string[]): string {
    return this.optionalUrl(name, protocols) ?? fallback;
  }

  optionalUrl(name: string, protocols: string[]): string | undefined {
    const raw = this.raw(name);
    if (raw === undefined) return undefined;
    try {
      const url = new URL(raw);
      if (!protocols.includes(url.protocol)) throw new Error('protocol');
      return raw;
    } catch {
      // Redacted: a URL may carry a password (REDIS_URL), and this message reaches the logs.
      this.problems.push(
        `${name} must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}, got "${redactUrl(raw)}"`,
      );
      return undefined;
    }
  }

  /** A path to a readable regular file. */
  optionalFile(name: string): string | undefined {
    const raw = this.raw(name);
    if (raw === undefined) return undefined;
    try {
      accessSync(raw, constants.R_OK);
      if (!statSync(raw).isFile()) throw new Error('not a file');
      return raw;
    } catch {
      this.problems.push(`${name} must name a readable file, got "${raw}"`);
      return undefined;
    }
  }

  list(name: string, fallback: string[] = []): string[] {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    return raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }
}

function parseApiKey(entry: string, problems: string[]): ApiKeyEntry {
  const [key = '', scope = 'admin', ...rest] = entry.split(':');
  if (key.length < 16 || rest.length > 0)
    problems.push('API_KEYS entries must be "key" or "key:scope" with keys of at least 16 characters');
  if (scope !== 'read' && scope !== 'admin') problems.push(`API_KEYS scope must be read or admin, got "${scope}"`);
  return { key, scope: scope === 'read' ? 'read' : 'admin' };
}

function parseAccount(entry: string, problems: string[]): AwsAccountEntry {
  // "123456789012" or "123456789012=arn:aws:iam::123456789012:role/trailsight-reader"
  const [accountId = '', roleArn] = entry.split('=');
  if (!/^\d{12}$/.test(accountId))
    problems.push(`AWS_ACCOUNTS entries must start with a 12-digit account id, got "${entry}"`);
  if (roleArn !== undefined && !/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(roleArn)) {
    problems.push(`AWS_ACCOUNTS role for ${accountId} must be an IAM role ARN, got "${roleArn}"`);
  }
  return roleArn ? { accountId, roleArn } : { accountId };
}

function parseAllowedBucket(entry: string, problems: string[]): AllowedBucket {
  // "bucket" or "bucket/prefix" (the trail's key prefix, before AWSLogs/)
  const slash = entry.indexOf('/');
  const bucket = slash === -1 ? entry : entry.slice(0, slash);
  const prefix = slash === -1 ? '' : entry.slice(slash + 1).replace(/^\/+|\/+$/g, '');
  if (!BUCKET_NAME.test(bucket))
    problems.push(`SQS_ALLOWED_BUCKETS entries must be "bucket" or "bucket/prefix", got "${entry}"`);
  return { bucket, prefix };
}

function checkRegion(region: string, problems: string[]): string {
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region))
    problems.push(`AWS_REGIONS entries must look like us-east-1, got "${region}"`);
  return region;
}
