import { readFileSync } from 'node:fs';
import type { RedisOptions } from 'ioredis';
import type { AppConfig } from '../config/app-config.js';

/** ioredis options that BullMQ accepts as they are (its type wants a retry function, never null). */
export type RedisConnectionOptions = Omit<RedisOptions, 'retryStrategy'> & {
  retryStrategy?: (attempt: number) => number;
};

/**
 * Where Redis is: REDIS_URL (credentials included) and, for rediss://, REDIS_TLS_CA_FILE. A bare
 * URL is accepted too (tests, benchmarks); every connection of the product passes the config.
 */
export type RedisTarget = string | Pick<AppConfig, 'redisUrl' | 'redisTlsCaFile'>;

/** The URL of a target, for a probe or a (redacted) log line. */
export function redisUrlOf(target: RedisTarget): string {
  return typeof target === 'string' ? target : target.redisUrl;
}

/**
 * ioredis options from a redis:// or rediss:// URL (BullMQ wants options, not URLs): user and
 * password (ACL or requirepass), db, and TLS for rediss://, verified against REDIS_TLS_CA_FILE
 * when set (else the system's CAs).
 */
export function redisOptionsFromUrl(target: RedisTarget): RedisConnectionOptions {
  const url = redisUrlOf(target);
  const caFile = typeof target === 'string' ? undefined : target.redisTlsCaFile;
  const parsed = new URL(url);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: Number.isInteger(db) ? db : 0,
    tls: parsed.protocol === 'rediss:' ? (caFile ? { ca: readFileSync(caFile) } : {}) : undefined,
  };
}

/**
 * Command connections (the shared one, and the job producer's) fail fast: with Redis down a
 * command is rejected at once (no offline queue) so a request answers 503 and the poller keeps
 * its checkpoint, while the connection keeps reconnecting in the background.
 */
export function commandConnectionOptions(target: RedisTarget): RedisConnectionOptions {
  return {
    ...redisOptionsFromUrl(target),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  };
}

/** BullMQ Workers and QueueEvents wait out an outage: BullMQ requires maxRetriesPerRequest null on them. */
export function workerConnectionOptions(target: RedisTarget): RedisConnectionOptions {
  return {
    ...redisOptionsFromUrl(target),
    maxRetriesPerRequest: null,
    connectTimeout: 5_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
  };
}

/** BullMQ key prefix: one hash tag, so every queue key sits in one Redis Cluster slot. */
export function bullPrefix(redisPrefix: string): string {
  return `{${redisPrefix}-bull}`;
}
