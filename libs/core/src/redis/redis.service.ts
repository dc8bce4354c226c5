import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.tokens.js';
import { KeySpace } from './key-space.js';
import { RedisConnectionFactory, waitUntilReady, type RedisClient } from './redis-connection.factory.js';
import { workerConnectionOptions, type RedisConnectionOptions } from './redis-connection.options.js';

/** How long boot waits for the first connection before carrying on and reconnecting in the background. */
const STARTUP_WAIT_MS = 5_000;

/**
 * The process's shared Redis connection and key space, built from REDIS_URL (or
 * REDIS_CLUSTER_NODES) and REDIS_PREFIX.
 *
 * - `client`: the one shared command connection (repositories, API). It fails fast while
 *   Redis is down and reconnects in the background.
 * - `bullConnectionOptions()`: options for connections that wait out outages, for
 *   `@nestjs/bullmq` and other BullMQ users, which then open and close their own.
 * - `bullConnection()`: what BullModule connects with: those options on a single Redis; on a
 *   cluster (BullMQ takes no cluster options, only a Cluster), one waiting Cluster connection,
 *   shared by the queues and workers (which duplicate it for their blocking calls), closed here.
 *
 * Shutdown: apps call `app.enableShutdownHooks()` so SIGTERM/SIGINT run the Nest shutdown
 * hooks; onApplicationShutdown (the last phase, after workers and producers have closed) closes
 * the connection, gracefully when Redis answers and by dropping the socket when it does not.
 */
@Injectable()
export class RedisService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RedisService.name);
  private readonly connections: RedisConnectionFactory;
  private commandClient?: RedisClient;
  private bullCluster?: Cluster;
  /** Every Redis key this deployment owns, under REDIS_PREFIX. */
  readonly keys: KeySpace;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.keys = new KeySpace(config.redisPrefix);
    this.connections = new RedisConnectionFactory(config, this.logger);
  }

  /** The shared command connection, opened on first use. */
  get client(): RedisClient {
    this.commandClient ??= this.connections.open('command', 'command');
    return this.commandClient;
  }

  /** Connection options for `BullModule.forRoot({ connection })`; BullMQ owns those connections. */
  bullConnectionOptions(): RedisConnectionOptions {
    return workerConnectionOptions(this.config);
  }

  /** True when REDIS_CLUSTER_NODES points at a Redis Cluster. */
  get isCluster(): boolean {
    return this.config.redisClusterNodes.length > 0;
  }

  bullConnection(): RedisConnectionOptions | Cluster {
    if (!this.isCluster) return this.bullConnectionOptions();
    this.bullCluster ??= this.connections.open('bull', 'worker') as Cluster;
    return this.bullCluster;
  }

  async onModuleInit(): Promise<void> {
    // The command connection has no offline queue: commands sent before it is ready would be
    // rejected, so boot gives it a moment. A Redis that is down does not stop the boot.
    await waitUntilReady(this.client, STARTUP_WAIT_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    this.commandClient = this.bullCluster = undefined;
    await this.connections.closeAll();
  }
}
