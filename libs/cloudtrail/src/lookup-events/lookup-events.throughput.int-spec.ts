import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { Redis } from 'ioredis';
import { KeySpace, type AppConfig } from '@trailsight/core';
import { EventsQueueSink, JobProducer } from '@trailsight/queue';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { RejectsRepository } from '../ingest/rejects.repository.js';
import { createSimulator, type Simulator } from '@trailsight/simulator';
import { CheckpointRepository } from './checkpoint.repository.js';
import { CloudTrailClientFactory } from './cloudtrail-client.factory.js';
import { LookupEventsSource } from './lookup-events.source.js';
import { TokenBucketRepository } from './token-bucket.repository.js';

const PREFIX = 'let';
const MEASURE_MS = 8_000;
const ACCOUNTS = Array.from({ length: 10 }, (_, i) => String(100000000000 + i));
// Wall-clock speed from a Wednesday 15:00 UTC: at 6,000 calls/min every page is full.
const OFFSET = Date.UTC(2026, 2, 4, 15, 0, 0) - Date.now();
const now = () => Date.now() + OFFSET;

/**
 * LookupEvents allows 2 req/s x 50 events = 100 events/s per account-region; the poller should
 * read at that ceiling (`poller_fraction_of_api_ceiling` = events/s / 100), with the simulator
 * enforcing the real 2 req/s.
 */
describe('LookupEventsSource throughput at the real 2 req/s (simulated account)', () => {
  let server: ThrowawayRedis;
  let redis: Redis;
  let sim: Simulator;
  let url: string;
  let jobs: JobProducer;
  let producer: EventsQueueSink;
  let keys: KeySpace;
  const clients: CloudTrailClient[] = [];
  const runners: LookupEventsSource[] = [];

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    keys = new KeySpace(PREFIX);
    const config = { redisUrl: server.url, redisPrefix: PREFIX, batchSize: 500 } as AppConfig;
    jobs = new JobProducer(config);
    producer = new EventsQueueSink(jobs, config);
    sim = createSimulator({
      seed: 9,
      accounts: ACCOUNTS,
      regions: ['us-east-1'],
      eventsPerMinute: 6_000,
      rateLimit: 2,
      now,
    });
    ({ url } = await sim.server.start(0));
  });
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((runner) => runner.stop()));
    for (const client of clients.splice(0)) client.destroy();
  });
  afterAll(async () => {
    await sim.server.stop();
    await jobs.onModuleDestroy();
    await redis.quit();
    await server.stop();
  });

  /** Runs one source per account for MEASURE_MS after each has read a page; per-source rates. */
  async function measure(accounts: string[]) {
    const factory = new CloudTrailClientFactory({
      source: 'simulator',
      cloudTrailEndpoint: url,
      simulatorPort: 0,
      accounts: [],
    });
    for (const accountId of accounts) {
      const source = { accountId, region: 'us-east-1' };
      const client = factory.create(source);
      clients.push(client);
      const runner = new LookupEventsSource(
        source,
        client,
        new TokenBucketRepository(redis, keys),
        new CheckpointRepository(redis, keys),
        producer,
        new RejectsRepository(redis, keys),
        { ratePerSecond: 2, pollIntervalMs: 10_000, overlapMs: 60_000, backfillMs: 86_400_000, batchSize: 500, now },
      );
      runners.push(runner);
      runner.start();
    }
    const sum = () =>
      runners.reduce(
        (total, runner) => {
          const stats = runner.stats();
          return {
            pages: total.pages + stats.pages,
            events: total.events + stats.eventsRead,
            throttles: total.throttles + stats.throttles,
          };
        },
        { pages: 0, events: 0, throttles: 0 },
      );
    // From each source's first page on: an idle bucket's free first slot is not the steady rate.
    while (runners.some((runner) => runner.stats().pages === 0)) await new Promise((r) => setTimeout(r, 10));
    const start = { ...sum(), at: Date.now() };
    await new Promise((resolve) => setTimeout(resolve, MEASURE_MS)); // the measurement window itself
    const end = { ...sum(), at: Date.now() };
    const seconds = ((end.at - start.at) / 1000) * accounts.length;
    const result = {
      sources: accounts.length,
      pagesPerSecond: (end.pages - start.pages) / seconds,
      eventsPerSecond: (end.events - start.events) / seconds,
      throttles: end.throttles,
    };
    console.log(`LookupEvents throughput per account-region: ${JSON.stringify(result)}`);
    return result;
  }

  it('reads one account-region at >= 95% of the API ceiling, without a throttle', async () => {
    const result = await measure(ACCOUNTS.slice(0, 1));
    expect(result.eventsPerSecond / 100).toBeGreaterThanOrEqual(0.95);
    expect(result.throttles).toBe(0);
  }, 20_000);

  it('keeps the pace with ten account-regions at once', async () => {
    await redis.flushall();
    const result = await measure(ACCOUNTS);
    expect(result.eventsPerSecond / 100).toBeGreaterThanOrEqual(0.9);
    expect(result.throttles).toBe(0);
  }, 20_000);
});
