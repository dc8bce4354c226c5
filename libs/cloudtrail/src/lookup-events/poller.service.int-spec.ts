import { SchedulerRegistry } from '@nestjs/schedule';
import { Test, type TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { CoreModule, KeySpace, loadConfig } from '@trailsight/core';
import { QueueModule } from '@trailsight/queue';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { createSimulator, type Simulator } from '@trailsight/simulator';
import { CheckpointRepository } from './checkpoint.repository.js';
import { PollLeaseRepository } from './poll-lease.repository.js';
import { PollerModule } from './poller.module.js';
import { PollerService } from './poller.service.js';

const ACCOUNTS = ['333333333333', '444444444444'];
const REGION = 'ap-southeast-2';
const PREFIX = 'pls';
const sources = ACCOUNTS.map((accountId) => ({ accountId, region: REGION }));

/** Resolves once `condition` holds (checked every 20 ms): the state itself is the proof. */
async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('PollerModule (Nest, real Redis, simulated account)', () => {
  let server: ThrowawayRedis;
  let redis: Redis;
  let sim: Simulator;
  let url: string;
  let leases: PollLeaseRepository;
  let checkpoints: CheckpointRepository;
  const replicas: TestingModule[] = [];

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    const keys = new KeySpace(PREFIX);
    leases = new PollLeaseRepository(redis, keys);
    checkpoints = new CheckpointRepository(redis, keys);
    sim = createSimulator({ seed: 5, accounts: ACCOUNTS, regions: [REGION], eventsPerMinute: 60, rateLimit: 100 });
    ({ url } = await sim.server.start(0));
  });
  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.close()));
    await sim.server.stop();
    await redis.quit();
    await server.stop();
  });

  /** One poller replica: the modules apps/poller composes, with short leases. */
  async function replica(): Promise<PollerService> {
    const config = loadConfig({
      REDIS_URL: server.url,
      REDIS_PREFIX: PREFIX,
      CLOUDTRAIL_SOURCE: 'simulator',
      CLOUDTRAIL_ENDPOINT: url,
      AWS_ACCOUNTS: ACCOUNTS.join(','),
      AWS_REGIONS: REGION,
      LOOKUP_EVENTS_RATE: '20',
      POLL_INTERVAL_SECONDS: '0.5',
      POLL_OVERLAP_MINUTES: '1',
      BACKFILL_DAYS: '0.01',
      LOG_LEVEL: 'warn',
    });
    const moduleRef = await Test.createTestingModule({
      imports: [CoreModule.forRoot({ config }), QueueModule, PollerModule],
    }).compile();
    moduleRef.useLogger(['error', 'warn']);
    replicas.push(moduleRef);
    const poller = moduleRef.get(PollerService);
    poller.configureLeases({ ttlMs: 1_000, renewMs: 100 });
    await moduleRef.init();
    return poller;
  }

  it('polls every configured account-region under a lease, hands them over on shutdown and after a crash', async () => {
    // A replica that died holding the second account-region's lease, before anyone polled it.
    expect(await leases.acquire(sources[1], 'dead-replica', 1_500)).toBe(true);

    const a = await replica();
    await until(() => a.sourceOf(sources[0]) !== undefined);
    expect(await redis.smembers(`${PREFIX}:sources`)).toEqual(
      expect.arrayContaining(sources.map((s) => `${s.accountId}:${s.region}`)),
    );
    await until(() => a.sourceOf(sources[0])!.stats().backfill.done);
    expect(await leases.holder(sources[0])).toBe(a.owner);

    // The dead replica's lease expires: A takes over and backfills from the shared checkpoint.
    await until(() => a.sourceOf(sources[1]) !== undefined);
    await until(() => a.sourceOf(sources[1])!.stats().backfill.done);
    expect(a.stats().map((s) => s.backfill.done)).toEqual([true, true]);
    // Each held account-region's live tail ticks on its own interval in the SchedulerRegistry.
    const aTimers = replicas[0].get(SchedulerRegistry);
    const liveTails = sources.map((s) => `live-tail:${s.accountId}:${s.region}`);
    expect(
      aTimers
        .getIntervals()
        .filter((name) => name.startsWith('live-tail:'))
        .sort(),
    ).toEqual(liveTails.sort());

    // A second replica finds every account-region taken.
    const b = await replica();
    await until(() => b.leaseRounds >= 3);
    expect(b.stats()).toEqual([]);
    expect(
      replicas[1]
        .get(SchedulerRegistry)
        .getIntervals()
        .filter((name) => name.startsWith('live-tail:')),
    ).toEqual([]);

    // A shuts down cleanly: its loops end, its leases are released, B takes over at once.
    const liveUntil = (await checkpoints.load(sources[0]))!.liveUntil;
    await replicas.shift()!.close();
    expect(a.stats()).toEqual([]);
    expect(aTimers.getIntervals()).toEqual([]);
    await until(() => b.stats().length === 2, 2_000);
    expect(await leases.holder(sources[0])).toBe(b.owner);
    // B resumes the live tail from A's checkpoint: it neither restarts the backfill nor goes back.
    const resumed = b.sourceOf(sources[0])!;
    // The first live poll at once, the next ones on the interval's ticks.
    await until(() => resumed.stats().livePolls >= 3);
    const checkpoint = (await checkpoints.load(sources[0]))!;
    expect(checkpoint.backfillDone).toBe(true);
    expect(checkpoint.liveUntil).toBeGreaterThan(liveUntil);
    expect(resumed.stats().backfill.eventsRead).toBe(0);
  }, 25_000);
});
