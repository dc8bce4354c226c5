import { Logger, type LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { redisTlsUnavailable, startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import type { AppConfig } from '../config/app-config.js';
import { loadConfig } from '../config/config.loader.js';
import { TrailsightConfigModule } from '../config/config.module.js';
import { ensureRedis } from './embedded-redis.js';
import { RedisConnectionFactory, waitUntilReady } from './redis-connection.factory.js';
import { bullPrefix, workerConnectionOptions } from './redis-connection.options.js';
import { RedisModule } from './redis.module.js';
import { RedisService } from './redis.service.js';

const PASSWORD = 'pw-Zq8!rT#s3cr3t/with@odd';

class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown): void {
    this.lines.push(String(message));
  }
  warn(message: unknown): void {
    this.lines.push(String(message));
  }
  error(message: unknown): void {
    this.lines.push(String(message));
  }
}

const tlsMissing = redisTlsUnavailable();
if (tlsMissing) console.warn(`SKIPPED the rediss:// tests: ${tlsMissing}`);

/**
 * REDIS_URL with credentials (requirepass) and rediss:// (TLS, verified against REDIS_TLS_CA_FILE)
 * against a real redis-server, through every kind of connection: the shared command connection
 * (RedisService), the factory's worker connections, BullMQ queues and workers, and the embedded
 * Redis probe of `npm start`. The password never shows in what is logged.
 */
describe.each([
  { mode: 'requirepass', tls: false, skip: undefined },
  { mode: 'TLS + requirepass', tls: true, skip: tlsMissing },
])('Redis with $mode', ({ tls, skip }) => {
  const maybe = skip ? it.skip : it;
  let redis: ThrowawayRedis;
  let config: AppConfig;

  beforeAll(async () => {
    if (skip) return;
    redis = await startRedis({ password: PASSWORD, tls });
    config = loadConfig({ REDIS_URL: redis.url, ...(redis.caFile ? { REDIS_TLS_CA_FILE: redis.caFile } : {}) });
  });

  afterAll(async () => {
    await redis?.stop();
  });

  maybe('serves RedisService, BullMQ and the npm start probe, and logs no password', async () => {
    expect(redis.url).toMatch(tls ? /^rediss:\/\/default:/ : /^redis:\/\/default:/);
    const logger = new CapturingLogger();
    const moduleRef = await Test.createTestingModule({ imports: [TrailsightConfigModule.forRoot(config), RedisModule] })
      .setLogger(logger)
      .compile();
    await moduleRef.init();
    const service = moduleRef.get(RedisService);
    await service.client.set('cred-test', 'ok');
    expect(await service.client.get('cred-test')).toBe('ok');

    const connection = workerConnectionOptions(config);
    const prefix = bullPrefix('cred');
    const queue = new Queue('cred-q', { connection, prefix });
    const events = new QueueEvents('cred-q', { connection, prefix });
    const worker = new Worker('cred-q', (job) => Promise.resolve((job.data as { n: number }).n * 2), {
      connection,
      prefix,
    });
    try {
      await events.waitUntilReady();
      const job = await queue.add('double', { n: 21 });
      expect(await job.waitUntilFinished(events, 10_000)).toBe(42);
    } finally {
      await worker.close();
      await events.close();
      await queue.close();
    }

    const embedded = await ensureRedis(config, logger);
    await embedded.stop();
    await moduleRef.close();
    expect(logger.lines.join('\n')).toContain('Using the Redis at');
    expect(logger.lines.join('\n')).not.toContain(PASSWORD);
    expect(logger.lines.join('\n')).not.toContain(encodeURIComponent(PASSWORD));
  });

  maybe('refuses a wrong password, and says so without any password in the log', async () => {
    const wrong = 'wrong-Pa55word-xyz';
    const logger = new CapturingLogger();
    const factory = new RedisConnectionFactory(
      { ...config, redisUrl: redis.url.replace(encodeURIComponent(PASSWORD), wrong) },
      logger as unknown as Logger,
    );
    const connection = factory.open('wrong', 'command');
    const error = await new Promise<Error>((resolve) => connection.once('error', resolve));
    await factory.closeAll();
    expect(error.message).toMatch(/WRONGPASS|NOAUTH|invalid/i);
    const logged = logger.lines.join('\n');
    expect(logged).toMatch(/Redis wrong connection cannot connect \(rediss?:\/\/127\.0\.0\.1:\d+\)/);
    expect(logged).not.toContain(wrong);
    expect(logged).not.toContain(PASSWORD);
  });

  if (tls) {
    maybe('verifies the server certificate: without REDIS_TLS_CA_FILE, or in plaintext, nothing connects', async () => {
      for (const target of [redis.url, redis.url.replace(/^rediss:/, 'redis:')]) {
        const client = new Redis({
          ...workerConnectionOptions(target),
          lazyConnect: true,
          retryStrategy: () => null,
          maxRetriesPerRequest: 0,
          connectTimeout: 2_000,
        });
        client.on('error', () => undefined);
        await expect(client.connect().then(() => client.ping())).rejects.toThrow();
        client.disconnect();
      }
      const good = new Redis({ ...workerConnectionOptions(config), lazyConnect: true });
      await good.connect();
      expect(await waitUntilReady(good, 2_000)).toBe(true);
      expect(await good.ping()).toBe('PONG');
      good.disconnect();
    });
  }
});
