import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.tokens.js';
import { redactUrl } from '../logging/redact.js';
import { KeySpace } from './key-space.js';
import { commandConnectionOptions, workerConnectionOptions } from './redis-connection.options.js';

/** How long boot waits for the first connection before carrying on and reconnecting in the background. */
const STARTUP_WAIT_MS = 5_000;
/** How long a graceful QUIT may take before the socket is simply dropped. */
const QUIT_TIMEOUT_MS = 2_000;

/**
 * Owns every Redis connection of the process, all built from REDIS_URL.
 *
 * - `client`: the one shared command connection (repositories, producers, API). It fails
 *   fast while Redis is down and reconnects in the background.
 * - `createWorkerConnection()`: a new connection that waits out outages, for BullMQ Workers
 *   and QueueEvents built by hand. Whoever creates one closes its Worker first (in
 *   onModuleDestroy); this service then closes the connection itself at shutdown.
 * - `bullConnectionOptions()`: the same settings as options, for `@nestjs/bullmq`, which then
 *   opens and closes its own connections.
 *
 * Shutdown: apps call `app.enableShutdownHooks()` so SIGTERM/SIGINT run the Nest shutdown
 * hooks; onApplicationShutdown (the last phase, after workers have closed) closes every
 * connection here, gracefully when Redis answers and by dropping the socket when it does not.
 */
@Injectable()
export class RedisService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RedisService.name);
  private readonly connections = new Set<Redis>();
  private commandClient?: Redis;
  /** Every Redis key this deployment owns, under REDIS_PREFIX. */
  readonly keys: KeySpace;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.keys = new KeySpace(config.redisPrefix);
  }

  /** The shared command connection, opened on first use. */
  get client(): Redis {
    this.commandClient ??= this.open('command', commandConnectionOptions(this.config.redisUrl));
    return this.commandClient;
  }

  /** A new connection for a BullMQ Worker or QueueEvents (maxRetriesPerRequest: null, retries forever). */
  createWorkerConnection(name = 'worker'): Redis {
    return this.open(name, workerConnectionOptions(this.config.redisUrl));
  }

  /** Connection options for `BullModule.forRoot({ connection })`; BullMQ owns those connections. */
  bullConnectionOptions(): RedisOptions {
    return workerConnectionOptions(this.config.redisUrl);
  }

  async onModuleInit(): Promise<void> {
    // The command connection has no offline queue: commands sent before it is ready would be
    // rejected, so boot gives it a moment. A Redis that is down does not stop the boot.
    await waitUntilReady(this.client, STARTUP_WAIT_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    const closing = [...this.connections];
    this.connections.clear();
    this.commandClient = undefined;
    await Promise.all(closing.map(close));
  }

  private open(name: string, options: RedisOptions): Redis {
    const connection = new Redis({ ...options, connectionName: `trailsight-${name}` });
    this.watch(connection, name);
    this.connections.add(connection);
    return connection;
  }

  /** Logs each transition (lost, recovered) once, not every failed reconnect attempt. */
  private watch(connection: Redis, name: string): void {
    const where = redactUrl(this.config.redisUrl);
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

function waitUntilReady(connection: Redis, timeoutMs: number): Promise<boolean> {
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

/** QUIT when Redis answers (pending replies arrive first); otherwise drop the socket. Never throws. */
async function close(connection: Redis): Promise<void> {
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
