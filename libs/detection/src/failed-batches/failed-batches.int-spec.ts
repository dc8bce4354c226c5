import { HealthIndicatorService } from '@nestjs/terminus';
import { Queue, Worker, type Job } from 'bullmq';
import { CheckpointRepository, RejectsRepository } from '@trailsight/cloudtrail';
import { MINUTE_MS, type AccountRegion, type SlimEvent } from '@trailsight/domain';
import { bullPrefix, loadConfig, RedisService, workerConnectionOptions, type AppConfig } from '@trailsight/core';
import { FindingsRepository, SuppressionEvaluator, SuppressionsRepository } from '@trailsight/findings';
import { JobName, QueueName, EventQueues } from '@trailsight/queue';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { sameTimeLastWeek } from '../../../../test/support/recent-time.js';
import { CounterRepository, type CountResult, type EventBatch } from '../counters/counter.repository.js';
import { TuningRepository } from '../tuning/tuning.repository.js';
import { EvaluationRepository } from '../evaluation/evaluation.repository.js';
import { EvaluatorService } from '../evaluation/evaluator.service.js';
import { InsightRecorder } from '../evaluation/insight-recorder.js';
import { CountingBuffer } from '../ingest/counting.buffer.js';
import { EventCountingService } from '../ingest/event-counting.service.js';
import { EventsProcessor } from '../ingest/events.processor.js';
import { FailedBatchesHealthIndicator } from './failed-batches.health.js';
import { failedBatchMetrics } from './failed-batches.metrics.js';
import { FailedBatchesRepository } from './failed-batches.repository.js';
import { FailedBatchesService } from './failed-batches.service.js';

const SOURCE = { accountId: '123456789012', region: 'eu-west-1' };
const OTHER = { accountId: '210987654321', region: 'us-east-1' };
const now = sameTimeLastWeek(Date.UTC(2026, 10, 30, 12, 0, 0));
const historyStart = now - 60 * MINUTE_MS;
/** The minute the failing batch's events fall in. */
const failedMinute = now - 20 * MINUTE_MS;

/**
 * The real counter repository, with the one fault the test needs: while `mode` says so, a count
 * fails before reaching Redis, or after Redis applied it (a reply lost, a worker killed mid-ack).
 */
class FaultyCounters extends CounterRepository {
  mode: 'ok' | 'fail-before' | 'fail-after' = 'ok';

  override async countBatches(source: AccountRegion, batches: EventBatch[], nowMs?: number): Promise<CountResult[]> {
    if (this.mode === 'fail-before') throw new Error('ECONNRESET (injected before counting)');
    const results = await super.countBatches(source, batches, nowMs);
    if (this.mode === 'fail-after') throw new Error('ECONNRESET (injected after counting)');
    return results;
  }
}

function events(prefix: string, n: number, minute = failedMinute): SlimEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    eventId: `${prefix}-${i}`,
    eventTimeMs: minute + i,
    eventSource: 'ec2.amazonaws.com',
    eventName: 'RunInstances',
    readOnly: false,
    identity: 'arn:aws:iam::123456789012:role/deployer',
    userAgent: 'terraform/1.9',
  }));
}

describe('event batches that fail every attempt (real Redis, real BullMQ)', () => {
  let redis: ThrowawayRedis;
  let config: AppConfig;
  let service: RedisService;
  let queue: Queue;
  let worker: Worker;
  let counters: FaultyCounters;
  let failed: FailedBatchesRepository;
  let operator: FailedBatchesService;
  let processor: EventsProcessor;

  /** RunInstances calls counted in the failed batch's minute. */
  const countedCalls = async () =>
    (await counters.readMinutes(SOURCE, failedMinute, failedMinute))[0]?.fields['c|ec2.amazonaws.com|RunInstances'] ??
    0;

  async function settled(id: string, state: 'failed' | 'completed'): Promise<Job> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      // State first: a job read before it finished would lack its return value.
      if ((await queue.getJobState(id)) === state) return (await queue.getJob(id))!;
      if (Date.now() > deadline) throw new Error(`job ${id} not ${state}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** A batch with two attempts, as the producer would add it (12 in production). */
  async function enqueue(id: string, batchEvents: SlimEvent[], source = SOURCE): Promise<void> {
    await queue.add(
      JobName.EventBatch,
      { source, origin: 'test', events: batchEvents },
      { jobId: id, attempts: 2, backoff: { type: 'fixed', delay: 10 } },
    );
  }

  beforeAll(async () => {
    redis = await startRedis();
    config = loadConfig({ REDIS_URL: redis.url, REDIS_PREFIX: 'fbtest', EVALUATION_LATENESS_SECONDS: '0' });
    service = new RedisService(config);
    await service.onModuleInit();
    counters = new FaultyCounters(service.client, service.keys, config);
    failed = new FailedBatchesRepository(service.client, service.keys);
    const connection = workerConnectionOptions(redis.url);
    const prefix = bullPrefix('fbtest');
    queue = new Queue(QueueName.Events, { connection, prefix });
    const partitions = new EventQueues(queue, config, service);
    processor = new EventsProcessor(
      new EventCountingService(new CountingBuffer(counters), new RejectsRepository(service.client, service.keys)),
      failed,
      config,
      partitions,
    );
    worker = new Worker(QueueName.Events, (job) => processor.process(job as never), { connection, prefix });
    operator = new FailedBatchesService(failed, partitions);
  }, 30_000);

  afterAll(async () => {
    await worker?.close();
    await queue?.close();
    await service?.onApplicationShutdown();
    await redis?.stop();
  });

  it('records a batch whose counts reached Redis before its last attempt failed; a retry does not count it twice', async () => {
    counters.mode = 'fail-after';
    await enqueue('batch-after', events('after', 40));
    await settled('batch-after', 'failed');

    expect(await failed.list()).toEqual([
      expect.objectContaining({
        id: 'batch-after',
        ...SOURCE,
        events: 40,
        firstMinute: failedMinute,
        lastMinute: failedMinute,
        error: expect.stringContaining('injected after counting'),
      }),
    ]);
    expect(await failed.holds()).toEqual(
      new Map([[`${SOURCE.accountId}:${SOURCE.region}`, { firstMinute: failedMinute, batches: 1, events: 40 }]]),
    );
    const metrics = new Map((await failedBatchMetrics(failed)).map((family) => [family.name, family.samples]));
    expect(metrics.get('trailsight_event_batches_failed_total')).toEqual([{ value: 1 }]);
    expect(metrics.get('trailsight_event_batches_failed_events_total')).toEqual([{ value: 40 }]);
    expect(metrics.get('trailsight_event_batches_failed')).toEqual([
      { labels: { account: '123456789012', region: 'eu-west-1' }, value: 1 },
    ]);
    await expect(
      new FailedBatchesHealthIndicator(failed, new HealthIndicatorService()).isHealthy('eventBatches'),
    ).resolves.toMatchObject({
      eventBatches: { status: 'down', message: expect.stringContaining('123456789012:eu-west-1') },
    });
    // The first attempt's script ran: the events are in the counters once already.
    expect(await countedCalls()).toBe(40);

    counters.mode = 'ok';
    expect(await operator.retry()).toEqual([{ id: 'batch-after', outcome: 'retried' }]);
    const job = await settled('batch-after', 'completed');
    expect(job.returnvalue).toMatchObject({ counted: 0, alreadyDone: true });
    expect(await countedCalls()).toBe(40);
    expect(await failed.list()).toEqual([]);
    await expect(
      new FailedBatchesHealthIndicator(failed, new HealthIndicatorService()).isHealthy('eventBatches'),
    ).resolves.toMatchObject({ eventBatches: { status: 'up' } });
  }, 30_000);

  it('counts a batch that never reached Redis exactly once on retry, and an unknown id is reported', async () => {
    counters.mode = 'fail-before';
    await enqueue('batch-before', events('before', 25));
    await settled('batch-before', 'failed');
    expect(await countedCalls()).toBe(40);

    counters.mode = 'ok';
    expect(await operator.retry(['batch-before', 'batch-nope'])).toEqual([
      { id: 'batch-nope', outcome: 'unknown' },
      { id: 'batch-before', outcome: 'retried' },
    ]);
    expect((await settled('batch-before', 'completed')).returnvalue).toMatchObject({ counted: 25 });
    expect(await countedCalls()).toBe(65);
    // Retried again by mistake (already counted): nothing recorded, nothing counted.
    expect(await operator.retry(['batch-before'])).toEqual([{ id: 'batch-before', outcome: 'unknown' }]);
    expect(await countedCalls()).toBe(65);
    expect((await failed.totals()).batches).toBe(2);
  }, 30_000);

  it('holds the evaluation of the failed batch’s account-region only, until the batch is dealt with', async () => {
    const checkpoints = new CheckpointRepository(service.client, service.keys);
    for (const source of [SOURCE, OTHER]) {
      await checkpoints.loadOrCreate(source, {
        liveUntil: now,
        backfillFrom: historyStart,
        backfillUntil: historyStart,
        backfillCursor: historyStart,
        backfillDone: true,
      });
    }
    await checkpoints.registerSources([SOURCE, OTHER]);
    const evaluations = new EvaluationRepository(service.client, service.keys, config.counterRetentionMinutes);
    const evaluator = new EvaluatorService(
      config,
      evaluations,
      counters,
      checkpoints,
      new EventQueues(queue, config, service),
      new InsightRecorder(
        config,
        evaluations,
        counters,
        new FindingsRepository(service.client, service.keys),
        new SuppressionEvaluator(new SuppressionsRepository(service.client, service.keys)),
        {
          notify: () => Promise.resolve(),
        },
      ),
      failed,
      new TuningRepository(service.client, service.keys),
    );
    counters.mode = 'fail-before';
    await enqueue('batch-held', events('held', 10));
    await settled('batch-held', 'failed');
    counters.mode = 'ok';

    const lastClosed = now - MINUTE_MS;
    const runs = await evaluator.runOnce(60_000, now);
    const held = runs.find((r) => r.source.accountId === SOURCE.accountId);
    const free = runs.find((r) => r.source.accountId === OTHER.accountId);
    // Without the hold, the minutes of the missing batch would be judged (a false drop of RunInstances).
    expect(held).toMatchObject({
      cursor: failedMinute - MINUTE_MS,
      heldBy: { firstMinute: failedMinute, batches: 1, events: 10 },
    });
    expect(free).toMatchObject({ cursor: lastClosed });
    expect(free?.heldBy).toBeUndefined();

    expect(await operator.discard(['batch-held'])).toEqual([{ id: 'batch-held', outcome: 'discarded' }]);
    expect(await queue.getJob('batch-held')).toBeUndefined();
    expect(await failed.totals()).toMatchObject({ discardedBatches: 1, discardedEvents: 10 });
    const [after] = (await evaluator.runOnce(60_000, now)).filter((r) => r.source.accountId === SOURCE.accountId);
    expect(after).toMatchObject({ cursor: lastClosed });
    expect(after.heldBy).toBeUndefined();
  }, 60_000);

  it('records a batch BullMQ failed without running it (stalled past the limit) from the failed event, once', async () => {
    counters.mode = 'fail-before';
    await enqueue('batch-stalled', events('stalled', 5));
    const job = await settled('batch-stalled', 'failed');
    counters.mode = 'ok';
    // As if BullMQ had failed it without the processor (which records): nothing recorded yet.
    await failed.clear('batch-stalled');
    const before = await failed.totals();
    const stalled = new Error('job stalled more than allowable limit');
    await processor.onFailed(job, stalled);
    await processor.onFailed(job, stalled);
    expect((await failed.list()).map((b) => [b.id, b.events, b.error])).toEqual([
      ['batch-stalled', 5, 'job stalled more than allowable limit'],
    ]);
    expect(await failed.totals()).toMatchObject({ batches: before.batches + 1, events: before.events + 5 });
  }, 30_000);
});
