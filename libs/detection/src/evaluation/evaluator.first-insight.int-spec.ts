import { Queue } from 'bullmq';
import type { CheckpointRepository } from '@trailsight/cloudtrail';
import { DAY_MS, HOUR_MS, MINUTE_MS, type InsightRecord, type SlimEvent } from '@trailsight/domain';
import { bullPrefix, loadConfig, RedisService, workerConnectionOptions, type AppConfig } from '@trailsight/core';
import type { FindingsRepository } from '@trailsight/findings';
import { QueueName } from '@trailsight/queue';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { sameTimeLastWeek } from '../../../../test/support/recent-time.js';
import { poisson, seededRandom } from '../core/synthetic-traffic.fixture.js';
import type { CounterRepository } from '../counters/counter.repository.js';
import type { EvaluationRepository } from './evaluation.repository.js';
import type { EvaluatorService } from './evaluator.service.js';
import { evaluatorOver } from './evaluator.fixture.js';

const SOURCE = { accountId: '123456789012', region: 'eu-west-1' };

/**
 * The first insight of a new account does not wait for the whole back-fill: LookupEvents reads
 * newest first, and evaluation starts once the most recent day is counted. Against a real Redis,
 * with the back-fill's checkpoint moved by hand the way the poller moves it, and counters written
 * by the real CounterRepository in the order the poller would deliver them (newest first).
 */
describe('EvaluatorService: first insight during the back-fill (real Redis)', () => {
  let redis: ThrowawayRedis;
  let config: AppConfig;
  let service: RedisService;
  let events: Queue;
  let counters: CounterRepository;
  let checkpoints: CheckpointRepository;
  let evaluations: EvaluationRepository;
  let evaluator: EvaluatorService;
  let findings: FindingsRepository;
  const notified: Array<{ event: string; record: InsightRecord }> = [];

  // A 3-day back-fill that began 30 minutes before `now`; RunInstances at ~6/min by one role.
  // An old burst two days back (before the first evaluated minute), and a live one that is
  // still going on when the back-fill completes.
  const now = sameTimeLastWeek(Date.UTC(2026, 10, 30, 12, 0, 0));
  const backfillFrom = now - 3 * DAY_MS;
  const backfillUntil = now - 30 * MINUTE_MS;
  const oldBurst = now - 2 * DAY_MS;
  const liveBurst = now - 5 * MINUTE_MS;
  const random = seededRandom(23);

  function minuteEvents(minute: number): SlimEvent[] {
    const burst =
      (minute >= oldBurst && minute < oldBurst + 10 * MINUTE_MS) ||
      (minute >= liveBurst && minute < liveBurst + 10 * MINUTE_MS);
    const calls = poisson(random, 6) + (burst ? 150 : 0);
    return Array.from({ length: calls }, (_, i) => ({
      eventId: `r-${minute}-${i}`,
      eventTimeMs: minute + i,
      eventSource: 'ec2.amazonaws.com',
      eventName: 'RunInstances',
      readOnly: false,
      identity: `arn:aws:iam::123456789012:role/${i < 6 ? 'deployer' : 'intruder'}`,
      userAgent: 'terraform/1.9',
    }));
  }

  /** Counts the minutes [from, to) as the poller would deliver them, newest first. */
  async function deliver(from: number, to: number): Promise<void> {
    const batches = [];
    for (let minute = to - MINUTE_MS; minute >= from; minute -= MINUTE_MS) {
      batches.push({ id: `batch-${minute}`, events: minuteEvents(minute) });
    }
    for (let i = 0; i < batches.length; i += 500) await counters.countBatches(SOURCE, batches.slice(i, i + 500), now);
  }

  /** One run over every account-region; the run of `source`. */
  async function runOf(source: typeof SOURCE, budgetMs: number, at: number) {
    const runs = await evaluator.runOnce(budgetMs, at);
    return runs.find((r) => r.source.accountId === source.accountId)!;
  }

  const callRateNotices = () =>
    notified
      .filter((n) => n.record.insightDetails.insightType === 'ApiCallRateInsight')
      .map((n) => `${n.event} ${n.record.eventTime}`);

  beforeAll(async () => {
    redis = await startRedis();
    config = loadConfig({ REDIS_URL: redis.url, REDIS_PREFIX: 'firstinsight', EVALUATION_LATENESS_SECONDS: '0' });
    service = new RedisService(config);
    await service.onModuleInit();
    events = new Queue(QueueName.Events, {
      connection: workerConnectionOptions(redis.url),
      prefix: bullPrefix('firstinsight'),
    });
    ({ evaluator, counters, checkpoints, evaluations, findings } = evaluatorOver(service, config, events, {
      notify: (event, record) => Promise.resolve(void notified.push({ event, record })),
    }));

    // The live tail is in up to `now`; the back-fill has read 20 of the 24 hours it needs.
    await checkpoints.loadOrCreate(SOURCE, {
      liveUntil: now,
      backfillFrom,
      backfillUntil,
      backfillCursor: backfillUntil,
      backfillDone: false,
      backfillStartedAt: backfillUntil,
    });
    await checkpoints.registerSources([SOURCE]);
    await deliver(backfillUntil - 20 * HOUR_MS, now);
    await checkpoints.advanceBackfill(SOURCE, backfillUntil - 20 * HOUR_MS);
  }, 120_000);

  afterAll(async () => {
    await events?.close();
    await service?.onApplicationShutdown();
    await redis?.stop();
  });

  it('waits while the most recent day is not back-filled', async () => {
    const [run] = await evaluator.runOnce(60_000, now);
    expect(run).toMatchObject({ skipped: 'backfilling', minutes: 0 });
    expect(await evaluations.progress(SOURCE)).toBeUndefined();
  }, 60_000);

  it('waits, once the day is enqueued, until every batch enqueued before is counted', async () => {
    // The poller moved the checkpoint once the day's oldest hours were enqueued; their batch
    // still waits in the queue (no worker here), so it is not counted yet.
    const cursor = backfillUntil - 25 * HOUR_MS - 30_000;
    await checkpoints.advanceBackfill(SOURCE, cursor);
    const pending = await events.add('pending-batch', { note: 'counted below' });
    expect((await evaluator.runOnce(60_000, now))[0]).toMatchObject({ skipped: 'backfilling', minutes: 0 });

    await deliver(cursor + 30_000, backfillUntil - 20 * HOUR_MS);
    await pending.remove();
    const [run] = await evaluator.runOnce(60_000, now);
    // From the first whole minute the back-fill covers up to the last closed one.
    const historyStart = cursor + 30_000;
    expect(run).toMatchObject({ minutes: (now - historyStart) / MINUTE_MS, started: 1, ended: 0 });
    expect((await evaluations.progress(SOURCE))?.historyStart).toBe(historyStart);

    // The live burst is open; the old one, before the first evaluated minute, is not reported.
    expect(callRateNotices()).toEqual([`insight.start ${awsTime(liveBurst)}`]);
    const { items } = await findings.list({});
    expect(items.map((f) => [f.startTime, f.state])).toEqual([[awsTime(liveBurst), 'open']]);
  }, 60_000);

  it('starts on a day of live tail when the back-fill is starved (a live tail busy enough to take every request)', async () => {
    const starved = { accountId: '210987654321', region: 'eu-west-1' };
    const start = now - 23 * HOUR_MS;
    const checkpoint = { backfillFrom: start - 7 * DAY_MS, backfillUntil: start, backfillCursor: start };
    await checkpoints.loadOrCreate(starved, { ...checkpoint, liveUntil: now, backfillDone: false });
    await checkpoints.registerSources([starved]);
    expect(await runOf(starved, 60_000, now)).toMatchObject({ skipped: 'backfilling' });

    await checkpoints.advanceLive(starved, start + DAY_MS);
    expect(await runOf(starved, 60_000, start + DAY_MS)).toMatchObject({ minutes: DAY_MS / MINUTE_MS });
    expect((await evaluations.progress(starved))?.historyStart).toBe(start);
  }, 60_000);

  it('learns the older days once the back-fill completes, without a second notice for what was judged', async () => {
    const relearnFrom = Math.ceil(backfillFrom / MINUTE_MS) * MINUTE_MS;
    const oldestDelivered = backfillUntil - 25 * HOUR_MS;
    await deliver(relearnFrom, oldestDelivered);
    await checkpoints.advanceBackfill(SOURCE, backfillFrom);
    await checkpoints.finishBackfill(SOURCE);

    // The older hours had no attribution rollup (never evaluated); the re-learn adds them once.
    const oldHour = oldBurst - (oldBurst % HOUR_MS);
    const rollup = () => service.client.hgetall(service.keys.attributionHour(SOURCE, oldHour));
    expect(await rollup()).toEqual({});
    // Live minutes go first; the re-learn takes what is left of a run's budget (none here).
    const starved = await runOf(SOURCE, 0, now);
    expect(starved).toMatchObject({ relearned: 0, minutes: 0 });
    expect((await evaluations.progress(SOURCE))?.historyStart).toBe(backfillUntil - 25 * HOUR_MS);
    const run = await runOf(SOURCE, 60_000, now);
    // The hour's call count (its largest field): ~6/min and the 10-minute burst of 150/min.
    expect(Math.max(...Object.values(await rollup()).map(Number))).toBeGreaterThan(60 * 5 + 10 * 150);
    expect(run).toMatchObject({ relearned: (now - MINUTE_MS - relearnFrom) / MINUTE_MS + 1, minutes: 0, started: 0 });
    expect((await evaluations.progress(SOURCE))?.historyStart).toBe(relearnFrom);
    expect(callRateNotices()).toHaveLength(1);

    // The live burst goes on and ends once, on the state that opened it; the old burst is never reported.
    await deliver(now, now + 30 * MINUTE_MS);
    await checkpoints.advanceLive(SOURCE, now + 30 * MINUTE_MS);
    const later = await runOf(SOURCE, 60_000, now + 30 * MINUTE_MS);
    expect(later).toMatchObject({ minutes: 30, started: 0, ended: 1 });
    expect(callRateNotices()).toEqual([
      `insight.start ${awsTime(liveBurst)}`,
      `insight.end ${awsTime(liveBurst + 10 * MINUTE_MS)}`,
    ]);
    const { items } = await findings.list({});
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ state: 'closed', durationMinutes: 10 });
    expect(items[0].baselineAverage).toBeGreaterThan(5);
    expect(items[0].baselineAverage).toBeLessThan(8);

    // A later run, on the same or another replica, learns nothing again.
    const again = await runOf(SOURCE, 60_000, now + 30 * MINUTE_MS);
    expect(again.relearned).toBeUndefined();
  }, 120_000);
});

/** Times as Insights records and findings write them (whole seconds, no milliseconds). */
function awsTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}
