import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
import { LookupEventsSource, type LivePollSummary, type LookupEventsSettings } from './lookup-events.source.js';
import { TokenBucketRepository } from './token-bucket.repository.js';

const ACCOUNT = '111111111111';
const source = { accountId: ACCOUNT, region: 'us-east-1' };
const PREFIX = 'les';
// The simulated clock runs at wall-clock speed from a Wednesday 15:00 UTC (peak traffic), so
// the volumes below do not depend on when the test runs.
const OFFSET = Date.UTC(2026, 2, 4, 15, 0, 0) - Date.now();
const now = () => Date.now() + OFFSET;

describe('LookupEventsSource (real Redis, real SDK client, simulated account)', () => {
  let server: ThrowawayRedis;
  let redis: Redis;
  let queue: Queue;
  let jobs: JobProducer;
  let producer: EventsQueueSink;
  let bucket: TokenBucketRepository;
  let checkpoints: CheckpointRepository;
  let rejects: RejectsRepository;
  const simulators: Simulator[] = [];
  const clients: CloudTrailClient[] = [];
  const running: LookupEventsSource[] = [];

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    const keys = new KeySpace(PREFIX);
    bucket = new TokenBucketRepository(redis, keys);
    checkpoints = new CheckpointRepository(redis, keys);
    rejects = new RejectsRepository(redis, keys);
    const config = { redisUrl: server.url, redisPrefix: PREFIX, batchSize: 200 } as AppConfig;
    jobs = new JobProducer(config);
    producer = new EventsQueueSink(jobs, config);
    queue = new Queue(QueueName.Events, { connection: { port: server.port }, prefix: bullPrefix(PREFIX) });
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop()));
    for (const client of clients.splice(0)) client.destroy();
    await Promise.all(simulators.splice(0).map((sim) => sim.server.stop()));
    await redis.flushall();
  });
  afterAll(async () => {
    await jobs.onModuleDestroy();
    await queue.close();
    await redis.quit();
    await server.stop();
  });

  async function simulator(options: { eventsPerMinute: number; visibilityDelayMs?: number }) {
    const sim = createSimulator({
      seed: 7,
      accounts: [ACCOUNT],
      regions: ['us-east-1'],
      rateLimit: 1_000,
      now,
      ...options,
    });
    simulators.push(sim);
    const { url } = await sim.server.start(0);
    return { sim, url };
  }

  function lookupSource(endpoint: string, settings: Partial<LookupEventsSettings>): LookupEventsSource {
    const factory = new CloudTrailClientFactory({
      source: 'simulator',
      cloudTrailEndpoint: endpoint,
      simulatorPort: 0,
      accounts: [{ accountId: ACCOUNT }],
    });
    const client = factory.create(source);
    clients.push(client);
    const runner = new LookupEventsSource(source, client, bucket, checkpoints, producer, rejects, {
      ratePerSecond: 100,
      pollIntervalMs: 60_000,
      overlapMs: 2 * MINUTE_MS,
      backfillMs: 0,
      batchSize: 200,
      now,
      ...settings,
    });
    running.push(runner);
    return runner;
  }

  /** Every event in the queue, once per event id. */
  async function queued(): Promise<Map<string, SlimEvent>> {
    const jobs = await queue.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized']);
    const events = new Map<string, SlimEvent>();
    for (const job of jobs)
      for (const event of (job.data as { events: SlimEvent[] }).events) events.set(event.eventId, event);
    return events;
  }

  /** Calls and errors per minute and API, keyed "minute eventSource eventName [errorCode]". */
  function countsOf(events: Iterable<SlimEvent>, since: number, until: number): Map<string, number> {
    const counts = new Map<string, number>();
    const add = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
    for (const e of events) {
      if (e.eventTimeMs < since || e.eventTimeMs > until) continue;
      const minute = new Date(Math.floor(e.eventTimeMs / MINUTE_MS) * MINUTE_MS).toISOString().replace('.000Z', 'Z');
      add(`${minute} ${e.eventSource} ${e.eventName}`);
      if (e.errorCode) add(`${minute} ${e.eventSource} ${e.eventName} ${e.errorCode}`);
    }
    return counts;
  }

  /** The same counts from the simulator's GET /truth. */
  async function truth(url: string, since: number, until: number): Promise<Map<string, number>> {
    const response = await fetch(`${url}/truth?since=${since}&until=${until}&accountId=${ACCOUNT}&region=us-east-1`);
    const { rows } = (await response.json()) as {
      rows: Array<{
        minute: string;
        eventSource: string;
        eventName: string;
        calls: number;
        errors: Record<string, number>;
      }>;
    };
    const counts = new Map<string, number>();
    for (const row of rows) {
      counts.set(`${row.minute} ${row.eventSource} ${row.eventName}`, row.calls);
      for (const [code, n] of Object.entries(row.errors))
        counts.set(`${row.minute} ${row.eventSource} ${row.eventName} ${code}`, n);
    }
    return counts;
  }

  it('backfills history and tails live: the queue holds exactly what the account served', async () => {
    const { url } = await simulator({ eventsPerMinute: 200 });
    const runner = lookupSource(url, { backfillMs: 30 * MINUTE_MS });
    const backfilled = once(runner, 'backfilled');
    const livePoll = once(runner, 'livePoll');
    runner.start();
    await Promise.all([backfilled, livePoll]);
    await runner.stop();

    const checkpoint = (await checkpoints.load(source))!;
    expect(checkpoint.backfillDone).toBe(true);
    expect(checkpoint.liveUntil - checkpoint.backfillFrom).toBeGreaterThanOrEqual(30 * MINUTE_MS);
    const expected = await truth(url, checkpoint.backfillFrom, checkpoint.liveUntil);
    const total = [...expected].filter(([key]) => key.split(' ').length === 3).reduce((sum, [, n]) => sum + n, 0);
    expect(total).toBeGreaterThan(3_000);
    expect(countsOf((await queued()).values(), checkpoint.backfillFrom, checkpoint.liveUntil)).toEqual(expected);

    const stats = runner.stats();
    expect(stats.backfill).toMatchObject({ done: true, percent: 100, etaSeconds: 0 });
    expect(stats.pages).toBeGreaterThanOrEqual(Math.ceil(total / 50));
    expect(stats.throttles + stats.errors + stats.rejects).toBe(0);
  }, 20_000);

  it('catches events that become visible late: regular polls re-check briefly, sweeps re-read the overlap', async () => {
    const delay = 3_000;
    const { url } = await simulator({ eventsPerMinute: 600, visibilityDelayMs: delay });
    const runner = lookupSource(url, { pollIntervalMs: 200, overlapMs: 6_000, recheckMs: 500, sweepEveryMs: 2_000 });
    const polls: LivePollSummary[] = [];
    const threeSweeps = new Promise<void>((resolve) =>
      runner.on('livePoll', (poll) => {
        polls.push(poll);
        if (polls.filter((p) => p.sweep).length === 3) resolve();
      }),
    );
    runner.start();
    await threeSweeps;
    await runner.stop();

    const sweeps = polls.filter((p) => p.sweep);
    expect(polls.length).toBeGreaterThan(sweeps.length); // regular polls ran between the sweeps
    // Everything visible by the last sweep, from the first window on, is in the queue.
    const since = sweeps[0].startMs + 1_000;
    const until = sweeps[2].endMs - delay - 1_000;
    const expected = await truth(url, since, until);
    expect(expected.size).toBeGreaterThan(10);
    expect(countsOf((await queued()).values(), since, until)).toEqual(expected);
    // Sweeps re-read what earlier polls had enqueued: skipped in memory, not queued again.
    expect(runner.stats().duplicatesSkipped).toBeGreaterThan(0);
  }, 20_000);

  it('resumes a backfill after a restart from the checkpoint, with the same set of event ids', async () => {
    const { sim, url } = await simulator({ eventsPerMinute: 200 });
    const first = lookupSource(url, { backfillMs: 45 * MINUTE_MS, ratePerSecond: 50 });
    let progress = 0;
    const stopped = new Promise<void>((resolve) =>
      first.on('backfillProgress', () => {
        if (++progress === 10) resolve();
      }),
    );
    first.start();
    await stopped;
    await first.stop();
    const cut = (await checkpoints.load(source))!;
    expect(cut.backfillDone).toBe(false);
    expect(cut.backfillCursor).toBeLessThan(cut.backfillUntil);

    const second = lookupSource(url, { backfillMs: 45 * MINUTE_MS, ratePerSecond: 50 });
    const backfilled = once(second, 'backfilled');
    second.start();
    await backfilled;
    await second.stop();

    const checkpoint = (await checkpoints.load(source))!;
    expect(checkpoint.backfillFrom).toBe(cut.backfillFrom); // the successor kept the stored range
    const served = sim.account.eventsBetween(source, checkpoint.backfillFrom, checkpoint.backfillUntil);
    const ids = new Set(
      [...(await queued()).values()]
        .filter((e) => e.eventTimeMs >= checkpoint.backfillFrom && e.eventTimeMs <= checkpoint.backfillUntil)
        .map((e) => e.eventId),
    );
    expect(ids.size).toBe(served.length);
    expect(served.every((record) => ids.has(record.eventID))).toBe(true);
    // The successor started at the cursor: it re-read at most one unflushed batch and a page.
    const firstRead = first.stats().backfill.eventsRead;
    expect(firstRead).toBeGreaterThan(1_000);
    expect(second.stats().backfill.eventsRead).toBeLessThanOrEqual(served.length - firstRead + 200 + 50 + 50);
  }, 20_000);

  it('parks a malformed CloudTrailEvent with its reason and counts it; the good events are enqueued', async () => {
    const time = now() - 30_000;
    const record = (id: string) =>
      JSON.stringify({
        eventVersion: '1.08',
        eventTime: new Date(time).toISOString(),
        eventSource: 'ec2.amazonaws.com',
        eventName: 'RunInstances',
        awsRegion: 'us-east-1',
        eventID: id,
        readOnly: false,
        recipientAccountId: ACCOUNT,
        userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/alice` },
      });
    const body = JSON.stringify({
      Events: [
        { EventId: 'good-1', EventTime: time / 1000, CloudTrailEvent: record('good-1') },
        { EventId: 'bad-1', EventTime: time / 1000, CloudTrailEvent: '{"eventVersion":"1.08","eventTime":' },
        { EventId: 'good-2', EventTime: time / 1000, CloudTrailEvent: record('good-2') },
      ],
    });
    // A stand-in endpoint: the simulator serves only well-formed records.
    const fake: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(body));
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    try {
      const runner = lookupSource(`http://127.0.0.1:${(fake.address() as AddressInfo).port}`, {});
      const polled = once(runner, 'livePoll');
      runner.start();
      await polled;
      await runner.stop();

      expect(await rejects.counts()).toEqual({ 'malformed-json': 1 });
      const [parked] = await rejects.list(10);
      expect(parked).toMatchObject({
        reason: 'malformed-json',
        eventId: 'bad-1',
        origin: `lookup-events:${ACCOUNT}/us-east-1`,
        sample: '{"eventVersion":"1.08","eventTime":',
      });
      expect([...(await queued()).keys()].sort()).toEqual(['good-1', 'good-2']);
      expect(runner.stats()).toMatchObject({ rejects: 1, eventsEnqueued: 2 });
    } finally {
      fake.closeAllConnections();
      await new Promise((resolve) => fake.close(resolve));
    }
  }, 20_000);
});
