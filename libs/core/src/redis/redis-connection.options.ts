import { readFileSync } from 'node:fs';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import type { AppConfig, ClusterNode } from '../config/app-config.js';
import { redactUrl } from '../logging/redact.js';

/** ioredis options that BullMQ accepts as they are (its type wants a retry function, never null). */
export type RedisConnectionOptions = Omit<RedisOptions, 'retryStrategy'> & {
  retryStrategy?: (attempt: number) => number;
};

/**
 * Where Redis is: REDIS_URL (credentials included) and, for rediss://, REDIS_TLS_CA_FILE. A bare
 * URL is accepted too (tests, benchmarks); every connection of the product passes the config.
 */
export type RedisTarget =
  string | (Pick<AppConfig, 'redisUrl' | 'redisTlsCaFile'> & Partial<Pick<AppConfig, 'redisClusterNodes'>>);

/** The Redis Cluster seed nodes of a target (REDIS_CLUSTER_NODES); empty for a single Redis. */
export function clusterNodesOf(target: RedisTarget): readonly ClusterNode[] {
  return typeof target === 'string' ? [] : (target.redisClusterNodes ?? []);
}

/** Where a target is, for a log line: the URL without its credentials, or the cluster's seed nodes. */
export function redisWhereOf(target: RedisTarget): string {
  const nodes = clusterNodesOf(target);
  return nodes.length === 0
    ? redactUrl(redisUrlOf(target))
    : `cluster ${nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
}

/** The URL of a target, for a probe or a (redacted) log line. */
function redisUrlOf(target: RedisTarget): string {
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

/**
 * ioredis Cluster options for REDIS_CLUSTER_NODES, from the same per-connection options: the
 * URL's credentials and TLS go to every node; its host, port and db are not used (a cluster
 * has db 0 only). The retry strategy and the offline queue are the cluster's, not each node's.
 */
export function clusterOptionsOf(options: RedisOptions): ClusterOptions {
  const { host: _host, port: _port, db: _db, retryStrategy, enableOfflineQueue, ...node } = options;
  return {
    redisOptions: node,
    enableOfflineQueue: enableOfflineQueue ?? true,
    clusterRetryStrategy: retryStrategy,
    // A replica promoted after a failover: ask again for the slots' owners until one answers.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    slotsRefreshTimeout: 2_000,
  };
}

/** BullMQ key prefix: one hash tag, so every queue key sits in one Redis Cluster slot. */
export function bullPrefix(redisPrefix: string): string {
  return `{${redisPrefix}-bull}`;
}
