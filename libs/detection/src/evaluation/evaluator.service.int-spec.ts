import { Queue } from 'bullmq';
import { type InsightRecord, MINUTE_MS, type SlimEvent } from '@trailsight/domain';
import { bullPrefix, loadConfig, RedisService, workerConnectionOptions, type AppConfig } from '@trailsight/core';
import type { FindingsRepository } from '@trailsight/findings';
import { CheckpointRepository } from '@trailsight/cloudtrail';
import { insightRecordErrors } from '../../../../test/support/insight-record.validator.js';
import { QueueName } from '@trailsight/queue';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { sameTimeLastWeek } from '../../../../test/support/recent-time.js';
import { poisson, seededRandom } from '../core/synthetic-traffic.fixture.js';
import type { EvaluatorService } from './evaluator.service.js';
import { evaluatorOver } from './evaluator.fixture.js';

const SOURCE = { accountId: '123456789012', region: 'eu-west-1' };

/**
 * The evaluator against a real Redis: counters written by the real CounterRepository, a poller
 * checkpoint saying the history is back-filled, then runs that must open and close one finding
 * with AWS-layout records, and nothing else.
 */
describe('EvaluatorService (real Redis)', () => {
  let redis: ThrowawayRedis;
  let config: AppConfig;
  let service: RedisService;
  let events: Queue;
  let evaluator: EvaluatorService;
  let findings: FindingsRepository;
  const notified: Array<{ event: string; record: InsightRecord }> = [];

  // Three quiet hours of RunInstances at ~20/min by two roles, a 10-minute burst of 200/min by
  // an unknown user, then quiet again; DescribeInstances (a read) fails with AccessDenied at ~1/min.
  const now = sameTimeLastWeek(Date.UTC(2026, 10, 30, 12, 0, 0));
  const historyStart = now - 4 * 60 * MINUTE_MS;
  const burstStart = now - 40 * MINUTE_MS;

  function minuteEvents(minute: number, random: () => number): SlimEvent[] {
    const burst = minute >= burstStart && minute < burstStart + 10 * MINUTE_MS;
    const out: SlimEvent[] = [];
    const calls = poisson(random, 20);
    for (let i = 0; i < calls; i++) {
      const arn = `arn:aws:iam::123456789012:role/${i % 2 ? 'deployer' : 'autoscaler'}`;
      out.push({
        eventId: `r-${minute}-${i}`,
        eventTimeMs: minute + i,
        eventSource: 'ec2.amazonaws.com',
        eventName: 'RunInstances',
        readOnly: false,
        identity: arn,
        userAgent: 'terraform/1.9',
      });
    }
    if (burst) {
      for (let i = 0; i < 200; i++) {
        out.push({
          eventId: `b-${minute}-${i}`,
          eventTimeMs: minute + i,
          eventSource: 'ec2.amazonaws.com',
          eventName: 'RunInstances',
          readOnly: false,
          identity: 'arn:aws:iam::123456789012:user/intruder',
          userAgent: 'python-requests/2.31',
          ...(i % 4 === 0 ? { errorCode: 'Client.UnauthorizedOperation' } : {}),
        });
      }
    }
    const errors = poisson(random, 1);
    for (let i = 0; i < errors; i++) {
      out.push({
        eventId: `d-${minute}-${i}`,
        eventTimeMs: minute + 30_000 + i,
        eventSource: 'ec2.amazonaws.com',
        eventName: 'DescribeInstances',
        readOnly: true,
        identity: 'arn:aws:iam::123456789012:role/reader',
        userAgent: 'aws-cli/2',
        errorCode: 'AccessDenied',
      });
    }
    return out;
  }

  beforeAll(async () => {
    redis = await startRedis();
    config = loadConfig({ REDIS_URL: redis.url, REDIS_PREFIX: 'evaltest', EVALUATION_LATENESS_SECONDS: '0' });
    service = new RedisService(config);
    await service.onModuleInit();
    events = new Queue(QueueName.Events, {
      connection: workerConnectionOptions(redis.url),
      prefix: bullPrefix('evaltest'),
    });
    const wired = evaluatorOver(service, config, events, {
      notify: (event, record) => Promise.resolve(void notified.push({ event, record })),
    });
    ({ evaluator, findings } = wired);
    const random = seededRandom(11);
    const batches = [];
    for (let minute = historyStart; minute < now; minute += MINUTE_MS) {
      batches.push({ id: `batch-${minute}`, events: minuteEvents(minute, random) });
    }
    await wired.counters.countBatches(SOURCE, batches, now);

    await wired.checkpoints.loadOrCreate(SOURCE, {
      liveUntil: now,
      backfillFrom: historyStart,
      backfillUntil: historyStart,
      backfillCursor: historyStart,
      backfillDone: true,
    });
    await wired.checkpoints.registerSources([SOURCE]);
  }, 60_000);

  afterAll(async () => {
    await events?.close();
    await service?.onApplicationShutdown();
    await redis?.stop();
  });

  it('finds the burst once, as a Start/End pair in AWS layout with its attributions, and nothing else', async () => {
    const runs = await evaluator.runOnce(60_000, now);
    expect(runs).toEqual([expect.objectContaining({ source: SOURCE, minutes: 4 * 60 })]);

    const { items } = await findings.list({});
    const burst = items.filter((f) => f.eventName === 'RunInstances' && f.insightType === 'ApiCallRateInsight');
    expect(burst).toHaveLength(1);
    const [finding] = burst;
    expect(finding.state).toBe('closed');
    expect(finding.direction).toBe('spike');
    expect(Date.parse(finding.startTime)).toBe(burstStart);
    expect(finding.durationMinutes).toBe(10);
    expect(finding.baselineAverage).toBeGreaterThan(15);
    expect(finding.baselineAverage).toBeLessThan(25);
    expect(finding.insightAverage).toBeGreaterThan(180);

    const { start, end } = finding.records;
    expect(insightRecordErrors(start)).toEqual([]);
    expect(insightRecordErrors(end)).toEqual([]);
    expect(end?.sharedEventID).toBe(start.sharedEventID);
    const attributions = end!.insightDetails.insightContext.attributions ?? [];
    const arns = attributions.find((a) => a.attribute === 'userIdentityArn');
    expect(arns?.insight[0]).toEqual({ value: 'arn:aws:iam::123456789012:user/intruder', average: 200 });
    expect(arns?.baseline.map((b) => b.value).sort()).toEqual([
      'arn:aws:iam::123456789012:role/autoscaler',
      'arn:aws:iam::123456789012:role/deployer',
    ]);
    const codes = attributions.find((a) => a.attribute === 'errorCode');
    expect(codes?.insight.map((c) => c.value)).toEqual(['null', 'Client.UnauthorizedOperation']);

    // The same burst's error series (50/min of a code never seen before) is an error-rate insight.
    const errorInsights = items.filter((f) => f.insightType === 'ApiErrorRateInsight');
    expect(errorInsights.map((f) => f.errorCode)).toEqual(['Client.UnauthorizedOperation']);
    // Nothing on the steady series: 20/min writes and ~1/min AccessDenied are the baseline.
    expect(items).toHaveLength(2);

    expect(notified.map((n) => `${n.event} ${n.record.insightDetails.insightType}`).sort()).toEqual([
      'insight.end ApiCallRateInsight',
      'insight.end ApiErrorRateInsight',
      'insight.start ApiCallRateInsight',
      'insight.start ApiErrorRateInsight',
    ]);
    const series = await findings.getSeries(finding.id);
    expect(series.length).toBeGreaterThanOrEqual(30 + 10);
  }, 120_000);

  it('is idempotent: a replica replaying from the snapshot writes no second finding or notification', async () => {
    const before = notified.length;
    // As if the snapshot were from before the history: the new replica replays every minute.
    await service.client.del(service.keys.detectorStates(SOURCE));
    await service.client.hset(service.keys.evaluation(SOURCE), 'snapshotMinute', historyStart - MINUTE_MS);
    const { evaluator: rerun } = evaluatorOver(service, config, events, {
      notify: (event, record) => Promise.resolve(void notified.push({ event, record })),
    });
    const [run] = await rerun.runOnce(60_000, now);
    expect(run).toMatchObject({ minutes: 4 * 60, started: 2, ended: 2 });
    expect(notified.length).toBe(before);
    expect((await findings.list({})).items).toHaveLength(2);
  }, 60_000);

  it('skips an account-region whose back-fill is still running', async () => {
    const other = { accountId: '210987654321', region: 'us-east-1' };
    const checkpoints = new CheckpointRepository(service.client, service.keys);
    await checkpoints.loadOrCreate(other, {
      liveUntil: now,
      backfillFrom: historyStart,
      backfillUntil: now,
      backfillCursor: now - MINUTE_MS,
      backfillDone: false,
    });
    await checkpoints.registerSources([other]);
    const runs = await evaluator.runOnce(10_000, now);
    expect(runs.find((r) => r.source.accountId === other.accountId)).toMatchObject({
      skipped: 'backfilling',
      minutes: 0,
    });
  }, 60_000);
});
