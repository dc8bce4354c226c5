import { once } from 'node:events';
import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { bullPrefix, KeySpace, type AppConfig } from '@trailsight/core';
import { EventsQueueSink, JobProducer, QueueName } from '@trailsight/queue';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { RejectsRepository } from '../ingest/rejects.repository.js';
import { MINUTE_MS, type SlimEvent } from '@trailsight/domain';
import { createSimulator, type Simulator } from '@trailsight/simulator';
import { CheckpointRepository } from './checkpoint.repository.js';
import { CloudTrailClientFactory } from './cloudtrail-client.factory.js';
import { LookupEventsSource, type LookupEventsSettings } from './lookup-events.source.js';
import { TokenBucketRepository } from './token-bucket.repository.js';

const ACCOUNT = '222222222222';
const source = { accountId: ACCOUNT, region: 'eu-west-1' };
const PREFIX = 'lef';
// Wall-clock speed from a Wednesday 15:00 UTC: the simulated volume does not depend on the hour.
const OFFSET = Date.UTC(2026, 2, 4, 15, 0, 0) - Date.now();
const now = () => Date.now() + OFFSET;

interface SimulatorStats {
  sources: Array<{ requests: number; served: number; throttled: number; errors: number; faulted: number }>;
}

describe('LookupEventsSource under throttling and faults (real Redis, real SDK client, simulated account)', () => {
  let server: ThrowawayRedis;
  let redis: Redis;
  let queue: Queue;
  let jobs: JobProducer;
  let producer: EventsQueueSink;
  let bucket: TokenBucketRepository;
  let checkpoints: CheckpointRepository;
  let rejects: RejectsRepository;
  let sim: Simulator | undefined;
  let url: string;
  const clients: CloudTrailClient[] = [];
  const running: LookupEventsSource[] = [];

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    const keys = new KeySpace(PREFIX);
    bucket = new TokenBucketRepository(redis, keys);
    checkpoints = new CheckpointRepository(redis, keys);
    rejects = new RejectsRepository(redis, keys);
    const config = { redisUrl: server.url, redisPrefix: PREFIX, batchSize: 100 } as AppConfig;
    jobs = new JobProducer(config);
    producer = new EventsQueueSink(jobs, config);
    queue = new Queue(QueueName.Events, { connection: { port: server.port }, prefix: bullPrefix(PREFIX) });
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop()));
    for (const client of clients.splice(0)) client.destroy();
    await sim?.server.stop();
    sim = undefined;
    await redis.flushall();
  });
  afterAll(async () => {
    await jobs.onModuleDestroy();
    await queue.close();
    await redis.quit();
    await server.stop();
  });

  async function simulator(eventsPerMinute: number, rateLimit: number): Promise<void> {
    sim = createSimulator({ seed: 3, accounts: [ACCOUNT], regions: ['eu-west-1'], eventsPerMinute, rateLimit, now });
    ({ url } = await sim.server.start(0));
  }

  function lookupSource(settings: Partial<LookupEventsSettings>): LookupEventsSource {
    const factory = new CloudTrailClientFactory({
      source: 'simulator',
      cloudTrailEndpoint: url,
      simulatorPort: 0,
      accounts: [{ accountId: ACCOUNT }],
      requestTimeoutMs: 500,
    });
    const client = factory.create(source);
    clients.push(client);
    const runner = new LookupEventsSource(source, client, bucket, checkpoints, producer, rejects, {
      ratePerSecond: 100,
      pollIntervalMs: 60_000,
      overlapMs: 0,
      backfillMs: 0,
      batchSize: 100,
      now,
      ...settings,
    });
    running.push(runner);
    return runner;
  }

  async function post(path: string, body: unknown): Promise<void> {
    const response = await fetch(`${url}${path}`, { method: 'POST', body: JSON.stringify(body) });
    expect(response.status).toBe(201);
  }

  async function simulatorStats(): Promise<SimulatorStats['sources'][number]> {
    const { sources } = (await (await fetch(`${url}/stats`)).json()) as SimulatorStats;
    return sources[0];
  }

  /** The backfilled range must be in the queue exactly: every event id the account served, no other. */
  async function expectBackfillComplete(): Promise<number> {
    const checkpoint = (await checkpoints.load(source))!;
    expect(checkpoint.backfillDone).toBe(true);
    const served = sim!.account.eventsBetween(source, checkpoint.backfillFrom, checkpoint.backfillUntil);
    const jobs = await queue.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized']);
    const ids = new Set<string>();
    for (const job of jobs) {
      for (const event of (job.data as { events: SlimEvent[] }).events) {
        if (event.eventTimeMs >= checkpoint.backfillFrom && event.eventTimeMs <= checkpoint.backfillUntil)
          ids.add(event.eventId);
      }
    }
    expect(served.length).toBeGreaterThan(0);
    expect(served.filter((record) => !ids.has(record.eventID))).toEqual([]);
    expect(ids.size).toBe(served.length);
    return served.length;
  }

  it('retries through forced throttles, 500s, a timeout and truncated bodies without losing an event', async () => {
    await simulator(200, 1_000);
    await post('/faults', { kind: 'throttle', count: 3 });
    await post('/faults', { kind: 'error500', count: 2 });
    await post('/faults', { kind: 'timeout', count: 1 });
    await post('/faults', { kind: 'truncate', count: 2 });
    const runner = lookupSource({ backfillMs: 10 * MINUTE_MS });
    const backfilled = once(runner, 'backfilled');
    runner.start();
    await backfilled;
    await runner.stop();

    expect(await expectBackfillComplete()).toBeGreaterThan(1_000);
    expect(runner.stats()).toMatchObject({ throttles: 3, errors: 5 });
    expect(await simulatorStats()).toMatchObject({ throttled: 3, faulted: 3 });
  }, 20_000);

  it('keeps two replicas under the real 2 req/s together through the shared bucket: no throttle, no loss', async () => {
    await simulator(100, 2);
    // Two sources of one account-region, as during a lease handover: each reads the whole range.
    const replicas = [
      lookupSource({ backfillMs: 3 * MINUTE_MS, ratePerSecond: 2 }),
      lookupSource({ backfillMs: 3 * MINUTE_MS, ratePerSecond: 2 }),
    ];
    const done = Promise.all(replicas.map((replica) => once(replica, 'backfilled')));
    for (const replica of replicas) replica.start();
    await done;
    await Promise.all(replicas.map((replica) => replica.stop()));

    await expectBackfillComplete();
    const stats = await simulatorStats();
    expect(stats.served).toBeGreaterThanOrEqual(8);
    expect(stats.throttled).toBe(0);
    expect(replicas.reduce((sum, r) => sum + r.stats().throttles, 0)).toBe(0);
  }, 20_000);

  it('backs off when the real rate limit throttles (a pace above 2 req/s): no event lost', async () => {
    await simulator(100, 2);
    const runner = lookupSource({ backfillMs: 4 * MINUTE_MS, ratePerSecond: 8 });
    const backfilled = once(runner, 'backfilled');
    runner.start();
    await backfilled;
    await runner.stop();

    await expectBackfillComplete();
    expect(runner.stats().throttles).toBeGreaterThan(0);
    expect((await simulatorStats()).throttled).toBe(runner.stats().throttles);
  }, 20_000);
});
