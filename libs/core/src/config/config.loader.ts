import type { InsightsEventCategory } from '@trailsight/domain';
import type { AppConfig } from './app-config.js';
import { parseEventCategories } from './config-parsers.js';
import { CONFIG_SCHEMA } from './config-schema.js';
import { type Env, EnvReader } from './env-reader.js';

/** A configuration value that cannot be used; the message names the variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates the environment once, variable by variable as CONFIG_SCHEMA defines them.
 * Every problem is collected, so one start reports all of them, each naming its variable.
 */
export function loadConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];
  const context = { read: new EnvReader(env, problems), env, problems, config: {} as Record<string, unknown> };
  for (const [field, variable] of Object.entries(CONFIG_SCHEMA)) {
    context.config[field] = variable.read(context);
  }
  // Every field is read above: CONFIG_SCHEMA's type has one variable per AppConfig field.
  const config = context.config as unknown as AppConfig;
  const source = config.source;

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

const EVENT_CATEGORIES_VARIABLE = CONFIG_SCHEMA.insightsEventCategories.name;

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
