import type { RedisOptions } from 'bullmq';

/** ioredis options from a redis:// or rediss:// URL, for BullMQ (which wants options, not URLs). */
function redisOptionsFromUrl(url: string): RedisOptions {
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
 * Producers fail fast: with Redis down, an enqueue is refused at once instead of waiting in
 * ioredis' offline queue, so the poller keeps its checkpoint and tries again on its next tick.
 */
export function producerConnectionOptions(url: string): RedisOptions {
  return {
    ...redisOptionsFromUrl(url),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  };
}

/** Workers wait out a Redis outage: BullMQ requires maxRetriesPerRequest null on them. */
export function workerConnectionOptions(url: string): RedisOptions {
  return {
    ...redisOptionsFromUrl(url),
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
  };
}

/** BullMQ key prefix: one hash tag, so every queue key sits in one Redis Cluster slot. */
export function bullPrefix(redisPrefix: string): string {
  return `{${redisPrefix}-bull}`;
}
