import type { Logger } from '@nestjs/common';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import {
  clusterNodesOf,
  clusterOptionsOf,
  commandConnectionOptions,
  redisWhereOf,
  workerConnectionOptions,
  type RedisTarget,
} from './redis-connection.options.js';

/**
 * A connection to Trailsight's Redis: one server (REDIS_URL), or a Redis Cluster
 * (REDIS_CLUSTER_NODES). Both take the same commands and scripts; a multi-key command, script,
 * MULTI or pipeline on a cluster must keep its keys in one slot (see KeySpace's hash tags).
 */
export type RedisClient = Redis | Cluster;

/** How long a graceful QUIT may take before the socket is simply dropped. */
const QUIT_TIMEOUT_MS = 2_000;

/** command: fails fast while Redis is down; worker: waits the outage out (BullMQ blocking calls). */
export type RedisConnectionKind = 'command' | 'worker';

/**
 * Opens every hand-made ioredis connection of the process, all from REDIS_URL (and its TLS CA), or
 * to the Redis Cluster of REDIS_CLUSTER_NODES with its credentials and TLS: named (CLIENT LIST
 * shows `trailsight-<name>`), their outages logged once per transition, and closed together.
 * RedisService opens the shared command connection with it, the job producer its own.
 */
export class RedisConnectionFactory {
  private readonly connections = new Set<RedisClient>();

  constructor(
    private readonly target: RedisTarget,
    private readonly logger: Logger,
  ) {}

  open(name: string, kind: RedisConnectionKind): RedisClient {
    const options = {
      ...(kind === 'command' ? commandConnectionOptions(this.target) : workerConnectionOptions(this.target)),
      connectionName: `trailsight-${name}`,
    };
    const connection = connectRedis(this.target, options);
    this.watch(connection, name);
    this.connections.add(connection);
    return connection;
  }

  /** Closes every connection opened here, gracefully when Redis answers. Never throws. */
  async closeAll(): Promise<void> {
    const closing = [...this.connections];
    this.connections.clear();
    await Promise.all(closing.map(closeRedis));
  }

  /** Logs each transition (lost, recovered) once, not every failed reconnect attempt. */
  private watch(connection: RedisClient, name: string): void {
    const where = redisWhereOf(this.target);
    let state: 'connecting' | 'up' | 'down' = 'connecting';
    const down = (reason: string) => {
      if (state === 'down') return;
      const what = state === 'up' ? 'lost' : 'cannot connect';
      this.logger.warn(`Redis ${name} connection ${what} (${where}): ${reason}; reconnecting in the background`);
      state = 'down';
    };
    connection.on('ready', () => {
      if (state === 'down') this.logger.log(`Redis ${name} connection recovered (${where})`);
      state = 'up';
    });
    // Without an 'error' listener ioredis reports every failed reconnect as unhandled.
    connection.on('error', (error: Error) => down(error.message || error.name));
    // 'reconnecting' rather than 'close': a connection we close ourselves does not reconnect.
    connection.on('reconnecting', () => down('connection closed'));
  }
}

/** A connection with these options to the target's one Redis, or to its Redis Cluster (REDIS_CLUSTER_NODES). */
export function connectRedis(target: RedisTarget, options: RedisOptions): RedisClient {
  const nodes = clusterNodesOf(target);
  if (nodes.length === 0) return new Redis(options);
  return settlingConnect(
    new Cluster(
      nodes.map(({ host, port }) => ({ host, port })),
      clusterOptionsOf(options),
    ),
  );
}

/**
 * An ioredis Cluster's connect() promise never settles when its ready check fails (CLUSTERDOWN
 * right after a primary died): it reconnects under a new connect() and leaves the first one
 * pending. BullMQ awaits it when it re-opens a worker's blocking connection, and the idle worker
 * then never fetches a job again (nor closes). Here connect() also settles on the cluster's next
 * 'ready' (or 'end'), and so do the connects of its duplicates (BullMQ's blocking connections).
 */
function settlingConnect(cluster: Cluster): Cluster {
  const connect = cluster.connect.bind(cluster);
  cluster.connect = () =>
    new Promise<void>((resolve, reject) => {
      const onReady = () => settle(resolve);
      const onEnd = () => settle(() => reject(new Error('Connection is closed.')));
      function settle(done: () => void) {
        cluster.off('ready', onReady);
        cluster.off('end', onEnd);
        done();
      }
      cluster.once('ready', onReady);
      cluster.once('end', onEnd);
      connect().then(
        () => settle(resolve),
        (error: unknown) => settle(() => reject(error instanceof Error ? error : new Error(String(error)))),
      );
    });
  const duplicate = cluster.duplicate.bind(cluster);
  cluster.duplicate = (...args: Parameters<Cluster['duplicate']>) => settlingConnect(duplicate(...args));
  return cluster;
}

/** Resolves true once the connection is ready, false after timeoutMs or when it ends. */
export function waitUntilReady(connection: RedisClient, timeoutMs: number): Promise<boolean> {
  if (connection.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(false), timeoutMs);
    const onReady = () => finish(true);
    const onEnd = () => finish(false);
    function finish(ready: boolean) {
      clearTimeout(timer);
      connection.off('ready', onReady);
      connection.off('end', onEnd);
      resolve(ready);
    }
    connection.once('ready', onReady);
    connection.once('end', onEnd);
  });
}

/**
 * QUIT when Redis answers (pending replies arrive first); otherwise, or when QUIT gets no answer in
 * time, drop the socket. Never throws and never waits on a Redis that is gone (a bare quit() on a
 * reconnecting connection with an offline queue would wait forever and keep the process alive).
 */
export async function closeRedis(connection: RedisClient): Promise<void> {
  if (connection.status === 'end') return;
  if (connection.status !== 'ready') {
    connection.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<void>((_, reject) => {
    timer = setTimeout(() => reject(new Error('QUIT timed out')), QUIT_TIMEOUT_MS);
  });
  try {
    await Promise.race([connection.quit(), timedOut]);
  } catch {
    connection.disconnect();
  } finally {
    clearTimeout(timer);
  }
}
