import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoggerService } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { AppConfig } from '../config/app-config.js';
import { redactUrl } from '../logging/redact.js';
import { clusterNodesOf, redisOptionsFromUrl, redisWhereOf, type RedisTarget } from './redis-connection.options.js';

export interface EmbeddedRedis {
  /** The Redis URL to use (REDIS_URL itself: a spawned server listens on its port). */
  url: string;
  /** Stops the server this call started; does nothing when an existing Redis was reused. */
  stop(): Promise<void>;
}

const PROBE_TIMEOUT_MS = 1_000;
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost']);

/**
 * For `npm start` only: makes sure a Redis answers at REDIS_URL. An existing one is reused;
 * otherwise, for a local URL and with `redis-server` on PATH, one is started on that port
 * with its data (AOF) under `<cwd>/.data/redis` and stopped when this process exits.
 * Anything else is an error that says how to get a Redis.
 *
 *   const redis = await ensureRedis(config, new Logger('Main'));
 *   const app = await NestFactory.create(AppModule, { logger: createLogger(config) });
 *   app.enableShutdownHooks(undefined, { useProcessExit: true });
 *
 * `useProcessExit` matters: Nest otherwise ends a SIGTERM/SIGINT shutdown by re-raising the
 * signal, which skips the process 'exit' event that stops a spawned server. Calling
 * `redis.stop()` after `app.close()` works as well.
 */
export async function ensureRedis(
  config: Pick<AppConfig, 'redisUrl' | 'redisTlsCaFile'> & Partial<Pick<AppConfig, 'redisClusterNodes'>>,
  logger: Pick<LoggerService, 'log'>,
): Promise<EmbeddedRedis> {
  const url = config.redisUrl;
  if (clusterNodesOf(config).length > 0) {
    // A Redis Cluster is never embedded: the processes connect to it (and reconnect) themselves.
    logger.log(`Using the Redis ${redisWhereOf(config)}`);
    return { url, stop: () => Promise.resolve() };
  }
  const shown = redactUrl(url);
  if (await answersPing(config, PROBE_TIMEOUT_MS)) {
    logger.log(`Using the Redis at ${shown}`);
    return { url, stop: () => Promise.resolve() };
  }

  const parsed = new URL(url);
  if (parsed.protocol !== 'redis:' || !LOCAL_HOSTS.has(parsed.hostname)) {
    throw new Error(`No Redis answers at ${shown}. ${HOW_TO_GET_REDIS}`);
  }
  const dir = join(process.cwd(), '.data', 'redis');
  mkdirSync(dir, { recursive: true });
  const args = [
    '--port',
    parsed.port || '6379',
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--save',
    '',
    '--maxmemory-policy',
    'noeviction',
    '--logfile',
    'redis.log',
  ];
  if (parsed.password) args.push('--requirepass', decodeURIComponent(parsed.password));

  logger.log(`No Redis answers at ${shown}: starting redis-server with its data in ${dir}`);
  // redis-server is looked up on this process's PATH (passed explicitly: test runners sandbox process.env).
  const child = spawn('redis-server', args, { stdio: 'ignore', env: process.env });
  await waitUntilServing(child, url, dir, shown);

  // Last resort if the process ends without calling stop(): do not leave a stray server.
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  return {
    url,
    async stop() {
      process.off('exit', killOnExit);
      await terminate(child);
    },
  };
}

const HOW_TO_GET_REDIS =
  'Install one (apt-get install redis-server, or brew install redis) so it can be started here, ' +
  'or run `docker compose up -d redis`, or set REDIS_URL to a Redis you have.';

async function waitUntilServing(child: ChildProcess, url: string, dir: string, shown: string): Promise<void> {
  let failure: Error | undefined;
  child.once('error', (error: NodeJS.ErrnoException) => {
    failure =
      error.code === 'ENOENT'
        ? new Error(`No Redis answers at ${shown} and redis-server is not on PATH. ${HOW_TO_GET_REDIS}`)
        : new Error(`Could not start redis-server: ${error.message}`);
  });
  child.once('exit', (code, signal) => {
    failure ??= new Error(
      `redis-server exited (${signal ?? `code ${String(code)}`}) before answering on ${shown}.` +
        ` Its log ends with:\n${logTail(join(dir, 'redis.log'))}`,
    );
  });

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (failure) throw failure;
    if (await answersPing(url, 200)) return;
    if (Date.now() > deadline) {
      await terminate(child);
      throw new Error(`redis-server did not answer on ${shown} within ${START_TIMEOUT_MS / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One PING over a short-lived connection that never retries. */
async function answersPing(target: RedisTarget, timeoutMs: number): Promise<boolean> {
  const probe = new Redis({
    ...redisOptionsFromUrl(target),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    // A probe that failed has ended already; disconnecting it again would only leave a timer behind.
    if (probe.status !== 'end') probe.disconnect();
  }
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  await new Promise<void>((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    // SIGTERM lets redis-server flush its append-only file before exiting.
    child.kill('SIGTERM');
  });
}

function logTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-5).join('\n');
  } catch {
    return '(no log)';
  }
}
