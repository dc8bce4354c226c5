import { Logger, type LoggerService } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import type { RedisClient } from './redis-connection.factory.js';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { loadConfig } from '../config/config.loader.js';
import { TrailsightConfigModule } from '../config/config.module.js';
import { RedisConnectionFactory } from './redis-connection.factory.js';
import { RedisModule } from './redis.module.js';
import { RedisService } from './redis.service.js';

class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown): void {
    this.lines.push(`log ${String(message)}`);
  }
  warn(message: unknown): void {
    this.lines.push(`warn ${String(message)}`);
  }
  error(message: unknown): void {
    this.lines.push(`error ${String(message)}`);
  }
}

function once(connection: RedisClient, event: 'ready' | 'end'): Promise<void> {
  return new Promise((resolve) => connection.once(event, () => resolve()));
}

/** Resolves after `count` more reconnect attempts: proof that retries happened meanwhile. */
function reconnectAttempts(connection: RedisClient, count: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const onAttempt = () => {
      if (++seen < count) return;
      connection.off('reconnecting', onAttempt);
      resolve();
    };
    connection.on('reconnecting', onAttempt);
  });
}

describe('RedisService and RedisConnectionFactory', () => {
  let redis: ThrowawayRedis;
  let moduleRef: TestingModule;
  let service: RedisService;
  /** Worker connections are opened by the same factory RedisService uses for its own. */
  let connections: RedisConnectionFactory;
  const logger = new CapturingLogger();

  beforeAll(async () => {
    redis = await startRedis();
    const config = loadConfig({ REDIS_URL: redis.url, REDIS_PREFIX: 'rs-test' });
    moduleRef = await Test.createTestingModule({ imports: [TrailsightConfigModule.forRoot(config), RedisModule] })
      .setLogger(logger)
      .compile();
    await moduleRef.init();
    service = moduleRef.get(RedisService);
    connections = new RedisConnectionFactory(redis.url, new Logger('test-connections'));
  });

  afterAll(async () => {
    await connections?.closeAll();
    await moduleRef?.close();
    await redis?.stop();
  });

  it('is ready after init, with keys under REDIS_PREFIX', async () => {
    expect(service.client.status).toBe('ready');
    await expect(service.client.ping()).resolves.toBe('PONG');
    expect(service.keys.sources()).toBe('rs-test:sources');
    expect(service.client).toBe(service.client);
  });

  it('names its connections, so CLIENT LIST shows who is who', async () => {
    const worker = connections.open('events-worker', 'worker');
    await once(worker, 'ready');
    const clients = await service.client.client('LIST');
    expect(clients).toContain('name=trailsight-command');
    expect(clients).toContain('name=trailsight-events-worker');
  });

  it('fails fast while Redis is down, waits on worker connections, and logs each transition once', async () => {
    const worker = connections.open('outage-worker', 'worker');
    await once(worker, 'ready');
    logger.lines.length = 0;

    const retrying = reconnectAttempts(service.client, 3);
    await redis.stop({ keepData: true });
    await retrying;

    // The command connection rejects at once instead of queueing.
    const started = Date.now();
    await expect(service.client.set('k', 'v')).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(200);

    // A worker connection holds the command until Redis is back.
    const held = worker.set(service.keys.sources(), 'after-outage');
    const recovered = once(service.client, 'ready');
    await redis.restart();
    await expect(held).resolves.toBe('OK');
    await recovered;
    await expect(service.client.get(service.keys.sources())).resolves.toBe('after-outage');

    const lost = logger.lines.filter((line) => line.includes('command connection lost'));
    const back = logger.lines.filter((line) => line.includes('command connection recovered'));
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatch(/^warn /);
    expect(back).toHaveLength(1);
  });

  it('closes every connection at shutdown, without errors even when Redis is down', async () => {
    const worker = connections.open('worker', 'worker');
    await once(worker, 'ready');
    const client = service.client;
    await redis.stop({ keepData: true });
    await Promise.all([reconnectAttempts(client, 1), reconnectAttempts(worker, 1)]);

    await expect(moduleRef.close()).resolves.toBeUndefined();
    await expect(connections.closeAll()).resolves.toBeUndefined();
    await redis.restart();
  });
});
