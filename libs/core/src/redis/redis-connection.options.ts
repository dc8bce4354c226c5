import type { RedisOptions } from 'ioredis';

/** ioredis options that BullMQ accepts as they are (its type wants a retry function, never null). */
export type RedisConnectionOptions = Omit<RedisOptions, 'retryStrategy'> & {
  retryStrategy?: (attempt: number) => number;
};

/** ioredis options from a redis:// or rediss:// URL (BullMQ wants options, not URLs). */
export function redisOptionsFromUrl(url: string): RedisConnectionOptions {
  const parsed = new URL(url);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: Number.isInteger(db) ? db : 0,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
  };
}

/**
 * Command connections (the shared one, and the job producer's) fail fast: with Redis down a
 * command is rejected at once (no offline queue) so a request answers 503 and the poller keeps
 * its checkpoint, while the connection keeps reconnecting in the background.
 */
export function commandConnectionOptions(url: string): RedisConnectionOptions {
  return {
    ...redisOptionsFromUrl(url),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  };
}

/** BullMQ Workers and QueueEvents wait out an outage: BullMQ requires maxRetriesPerRequest null on them. */
export function workerConnectionOptions(url: string): RedisConnectionOptions {
  return {
    ...redisOptionsFromUrl(url),
    maxRetriesPerRequest: null,
    connectTimeout: 5_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
  };
}

/** BullMQ key prefix: one hash tag, so every queue key sits in one Redis Cluster slot. */
export function bullPrefix(redisPrefix: string): string {
  return `{${redisPrefix}-bull}`;
}
