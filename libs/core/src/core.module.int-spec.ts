import { Module, type INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { startRedis, type ThrowawayRedis } from '../../../test/support/redis-server.js';
import { loadConfig } from './config/config.loader.js';
import { CoreModule } from './core.module.js';
import { healthIndicator, readinessCheck } from './health/health-indicators.js';

/** An indicator some other module of the app contributes; its state is set by the test. */
const queues = { healthy: true };
/** Whether that module's own work (workers, loops) runs, as its readiness check says. */
const workers = { running: true };

@Module({
  providers: [
    healthIndicator(() => () => Promise.resolve({ queues: { status: queues.healthy ? 'up' : 'down' } } as const)),
    readinessCheck(() => () => workers.running),
  ],
})
class QueuesHealthModule {}

interface HealthBody {
  status: string;
  info?: Record<string, Record<string, unknown>>;
  error?: Record<string, Record<string, unknown>>;
}

describe('CoreModule', () => {
  let redis: ThrowawayRedis;
  let app: INestApplication;
  let base: string;
  const crashes: unknown[] = [];
  const onCrash = (error: unknown) => crashes.push(error);

  beforeAll(async () => {
    process.on('unhandledRejection', onCrash);
    process.on('uncaughtException', onCrash);
    redis = await startRedis();
    const config = loadConfig({ REDIS_URL: redis.url, REDIS_PREFIX: 'core-test', LOG_LEVEL: 'error' });
    const moduleRef = await Test.createTestingModule({
      imports: [CoreModule.forRoot({ config }), QueuesHealthModule],
      providers: [healthIndicator(() => [() => Promise.resolve({ clock: { status: 'up' } } as const)])],
    }).compile();
    app = moduleRef.createNestApplication(new FastifyAdapter(), { logger: false });
    app.enableShutdownHooks();
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });

  afterAll(async () => {
    await app?.close();
    await redis?.stop();
    process.off('unhandledRejection', onCrash);
    process.off('uncaughtException', onCrash);
  });

  async function health(): Promise<{ status: number; body: HealthBody }> {
    const response = await fetch(`${base}/health`);
    return { status: response.status, body: (await response.json()) as HealthBody };
  }

  /** Polls /health until it answers `status` (the proof the change was noticed), or fails. */
  async function healthBecomes(status: number, timeoutMs: number): Promise<{ body: HealthBody; elapsedMs: number }> {
    const started = Date.now();
    for (;;) {
      const result = await health();
      const elapsedMs = Date.now() - started;
      if (result.status === status) return { body: result.body, elapsedMs };
      if (elapsedMs > timeoutMs) throw new Error(`/health still ${result.status} after ${elapsedMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('GET /health is 200 with Redis up, its memory details and every registered indicator', async () => {
    const { status, body } = await health();
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.info?.redis).toMatchObject({
      status: 'up',
      used_memory: expect.any(Number),
      maxmemory_policy: 'noeviction',
    });
    expect(body.info?.redis).not.toHaveProperty('warning');
    expect(body.info?.queues).toEqual({ status: 'up' });
    expect(body.info?.clock).toEqual({ status: 'up' });
  });

  it('GET /health/live and /health/ready answer up or down only; a burst of probes costs one PING a second', async () => {
    const probe = new Redis(redis.url);
    try {
      const pings = async () => Number(/cmdstat_ping:calls=(\d+)/.exec(await probe.info('commandstats'))?.[1] ?? 0);
      const before = await pings();
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => fetch(`${base}/health/ready`).then(async (r) => [r.status, await r.json()])),
      );
      expect(answers).toEqual(Array(50).fill([200, { status: 'up' }]));
      // The 50 probes shared one PING (two when the burst straddled the cache's second).
      expect((await pings()) - before).toBeLessThanOrEqual(2);
      const live = await fetch(`${base}/health/live`);
      expect([live.status, await live.json()]).toEqual([200, { status: 'up' }]);
    } finally {
      probe.disconnect();
    }
  });

  it("/health/ready is 503 while a module's work is not running, Redis up; /health/live stays up", async () => {
    const probe = async (path: string) => {
      const response = await fetch(`${base}${path}`);
      return [response.status, await response.json()] as const;
    };
    workers.running = false;
    try {
      expect(await probe('/health/ready')).toEqual([503, { status: 'down' }]);
      expect(await probe('/health/live')).toEqual([200, { status: 'up' }]);
    } finally {
      workers.running = true;
    }
    expect(await probe('/health/ready')).toEqual([200, { status: 'up' }]);
  });

  it('turns 503 when an indicator from another module is down', async () => {
    queues.healthy = false;
    try {
      const { status, body } = await health();
      expect(status).toBe(503);
      expect(body).toMatchObject({ status: 'error', error: { queues: { status: 'down' } } });
      expect(body.info?.redis).toMatchObject({ status: 'up' });
    } finally {
      queues.healthy = true;
    }
  });

  it('reports Redis down within a couple of seconds, stays alive, and recovers when Redis is back', async () => {
    await redis.stop({ keepData: true });
    const down = await healthBecomes(503, 2_000);
    expect(down.elapsedMs).toBeLessThan(2_000);
    expect(down.body).toMatchObject({
      statusCode: 503,
      message: 'Service Unavailable',
      status: 'error',
      error: { redis: { status: 'down', message: expect.stringMatching(/^not connected/) } },
    });
    expect(down.body.info?.queues).toEqual({ status: 'up' });

    // Fails fast on every probe, not only the first.
    const started = Date.now();
    expect((await health()).status).toBe(503);
    expect(Date.now() - started).toBeLessThan(1_500);
    // Readiness follows within its cache's second; liveness does not depend on Redis.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const ready = await fetch(`${base}/health/ready`);
    expect([ready.status, await ready.json()]).toEqual([503, { status: 'down' }]);
    expect((await fetch(`${base}/health/live`)).status).toBe(200);

    await redis.restart();
    const up = await healthBecomes(200, 10_000);
    expect(up.body.info?.redis).toMatchObject({ status: 'up' });
    expect(crashes).toEqual([]);
  });

  it('answers errors through the global filter', async () => {
    const response = await fetch(`${base}/nowhere`);
    expect(response.status).toBe(404);
    await expect(response.json()).resolves.toEqual({
      statusCode: 404,
      message: 'Cannot GET /nowhere',
      error: 'Not Found',
    });
  });

  it('shuts down cleanly while Redis is down', async () => {
    await redis.stop({ keepData: true });
    await healthBecomes(503, 2_000);
    await expect(app.close()).resolves.toBeUndefined();
    expect(crashes).toEqual([]);
  });
});
